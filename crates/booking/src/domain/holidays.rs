//! Blackouts taken over from the platform's holiday calendar (`rathaus_core::calendar`): which
//! days of the tenant's Land, and the stable UID per holiday that lets a second take-over
//! update its blackout instead of adding another.

use chrono::{Datelike, NaiveDate};
use rathaus_core::calendar::{Land, public_holidays, school_holidays};

/// The start of every UID this take-over writes; an .ics file's UIDs do not start so.
pub const CALENDAR_UID_PREFIX: &str = "rathaus-kalender:";

/// The years a take-over accepts (public holidays are computed; school holidays need data).
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Which holidays to take over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HolidayChoice {
    pub public: bool,
    pub school: bool,
}

/// One holiday as a blackout: whole local days `first` to `last` (inclusive), its UID and
/// the translation key of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPeriod {
    pub uid: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub name_key: &'static str,
}

/// The statewide public holidays of `land` in `year`, one day each.
pub fn public_holiday_periods(land: Land, year: i32) -> Vec<CalendarPeriod> {
    public_holidays(land, year)
        .into_iter()
        .map(|h| CalendarPeriod {
            uid: format!(
                "{CALENDAR_UID_PREFIX}feiertag:{}:{year}:{}",
                land.code(),
                h.key.strip_prefix("holiday.").unwrap_or(h.key)
            ),
            first: h.date,
            last: h.date,
            name_key: h.key,
        })
        .collect()
}

/// The school breaks of `land` that overlap `year` (a Christmas break reaching into it
/// included). A break is named by its kind, the year it starts and its place among the breaks
/// of that kind starting that year, so corrected dates update it rather than add one.
pub fn school_holiday_periods(land: Land, year: i32) -> Vec<CalendarPeriod> {
    school_holidays(land, year)
        .into_iter()
        .map(|b| {
            let start_year = b.first.year();
            let nth = school_holidays(land, start_year)
                .iter()
                .filter(|o| o.kind == b.kind && o.first.year() == start_year && o.first < b.first)
                .count()
                + 1;
            let kind = b.kind.key().rsplit('.').next().unwrap_or("other");
            CalendarPeriod {
                uid: format!(
                    "{CALENDAR_UID_PREFIX}schulferien:{}:{start_year}:{kind}:{nth}",
                    land.code()
                ),
                first: b.first,
                last: b.last,
                name_key: b.kind.key(),
            }
        })
        .collect()
}

/// The periods of `choice` for `land` and `year`: public holidays first, then school breaks.
pub fn periods(land: Land, year: i32, choice: HolidayChoice) -> Vec<CalendarPeriod> {
    let mut out = Vec::new();
    if choice.public {
        out.extend(public_holiday_periods(land, year));
    }
    if choice.school {
        out.extend(school_holiday_periods(land, year));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_stable_and_distinct() {
        let p = periods(
            Land::NW,
            2026,
            HolidayChoice {
                public: true,
                school: true,
            },
        );
        let again = periods(
            Land::NW,
            2026,
            HolidayChoice {
                public: true,
                school: true,
            },
        );
        assert_eq!(p, again);
        let mut uids: Vec<_> = p.iter().map(|p| p.uid.as_str()).collect();
        let n = uids.len();
        uids.sort_unstable();
        uids.dedup();
        assert_eq!(uids.len(), n, "{uids:?}");
        assert!(
            p.iter()
                .any(|p| p.uid == "rathaus-kalender:feiertag:NW:2026:karfreitag"
                    && p.first == NaiveDate::from_ymd_opt(2026, 4, 3).unwrap_or_default())
        );
        assert!(p.iter().all(|p| p.first <= p.last));
    }

    #[test]
    fn a_break_across_new_year_keeps_its_uid_in_both_years() {
        let a = school_holiday_periods(Land::NW, 2026);
        let b = school_holiday_periods(Land::NW, 2027);
        let across: Vec<_> = a
            .iter()
            .filter(|x| x.first.year() == 2026 && x.last.year() == 2027)
            .collect();
        assert!(!across.is_empty());
        for x in across {
            assert!(b.contains(x), "{x:?}");
        }
    }
}
