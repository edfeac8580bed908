//! Wall-clock helpers shared by the booking pages and services: bookings are local times in
//! Europe/Berlin, stored in UTC.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::validation::FieldErrors;

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

/// Europe/Berlin wall-clock time → UTC; a time skipped or repeated by the clock change is a
/// field error, not a guess.
pub fn local_to_utc(
    errs: &mut FieldErrors,
    field: &str,
    local: NaiveDateTime,
) -> Option<DateTime<Utc>> {
    match Berlin.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(..) => {
            errs.add_arg(
                field,
                "booking.err.local_ambiguous",
                Some(local.format("%H:%M")),
            );
            None
        }
        chrono::LocalResult::None => {
            errs.add_arg(field, "booking.err.local_gap", Some(local.format("%H:%M")));
            None
        }
    }
}
