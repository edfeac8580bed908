//! Public holidays of the 16 Länder and working-day deadlines, chosen per tenant (its
//! `land` setting) and used by every module: the Mängelmelder's answer deadline, booking
//! blackouts, the E-Akte's Wiedervorlage.
//!
//! Only statewide holidays count (Feiertagsgesetze of the Länder). Holidays that apply in
//! some municipalities only (Fronleichnam in parts of Saxony and Thuringia, Mariä Himmelfahrt
//! in Bavarian communities with a Catholic majority, the Augsburger Friedensfest) are not
//! included. Days are counted in Europe/Berlin; a deadline is the end of its day there.
//!
//! School holidays (Schulferien) per Land come from published data, not from a rule:
//! [`school_holidays`], [`is_school_holiday`] and [`school_years_known`] (see `school.rs`
//! and its data file `school_holidays.toml`).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use std::str::FromStr;

mod school;
pub use school::{
    SchoolBreak, SchoolHoliday, is_school_holiday, school_holidays, school_years_known,
};

/// A Bundesland, by its official two-letter code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Land {
    BW,
    BY,
    BE,
    BB,
    HB,
    HH,
    HE,
    MV,
    NI,
    NW,
    RP,
    SL,
    SN,
    ST,
    SH,
    TH,
}

use Land::*;

impl Land {
    pub const ALL: [Land; 16] = [
        BW, BY, BE, BB, HB, HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH,
    ];

    /// The code stored in the database and used in forms (`NW`).
    pub fn code(self) -> &'static str {
        match self {
            BW => "BW",
            BY => "BY",
            BE => "BE",
            BB => "BB",
            HB => "HB",
            HH => "HH",
            HE => "HE",
            MV => "MV",
            NI => "NI",
            NW => "NW",
            RP => "RP",
            SL => "SL",
            SN => "SN",
            ST => "ST",
            SH => "SH",
            TH => "TH",
        }
    }

    /// The translation key of its name (`land.NW` = "Nordrhein-Westfalen").
    pub fn name_key(self) -> String {
        format!("land.{}", self.code())
    }
}

impl FromStr for Land {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Land::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(s.trim()))
            .ok_or(())
    }
}

/// A public holiday: its date and a translation key of its name (`holiday.karfreitag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub key: &'static str,
}

/// Easter Sunday of `year` (Gregorian calendar; the anonymous Gregorian algorithm of
/// Meeus/Jones/Butcher). `None` only for years chrono cannot represent.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The statewide public holidays of `land` in `year`, sorted by date. Empty for years chrono
/// cannot represent.
pub fn public_holidays(land: Land, year: i32) -> Vec<Holiday> {
    let mut out = Vec::new();
    let mut fixed = |m: u32, d: u32, key: &'static str| {
        if let Some(date) = NaiveDate::from_ymd_opt(year, m, d) {
            out.push(Holiday { date, key });
        }
    };
    fixed(1, 1, "holiday.neujahr");
    if matches!(land, BW | BY | ST) {
        fixed(1, 6, "holiday.heilige_drei_koenige");
    }
    // Internationaler Frauentag: Berlin since 2019, Mecklenburg-Vorpommern since 2023.
    if (land == BE && year >= 2019) || (land == MV && year >= 2023) {
        fixed(3, 8, "holiday.frauentag");
    }
    fixed(5, 1, "holiday.tag_der_arbeit");
    if land == SL {
        fixed(8, 15, "holiday.mariae_himmelfahrt");
    }
    if land == TH && year >= 2019 {
        fixed(9, 20, "holiday.weltkindertag");
    }
    fixed(10, 3, "holiday.deutsche_einheit");
    // Reformationstag: the eastern Länder, and since 2018 the four northern ones.
    if matches!(land, BB | MV | SN | ST | TH) || (matches!(land, HB | HH | NI | SH) && year >= 2018)
    {
        fixed(10, 31, "holiday.reformationstag");
    }
    if matches!(land, BW | BY | NW | RP | SL) {
        fixed(11, 1, "holiday.allerheiligen");
    }
    fixed(12, 25, "holiday.weihnachten_1");
    fixed(12, 26, "holiday.weihnachten_2");
    if let Some(easter) = easter_sunday(year) {
        let mut moving = |offset: i64, key: &'static str| {
            if let Some(date) = easter.checked_add_signed(Duration::days(offset)) {
                out.push(Holiday { date, key });
            }
        };
        moving(-2, "holiday.karfreitag");
        if land == BB {
            moving(0, "holiday.ostersonntag");
        }
        moving(1, "holiday.ostermontag");
        moving(39, "holiday.himmelfahrt");
        if land == BB {
            moving(49, "holiday.pfingstsonntag");
        }
        moving(50, "holiday.pfingstmontag");
        if matches!(land, BW | BY | HE | NW | RP | SL) {
            moving(60, "holiday.fronleichnam");
        }
    }
    // Buß- und Bettag (Saxony): the Wednesday before 23 November.
    if land == SN
        && let Some(d23) = NaiveDate::from_ymd_opt(year, 11, 23)
    {
        let back =
            (d23.weekday().num_days_from_monday() + 7 - Weekday::Wed.num_days_from_monday()) % 7;
        let back = if back == 0 { 7 } else { back };
        if let Some(date) = d23.checked_sub_signed(Duration::days(i64::from(back))) {
            out.push(Holiday {
                date,
                key: "holiday.buss_und_bettag",
            });
        }
    }
    out.sort_by_key(|h| h.date);
    out
}

/// Monday to Friday and not a public holiday of `land`.
pub fn is_working_day(land: Land, d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
        && !public_holidays(land, d.year()).iter().any(|h| h.date == d)
}

/// The deadline `days` working days after `start`: the end (23:59:59 Europe/Berlin) of the
/// `days`-th working day of `land` after the Berlin calendar day of `start`. The day of
/// `start` itself never counts, whatever the hour, and `days == 0` gives the end of that day.
/// At the end of chrono's calendar the count stops at its last day.
pub fn add_working_days(land: Land, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let mut day = berlin_date(start);
    let mut year = day.year();
    let mut holidays: Vec<NaiveDate> = public_holidays(land, year).iter().map(|h| h.date).collect();
    let mut left = days;
    while left > 0 {
        let Some(next) = day.succ_opt() else { break };
        day = next;
        if day.year() != year {
            year = day.year();
            holidays = public_holidays(land, year).iter().map(|h| h.date).collect();
        }
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&day) {
            left -= 1;
        }
    }
    end_of_day_berlin(day)
}

/// The calendar day of `t` in Berlin (`with_timezone` would panic at the very end of
/// chrono's range; there the UTC day is close enough).
fn berlin_date(t: DateTime<Utc>) -> NaiveDate {
    let utc = t.naive_utc();
    let offset = Berlin
        .offset_from_utc_datetime(&utc)
        .fix()
        .local_minus_utc();
    utc.checked_add_signed(Duration::seconds(i64::from(offset)))
        .unwrap_or(utc)
        .date()
}

/// The first `hour` o'clock Europe/Berlin after `now`, at least `min_days` Berlin days on and
/// on `weekday` when one is given: when a recurring job (a daily or weekly mail) runs next.
/// A day whose hour does not exist locally (never at whole hours outside 02:00) is skipped.
pub fn next_run_berlin(
    now: DateTime<Utc>,
    hour: u32,
    min_days: u64,
    weekday: Option<Weekday>,
) -> DateTime<Utc> {
    let mut day = berlin_date(now) + chrono::Days::new(min_days);
    loop {
        let at = day
            .and_hms_opt(hour, 0, 0)
            .and_then(|t| Berlin.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc));
        let weekday_ok = weekday.is_none_or(|w| day.weekday() == w);
        match (at, day.succ_opt()) {
            (Some(t), _) if t > now && weekday_ok => return t,
            (_, Some(next)) => day = next,
            // The end of chrono's range: no later run exists; `now` keeps the caller total.
            (_, None) => return now,
        }
    }
}

/// 23:59:59 Berlin time on `day`, in UTC. That local time exists on every day (the DST
/// switches happen at night between 02:00 and 03:00), so the fallbacks are never taken in
/// practice; they only keep the function total.
fn end_of_day_berlin(day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
    match Berlin.from_local_datetime(&local).earliest() {
        Some(dt) => dt.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&local),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_run_is_the_next_local_hour_on_the_asked_weekday() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc));
        let now = at("2026-12-05T04:00:00Z").expect("time"); // Saturday 05:00 in Berlin
        // Today 06:00 Berlin is still ahead.
        assert_eq!(
            next_run_berlin(now, 6, 0, None),
            at("2026-12-05T05:00:00Z").expect("t")
        );
        // At least one day on: tomorrow.
        assert_eq!(
            next_run_berlin(now, 6, 1, None),
            at("2026-12-06T05:00:00Z").expect("t")
        );
        // The next Monday, in summer time too (UTC+2).
        assert_eq!(
            next_run_berlin(now, 6, 0, Some(Weekday::Mon)),
            at("2026-12-07T05:00:00Z").expect("t")
        );
        let summer = at("2027-06-01T10:00:00Z").expect("time"); // Tuesday
        assert_eq!(
            next_run_berlin(summer, 6, 1, Some(Weekday::Mon)),
            at("2027-06-07T04:00:00Z").expect("t")
        );
        // 2:00 does not exist on 28 March 2027 in Berlin: the run moves to the next day.
        let spring = at("2027-03-27T12:00:00Z").expect("time");
        assert_eq!(
            next_run_berlin(spring, 2, 1, None),
            at("2027-03-29T00:00:00Z").expect("t")
        );
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn nrw(year: i32) -> Vec<NaiveDate> {
        dates(NW, year)
    }

    fn dates(land: Land, year: i32) -> Vec<NaiveDate> {
        public_holidays(land, year).iter().map(|h| h.date).collect()
    }

    fn md(year: i32, list: &[(u32, u32)]) -> Vec<NaiveDate> {
        list.iter().map(|&(m, d)| date(year, m, d)).collect()
    }

    /// Bayern 2026 and 2027 (statewide; Mariä Himmelfahrt only in Catholic communities).
    #[test]
    fn bayern_2026_and_2027() {
        assert_eq!(
            dates(BY, 2026),
            md(
                2026,
                &[
                    (1, 1),
                    (1, 6),
                    (4, 3),
                    (4, 6),
                    (5, 1),
                    (5, 14),
                    (5, 25),
                    (6, 4),
                    (10, 3),
                    (11, 1),
                    (12, 25),
                    (12, 26)
                ]
            )
        );
        assert_eq!(
            dates(BY, 2027),
            md(
                2027,
                &[
                    (1, 1),
                    (1, 6),
                    (3, 26),
                    (3, 29),
                    (5, 1),
                    (5, 6),
                    (5, 17),
                    (5, 27),
                    (10, 3),
                    (11, 1),
                    (12, 25),
                    (12, 26)
                ]
            )
        );
    }

    /// Berlin 2026 and 2027: Frauentag on 8 March, no Fronleichnam or Allerheiligen.
    #[test]
    fn berlin_2026_and_2027() {
        assert_eq!(
            dates(BE, 2026),
            md(
                2026,
                &[
                    (1, 1),
                    (3, 8),
                    (4, 3),
                    (4, 6),
                    (5, 1),
                    (5, 14),
                    (5, 25),
                    (10, 3),
                    (12, 25),
                    (12, 26)
                ]
            )
        );
        assert_eq!(
            dates(BE, 2027),
            md(
                2027,
                &[
                    (1, 1),
                    (3, 8),
                    (3, 26),
                    (3, 29),
                    (5, 1),
                    (5, 6),
                    (5, 17),
                    (10, 3),
                    (12, 25),
                    (12, 26)
                ]
            )
        );
    }

    #[test]
    fn the_other_laender_have_their_own_days() {
        let has = |land, y, m, d| dates(land, y).contains(&date(y, m, d));
        // Buß- und Bettag in Saxony only: 18 November 2026, 17 November 2027.
        assert!(has(SN, 2026, 11, 18) && has(SN, 2027, 11, 17));
        assert!(!has(BE, 2026, 11, 18));
        // Reformationstag in the east and, since 2018, the north; not in NRW.
        for land in [BB, MV, SN, ST, TH, HB, HH, NI, SH] {
            assert!(has(land, 2026, 10, 31), "{land:?}");
        }
        assert!(!has(NW, 2026, 10, 31) && !has(HH, 2017, 10, 31));
        // Weltkindertag (Thuringia), Frauentag (MV since 2023), Mariä Himmelfahrt (Saarland).
        assert!(has(TH, 2026, 9, 20) && has(MV, 2026, 3, 8) && !has(MV, 2022, 3, 8));
        assert!(has(SL, 2026, 8, 15) && !has(BY, 2026, 8, 15));
        // Brandenburg names Easter and Whit Sunday; Heilige Drei Könige in BW, BY, ST.
        assert!(has(BB, 2026, 4, 5) && has(BB, 2026, 5, 24));
        assert!(has(ST, 2026, 1, 6) && !has(SN, 2026, 1, 6));
        // Every Land has the nine nationwide days.
        for land in Land::ALL {
            assert!(dates(land, 2026).len() >= 9, "{land:?}");
            assert_eq!(land.code().parse::<Land>(), Ok(land));
        }
        assert!("xx".parse::<Land>().is_err());
    }

    #[test]
    fn deadlines_follow_the_land() {
        // Monday 30 October 2028 + 1 working day: Saxony skips its Reformationstag (Tuesday),
        // NRW does not (its Allerheiligen on Wednesday comes after).
        let start = berlin(2028, 10, 30, 10, 0, 0);
        assert_eq!(
            add_working_days(SN, start, 1),
            berlin(2028, 11, 1, 23, 59, 59)
        );
        assert_eq!(
            add_working_days(NW, start, 1),
            berlin(2028, 10, 31, 23, 59, 59)
        );
    }

    /// A Berlin wall-clock time as UTC.
    fn berlin(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Berlin
            .with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap()
    }

    #[test]
    fn easter_dates() {
        assert_eq!(easter_sunday(2026), Some(date(2026, 4, 5)));
        assert_eq!(easter_sunday(2027), Some(date(2027, 3, 28)));
        assert_eq!(easter_sunday(2024), Some(date(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(date(2025, 4, 20)));
        assert_eq!(easter_sunday(2000), Some(date(2000, 4, 23)));
        // The extremes of the Gregorian computus: earliest 22 March, latest 25 April.
        assert_eq!(easter_sunday(2285), Some(date(2285, 3, 22)));
        assert_eq!(easter_sunday(2038), Some(date(2038, 4, 25)));
        assert_eq!(easter_sunday(1943), Some(date(1943, 4, 25)));
    }

    #[test]
    fn nrw_holidays_2026() {
        assert_eq!(
            nrw(2026),
            vec![
                date(2026, 1, 1),
                date(2026, 4, 3),
                date(2026, 4, 6),
                date(2026, 5, 1),
                date(2026, 5, 14),
                date(2026, 5, 25),
                date(2026, 6, 4),
                date(2026, 10, 3),
                date(2026, 11, 1),
                date(2026, 12, 25),
                date(2026, 12, 26),
            ]
        );
    }

    #[test]
    fn nrw_holidays_2027() {
        assert_eq!(
            nrw(2027),
            vec![
                date(2027, 1, 1),
                date(2027, 3, 26),
                date(2027, 3, 29),
                date(2027, 5, 1),
                date(2027, 5, 6),
                date(2027, 5, 17),
                date(2027, 5, 27),
                date(2027, 10, 3),
                date(2027, 11, 1),
                date(2027, 12, 25),
                date(2027, 12, 26),
            ]
        );
    }

    #[test]
    fn holidays_never_panic_at_the_edges() {
        for year in [i32::MIN, -1, 0, 1, 1582, 9999, 262_143, i32::MAX] {
            let days = nrw(year);
            assert!(days.windows(2).all(|w| w[0] < w[1]));
        }
        let _ = add_working_days(NW, DateTime::<Utc>::MAX_UTC, 5);
        let _ = add_working_days(NW, DateTime::<Utc>::MIN_UTC, 5);
    }

    #[test]
    fn working_days() {
        assert!(is_working_day(NW, date(2026, 3, 13))); // Friday
        assert!(!is_working_day(NW, date(2026, 3, 14))); // Saturday
        assert!(!is_working_day(NW, date(2026, 3, 15))); // Sunday
        assert!(!is_working_day(NW, date(2026, 4, 3))); // Karfreitag
        assert!(!is_working_day(NW, date(2026, 4, 6))); // Ostermontag
        assert!(!is_working_day(NW, date(2026, 6, 4))); // Fronleichnam (Thursday)
        assert!(is_working_day(NW, date(2026, 12, 24))); // Heiligabend is no public holiday
        assert!(!is_working_day(NW, date(2027, 3, 26))); // Karfreitag 2027
        assert!(!is_working_day(NW, date(2027, 5, 27))); // Fronleichnam 2027
        assert!(is_working_day(NW, date(2027, 5, 28)));
    }

    #[test]
    fn friday_afternoon_is_due_wednesday_night() {
        // Friday 13 March 2026, 16:00 CET → Wednesday 18 March, 23:59:59 CET (22:59:59 UTC).
        let due = add_working_days(NW, berlin(2026, 3, 13, 16, 0, 0), 3);
        assert_eq!(due, berlin(2026, 3, 18, 23, 59, 59));
        assert_eq!(due, utc(2026, 3, 18, 22, 59, 59));
    }

    #[test]
    fn the_berlin_day_counts_not_the_utc_day() {
        // 23:30 UTC on Thursday is already Friday 00:30 in Berlin.
        let due = add_working_days(NW, utc(2026, 3, 12, 23, 30, 0), 3);
        assert_eq!(due, berlin(2026, 3, 18, 23, 59, 59));
        // 23:30 Berlin on Thursday (22:30 UTC) is still Thursday.
        let due = add_working_days(NW, berlin(2026, 3, 12, 23, 30, 0), 3);
        assert_eq!(due, berlin(2026, 3, 17, 23, 59, 59));
    }

    #[test]
    fn weekend_reports_count_from_monday() {
        let due = add_working_days(NW, berlin(2026, 3, 14, 11, 0, 0), 3);
        assert_eq!(due, berlin(2026, 3, 18, 23, 59, 59));
        let due = add_working_days(NW, berlin(2026, 3, 15, 23, 59, 0), 1);
        assert_eq!(due, berlin(2026, 3, 16, 23, 59, 59));
    }

    #[test]
    fn easter_2026_is_skipped() {
        // Thursday 2 April 2026: Karfreitag, weekend, Ostermontag → Tue 7, Wed 8, Thu 9.
        let due = add_working_days(NW, berlin(2026, 4, 2, 10, 0, 0), 3);
        assert_eq!(due, berlin(2026, 4, 9, 23, 59, 59));
        // CEST: 21:59:59 UTC.
        assert_eq!(due, utc(2026, 4, 9, 21, 59, 59));
    }

    #[test]
    fn easter_2027_is_skipped() {
        // Wednesday 24 March 2027 → Thu 25 (1), Karfreitag, weekend, Ostermontag, Tue 30 (2),
        // Wed 31 (3).
        let due = add_working_days(NW, berlin(2027, 3, 24, 9, 0, 0), 3);
        assert_eq!(due, berlin(2027, 3, 31, 23, 59, 59));
    }

    #[test]
    fn dst_switches_move_the_utc_instant() {
        // Spring forward on Sunday 29 March 2026: Friday in CET, due Monday in CEST.
        let due = add_working_days(NW, berlin(2026, 3, 27, 12, 0, 0), 1);
        assert_eq!(due, utc(2026, 3, 30, 21, 59, 59));
        // Fall back on Sunday 25 October 2026: Friday in CEST, due Monday in CET.
        let due = add_working_days(NW, berlin(2026, 10, 23, 12, 0, 0), 1);
        assert_eq!(due, utc(2026, 10, 26, 22, 59, 59));
        // A report in the repeated hour of the fall-back night (02:30 CEST = 00:30 UTC).
        let due = add_working_days(NW, utc(2026, 10, 25, 0, 30, 0), 1);
        assert_eq!(due, berlin(2026, 10, 26, 23, 59, 59));
    }

    #[test]
    fn christmas_and_new_year() {
        // Thursday 24 December 2026: Christmas, weekend → Mon 28, Tue 29, Wed 30.
        let due = add_working_days(NW, berlin(2026, 12, 24, 8, 0, 0), 3);
        assert_eq!(due, berlin(2026, 12, 30, 23, 59, 59));
        // Wednesday 30 December 2026: Thu 31 (1), Neujahr, weekend, Mon 4 (2), Tue 5 (3).
        let due = add_working_days(NW, berlin(2026, 12, 30, 8, 0, 0), 3);
        assert_eq!(due, berlin(2027, 1, 5, 23, 59, 59));
    }

    #[test]
    fn zero_days_is_the_end_of_the_same_day() {
        let due = add_working_days(NW, berlin(2026, 5, 14, 9, 0, 0), 0);
        assert_eq!(due, berlin(2026, 5, 14, 23, 59, 59));
    }

    #[test]
    fn pentecost_and_corpus_christi_2026() {
        // Friday 22 May 2026: weekend, Pfingstmontag → Tue 26 (1) … Fri 29 (4), Mon 1 June (5),
        // Tue 2 (6), Wed 3 (7), Fronleichnam, Fri 5 (8).
        let due = add_working_days(NW, berlin(2026, 5, 22, 15, 0, 0), 8);
        assert_eq!(due, berlin(2026, 6, 5, 23, 59, 59));
    }

    // ---- School holidays -------------------------------------------------------------

    fn breaks(land: Land, year: i32) -> Vec<(SchoolBreak, NaiveDate, NaiveDate)> {
        school_holidays(land, year)
            .iter()
            .map(|b| (b.kind, b.first, b.last))
            .collect()
    }

    fn sb(
        kind: SchoolBreak,
        first: (i32, u32, u32),
        last: (i32, u32, u32),
    ) -> (SchoolBreak, NaiveDate, NaiveDate) {
        (
            kind,
            date(first.0, first.1, first.2),
            date(last.0, last.1, last.2),
        )
    }

    use SchoolBreak::{Autumn, Christmas, Easter, Summer, Whitsun, Winter};

    /// NRW as published by the KMK and the Schulministerium NRW.
    #[test]
    fn school_holidays_nrw_2026_and_2027() {
        assert_eq!(
            breaks(NW, 2026),
            vec![
                sb(Christmas, (2025, 12, 22), (2026, 1, 6)),
                sb(Easter, (2026, 3, 30), (2026, 4, 11)),
                sb(Whitsun, (2026, 5, 26), (2026, 5, 26)),
                sb(Summer, (2026, 7, 20), (2026, 9, 1)),
                sb(Autumn, (2026, 10, 17), (2026, 10, 31)),
                sb(Christmas, (2026, 12, 23), (2027, 1, 6)),
            ]
        );
        assert_eq!(
            breaks(NW, 2027),
            vec![
                sb(Christmas, (2026, 12, 23), (2027, 1, 6)),
                sb(Easter, (2027, 3, 22), (2027, 4, 3)),
                sb(Whitsun, (2027, 5, 18), (2027, 5, 18)),
                sb(Summer, (2027, 7, 19), (2027, 8, 31)),
                sb(Autumn, (2027, 10, 23), (2027, 11, 6)),
                sb(Christmas, (2027, 12, 24), (2028, 1, 8)),
            ]
        );
    }

    /// Bayern, with the school-free Buß- und Bettag in the autumn column as the KMK lists it.
    #[test]
    fn school_holidays_bayern_2026_and_2027() {
        assert_eq!(
            breaks(BY, 2026),
            vec![
                sb(Christmas, (2025, 12, 22), (2026, 1, 5)),
                sb(Winter, (2026, 2, 16), (2026, 2, 20)),
                sb(Easter, (2026, 3, 30), (2026, 4, 10)),
                sb(Whitsun, (2026, 5, 26), (2026, 6, 5)),
                sb(Summer, (2026, 8, 3), (2026, 9, 14)),
                sb(Autumn, (2026, 11, 2), (2026, 11, 6)),
                sb(Autumn, (2026, 11, 18), (2026, 11, 18)),
                sb(Christmas, (2026, 12, 24), (2027, 1, 8)),
            ]
        );
        assert_eq!(
            breaks(BY, 2027),
            vec![
                sb(Christmas, (2026, 12, 24), (2027, 1, 8)),
                sb(Winter, (2027, 2, 8), (2027, 2, 12)),
                sb(Easter, (2027, 3, 22), (2027, 4, 2)),
                sb(Whitsun, (2027, 5, 18), (2027, 5, 28)),
                sb(Summer, (2027, 8, 2), (2027, 9, 13)),
                sb(Autumn, (2027, 11, 2), (2027, 11, 5)),
                sb(Autumn, (2027, 11, 17), (2027, 11, 17)),
                sb(Christmas, (2027, 12, 24), (2028, 1, 7)),
            ]
        );
    }

    /// Berlin: Winterferien after the half-year reports, single days off around Ascension
    /// and Whitsun.
    #[test]
    fn school_holidays_berlin_2026_and_2027() {
        assert_eq!(
            breaks(BE, 2026),
            vec![
                sb(Christmas, (2025, 12, 22), (2026, 1, 2)),
                sb(Winter, (2026, 2, 2), (2026, 2, 7)),
                sb(Easter, (2026, 3, 30), (2026, 4, 10)),
                sb(Whitsun, (2026, 5, 15), (2026, 5, 15)),
                sb(Whitsun, (2026, 5, 26), (2026, 5, 26)),
                sb(Summer, (2026, 7, 9), (2026, 8, 22)),
                sb(Autumn, (2026, 10, 19), (2026, 10, 31)),
                sb(Christmas, (2026, 12, 23), (2027, 1, 2)),
            ]
        );
        assert_eq!(
            breaks(BE, 2027),
            vec![
                sb(Christmas, (2026, 12, 23), (2027, 1, 2)),
                sb(Winter, (2027, 2, 1), (2027, 2, 6)),
                sb(Easter, (2027, 3, 22), (2027, 4, 2)),
                sb(Whitsun, (2027, 5, 7), (2027, 5, 7)),
                sb(Whitsun, (2027, 5, 18), (2027, 5, 19)),
                sb(Summer, (2027, 7, 1), (2027, 8, 14)),
                sb(Autumn, (2027, 10, 11), (2027, 10, 23)),
                sb(Christmas, (2027, 12, 22), (2027, 12, 31)),
            ]
        );
    }

    #[test]
    fn school_holiday_lookup() {
        assert!(is_school_holiday(NW, date(2026, 7, 20))); // first day of summer
        assert!(is_school_holiday(NW, date(2026, 9, 1))); // last day, inclusive
        assert!(!is_school_holiday(NW, date(2026, 9, 2)));
        assert!(!is_school_holiday(NW, date(2026, 7, 19)));
        assert!(is_school_holiday(NW, date(2026, 1, 6))); // Christmas 2025/26 in January
        assert!(is_school_holiday(BY, date(2026, 11, 18))); // Buß- und Bettag
        assert!(!is_school_holiday(NW, date(2026, 11, 18)));
        // Same day, different Länder.
        assert!(is_school_holiday(BE, date(2026, 2, 3)));
        assert!(!is_school_holiday(BY, date(2026, 2, 3)));
        // No data is not a holiday, and the known years say so.
        assert!(!is_school_holiday(NW, date(2030, 8, 1)));
        assert!(school_holidays(NW, 2030).is_empty());
        assert_eq!(school_years_known(NW), Some(2026..=2027));
        assert_eq!(SchoolBreak::Summer.key(), "calendar.school.summer");
    }

    #[test]
    fn school_holiday_data_is_sound() {
        let parsed = school::SCHOOL_HOLIDAYS
            .as_ref()
            .expect("the data file parses");
        assert_eq!(parsed.len(), 16, "one entry per Land");
        for land in Land::ALL {
            let data = parsed.get(&land).expect("every Land has data");
            let known = school_years_known(land).expect("every Land has known years");
            assert!(known.contains(&2026) && known.contains(&2027), "{land:?}");
            // The known years are contiguous, so the range says exactly which they are.
            assert!(data.years.windows(2).all(|w| w[1] == w[0] + 1), "{land:?}");
            for year in known.clone() {
                let list = school_holidays(land, year);
                assert!(
                    list.iter()
                        .any(|b| b.kind == SchoolBreak::Summer && b.first.year() == year),
                    "{land:?} {year} has its summer break"
                );
                assert!(
                    list.iter()
                        .any(|b| b.kind == SchoolBreak::Christmas && b.first.year() == year),
                    "{land:?} {year} has its Christmas break"
                );
            }
            // The Christmas break that starts in December 2025 is there.
            assert!(
                school_holidays(land, 2026)
                    .first()
                    .is_some_and(|b| b.kind == SchoolBreak::Christmas && b.first.year() == 2025),
                "{land:?}"
            );
            for b in &data.breaks {
                assert!(b.first <= b.last, "{land:?} {b:?}");
                // A break is never longer than the summer break (about seven weeks).
                assert!((b.last - b.first).num_days() < 50, "{land:?} {b:?}");
            }
            // Sorted and not overlapping within one Land.
            for w in data.breaks.windows(2) {
                assert!(w[0].last < w[1].first, "{land:?} {:?} / {:?}", w[0], w[1]);
            }
            // school_holidays returns the breaks sorted.
            let y = school_holidays(land, 2027);
            assert!(y.windows(2).all(|w| w[0].first < w[1].first), "{land:?}");
        }
    }

    #[test]
    fn school_holiday_file_errors_are_reported() {
        assert!(school::parse("lands = 3").is_err());
        let unknown = r#"[lands.XX]
years = [2026]
breaks = []
"#;
        assert!(school::parse(unknown).is_err());
        let bad_kind = r#"[lands.NW]
years = [2026]
breaks = [{ kind = "spring", first = "2026-03-30", last = "2026-04-11" }]
"#;
        assert!(school::parse(bad_kind).is_err());
        let ok = r#"[lands.NW]
years = [2026]
breaks = [{ kind = "other", first = "2026-03-30", last = "2026-03-30" }]
"#;
        assert_eq!(school::parse(ok).map(|m| m.len()), Ok(1));
    }
}
