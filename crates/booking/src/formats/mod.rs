//! Pure encoders and decoders: iCalendar out (feeds, mail attachments) and in (blackout
//! import), the fee list as CSV and XLSX.

pub mod fees;
pub mod ical;
pub mod ics_import;
