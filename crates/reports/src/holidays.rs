//! Public holidays of North Rhine-Westphalia and working-day deadlines.
//!
//! The answer deadline of a report (issue 3: "binding answer within 3 working days", as
//! Maerker Brandenburg promises) counts working days: Monday to Friday, except the NRW
//! public holidays (Feiertagsgesetz NW §2). Days are counted in Europe/Berlin, whatever the
//! UTC instant says, and a deadline is the end of its day in Berlin (23:59:59 local time),
//! so daylight saving time moves the UTC instant, never the local one.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;

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

/// The public holidays of NRW in `year`, sorted: Neujahr, Karfreitag, Ostermontag, Tag der
/// Arbeit, Christi Himmelfahrt, Pfingstmontag, Fronleichnam, Tag der Deutschen Einheit,
/// Allerheiligen, 1. and 2. Weihnachtstag. (Easter and Whit Sunday are Sundays anyway.)
/// Empty for years chrono cannot represent.
pub fn nrw_holidays(year: i32) -> Vec<NaiveDate> {
    let fixed = [(1, 1), (5, 1), (10, 3), (11, 1), (12, 25), (12, 26)];
    let mut days: Vec<NaiveDate> = fixed
        .iter()
        .filter_map(|&(m, d)| NaiveDate::from_ymd_opt(year, m, d))
        .collect();
    if let Some(easter) = easter_sunday(year) {
        // Karfreitag, Ostermontag, Christi Himmelfahrt, Pfingstmontag, Fronleichnam.
        for offset in [-2, 1, 39, 50, 60] {
            if let Some(d) = easter.checked_add_signed(Duration::days(offset)) {
                days.push(d);
            }
        }
    }
    days.sort_unstable();
    days
}

/// Monday to Friday and not an NRW public holiday.
pub fn is_working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !nrw_holidays(d.year()).contains(&d)
}

/// The deadline `days` working days after `start`: the end (23:59:59 Europe/Berlin) of the
/// `days`-th working day after the Berlin calendar day of `start`. The day of `start` itself
/// never counts, whatever the hour, and `days == 0` gives the end of that day.
///
/// Example: a report on Friday at 16:00 with 3 working days is due on Wednesday at 23:59:59
/// Berlin time; one on the Thursday before Easter skips Karfreitag, the weekend and
/// Ostermontag. Meant for configured deadlines of a few days or weeks; at the end of chrono's
/// calendar the count stops at its last day.
pub fn add_working_days(start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let mut day = berlin_date(start);
    let mut year = day.year();
    let mut holidays = nrw_holidays(year);
    let mut left = days;
    while left > 0 {
        let Some(next) = day.succ_opt() else { break };
        day = next;
        if day.year() != year {
            year = day.year();
            holidays = nrw_holidays(year);
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

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
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
            nrw_holidays(2026),
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
            nrw_holidays(2027),
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
            let days = nrw_holidays(year);
            assert!(days.windows(2).all(|w| w[0] < w[1]));
        }
        let _ = add_working_days(DateTime::<Utc>::MAX_UTC, 5);
        let _ = add_working_days(DateTime::<Utc>::MIN_UTC, 5);
    }

    #[test]
    fn working_days() {
        assert!(is_working_day(date(2026, 3, 13))); // Friday
        assert!(!is_working_day(date(2026, 3, 14))); // Saturday
        assert!(!is_working_day(date(2026, 3, 15))); // Sunday
        assert!(!is_working_day(date(2026, 4, 3))); // Karfreitag
        assert!(!is_working_day(date(2026, 4, 6))); // Ostermontag
        assert!(!is_working_day(date(2026, 6, 4))); // Fronleichnam (Thursday)
        assert!(is_working_day(date(2026, 12, 24))); // Heiligabend is no public holiday
        assert!(!is_working_day(date(2027, 3, 26))); // Karfreitag 2027
        assert!(!is_working_day(date(2027, 5, 27))); // Fronleichnam 2027
        assert!(is_working_day(date(2027, 5, 28)));
    }

    #[test]
    fn friday_afternoon_is_due_wednesday_night() {
        // Friday 13 March 2026, 16:00 CET → Wednesday 18 March, 23:59:59 CET (22:59:59 UTC).
        let due = add_working_days(berlin(2026, 3, 13, 16, 0, 0), 3);
        assert_eq!(due, berlin(2026, 3, 18, 23, 59, 59));
        assert_eq!(due, utc(2026, 3, 18, 22, 59, 59));
    }

    #[test]
    fn the_berlin_day_counts_not_the_utc_day() {
        // 23:30 UTC on Thursday is already Friday 00:30 in Berlin.
        let due = add_working_days(utc(2026, 3, 12, 23, 30, 0), 3);
        assert_eq!(due, berlin(2026, 3, 18, 23, 59, 59));
        // 23:30 Berlin on Thursday (22:30 UTC) is still Thursday.
        let due = add_working_days(berlin(2026, 3, 12, 23, 30, 0), 3);
        assert_eq!(due, berlin(2026, 3, 17, 23, 59, 59));
    }

    #[test]
    fn weekend_reports_count_from_monday() {
        let due = add_working_days(berlin(2026, 3, 14, 11, 0, 0), 3);
        assert_eq!(due, berlin(2026, 3, 18, 23, 59, 59));
        let due = add_working_days(berlin(2026, 3, 15, 23, 59, 0), 1);
        assert_eq!(due, berlin(2026, 3, 16, 23, 59, 59));
    }

    #[test]
    fn easter_2026_is_skipped() {
        // Thursday 2 April 2026: Karfreitag, weekend, Ostermontag → Tue 7, Wed 8, Thu 9.
        let due = add_working_days(berlin(2026, 4, 2, 10, 0, 0), 3);
        assert_eq!(due, berlin(2026, 4, 9, 23, 59, 59));
        // CEST: 21:59:59 UTC.
        assert_eq!(due, utc(2026, 4, 9, 21, 59, 59));
    }

    #[test]
    fn easter_2027_is_skipped() {
        // Wednesday 24 March 2027 → Thu 25 (1), Karfreitag, weekend, Ostermontag, Tue 30 (2),
        // Wed 31 (3).
        let due = add_working_days(berlin(2027, 3, 24, 9, 0, 0), 3);
        assert_eq!(due, berlin(2027, 3, 31, 23, 59, 59));
    }

    #[test]
    fn dst_switches_move_the_utc_instant() {
        // Spring forward on Sunday 29 March 2026: Friday in CET, due Monday in CEST.
        let due = add_working_days(berlin(2026, 3, 27, 12, 0, 0), 1);
        assert_eq!(due, utc(2026, 3, 30, 21, 59, 59));
        // Fall back on Sunday 25 October 2026: Friday in CEST, due Monday in CET.
        let due = add_working_days(berlin(2026, 10, 23, 12, 0, 0), 1);
        assert_eq!(due, utc(2026, 10, 26, 22, 59, 59));
        // A report in the repeated hour of the fall-back night (02:30 CEST = 00:30 UTC).
        let due = add_working_days(utc(2026, 10, 25, 0, 30, 0), 1);
        assert_eq!(due, berlin(2026, 10, 26, 23, 59, 59));
    }

    #[test]
    fn christmas_and_new_year() {
        // Thursday 24 December 2026: Christmas, weekend → Mon 28, Tue 29, Wed 30.
        let due = add_working_days(berlin(2026, 12, 24, 8, 0, 0), 3);
        assert_eq!(due, berlin(2026, 12, 30, 23, 59, 59));
        // Wednesday 30 December 2026: Thu 31 (1), Neujahr, weekend, Mon 4 (2), Tue 5 (3).
        let due = add_working_days(berlin(2026, 12, 30, 8, 0, 0), 3);
        assert_eq!(due, berlin(2027, 1, 5, 23, 59, 59));
    }

    #[test]
    fn zero_days_is_the_end_of_the_same_day() {
        let due = add_working_days(berlin(2026, 5, 14, 9, 0, 0), 0);
        assert_eq!(due, berlin(2026, 5, 14, 23, 59, 59));
    }

    #[test]
    fn pentecost_and_corpus_christi_2026() {
        // Friday 22 May 2026: weekend, Pfingstmontag → Tue 26 (1) … Fri 29 (4), Mon 1 June (5),
        // Tue 2 (6), Wed 3 (7), Fronleichnam, Fri 5 (8).
        let due = add_working_days(berlin(2026, 5, 22, 15, 0, 0), 8);
        assert_eq!(due, berlin(2026, 6, 5, 23, 59, 59));
    }
}
