//! Wall-clock helpers shared by the booking pages and services: bookings are local times in
//! Europe/Berlin, stored in UTC.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;

/// Today's date in Europe/Berlin.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&Berlin).date_naive()
}

/// The Monday of the week containing `d`.
pub fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// Local midnight of `d` as UTC; midnight always exists in Europe/Berlin (the clocks change
/// at 02:00/03:00).
pub fn midnight_utc(d: NaiveDate) -> DateTime<Utc> {
    let local = d.and_time(NaiveTime::MIN);
    Berlin
        .from_local_datetime(&local)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
}
