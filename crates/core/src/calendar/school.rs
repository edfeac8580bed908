//! School holidays (Schulferien) of the 16 Länder. They cannot be computed: each Land's
//! ministry fixes them and the KMK publishes them. The dates live in
//! `school_holidays.toml` beside this file (with its sources), compiled in and parsed once.

use super::Land;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::LazyLock;

/// The kind of a school break, as the KMK tables group them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchoolBreak {
    /// Winter or half-year break (Winterferien, Frühjahrsferien in Bayern, Halbjahrespause).
    Winter,
    /// Easter or spring break (Osterferien; Hamburg's Frühjahrsferien in March).
    Easter,
    /// The KMK column "Himmelfahrt/Pfingsten": Pfingstferien and the days off around
    /// Ascension Day.
    Whitsun,
    Summer,
    Autumn,
    Christmas,
    Other,
}

impl SchoolBreak {
    /// The translation key of its name (`calendar.school.summer` = "Sommerferien").
    pub fn key(self) -> &'static str {
        match self {
            SchoolBreak::Winter => "calendar.school.winter",
            SchoolBreak::Easter => "calendar.school.easter",
            SchoolBreak::Whitsun => "calendar.school.whitsun",
            SchoolBreak::Summer => "calendar.school.summer",
            SchoolBreak::Autumn => "calendar.school.autumn",
            SchoolBreak::Christmas => "calendar.school.christmas",
            SchoolBreak::Other => "calendar.school.other",
        }
    }
}

/// One school break: `first` to `last`, both days inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct SchoolHoliday {
    pub kind: SchoolBreak,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl SchoolHoliday {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.first <= d && d <= self.last
    }
}

/// The school holidays of one Land: the complete calendar years and the breaks, sorted.
#[derive(Debug, Deserialize)]
pub(crate) struct LandData {
    pub(crate) years: Vec<i32>,
    pub(crate) breaks: Vec<SchoolHoliday>,
}

#[derive(Debug, Deserialize)]
struct FileData {
    lands: HashMap<String, LandData>,
}

pub(crate) const DATA: &str = include_str!("school_holidays.toml");

/// The parsed data file, keyed by Land; an error only if the compiled-in file is broken
/// (a test parses it, so a release never ships one).
pub(crate) static SCHOOL_HOLIDAYS: LazyLock<Result<HashMap<Land, LandData>, String>> =
    LazyLock::new(|| parse(DATA));

pub(crate) fn parse(text: &str) -> Result<HashMap<Land, LandData>, String> {
    let file: FileData = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    for (code, mut data) in file.lands {
        let land: Land = code
            .parse()
            .map_err(|()| format!("unknown Land code {code:?}"))?;
        data.breaks.sort_by_key(|b| (b.first, b.last));
        data.years.sort_unstable();
        out.insert(land, data);
    }
    Ok(out)
}

fn land_data(land: Land) -> Option<&'static LandData> {
    SCHOOL_HOLIDAYS.as_ref().ok()?.get(&land)
}

/// The school breaks of `land` that overlap `year`, sorted by first day. Empty both for a
/// year without data and for one without breaks: [`school_years_known`] tells them apart.
pub fn school_holidays(land: Land, year: i32) -> Vec<SchoolHoliday> {
    let Some(data) = land_data(land) else {
        return Vec::new();
    };
    data.breaks
        .iter()
        .filter(|b| b.first.year() <= year && year <= b.last.year())
        .copied()
        .collect()
}

/// Whether `date` lies in a school break of `land` (false where there is no data; see
/// [`school_years_known`]).
pub fn is_school_holiday(land: Land, date: NaiveDate) -> bool {
    land_data(land).is_some_and(|data| data.breaks.iter().any(|b| b.contains(date)))
}

/// The calendar years for which the school holidays of `land` are complete. `None` where
/// there are none. Breaks reaching into the years on either side (a Christmas break) are
/// known too, but those years are not complete.
pub fn school_years_known(land: Land) -> Option<RangeInclusive<i32>> {
    let years = &land_data(land)?.years;
    Some(*years.first()?..=*years.last()?)
}
