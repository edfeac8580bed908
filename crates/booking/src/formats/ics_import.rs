//! A small iCalendar (RFC 5545) reader for the blackout import: the VEVENTs of a file with
//! their dates, summary and UID (folded lines, escapes, DATE and DATE-TIME values with TZID,
//! DURATION instead of DTEND).

use crate::domain::time::midnight_utc;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;

/// The most events one import takes.
pub const MAX_IMPORT_EVENTS: usize = 5000;
/// The longest blackout (a little more than a year).
pub const MAX_DAYS: i64 = 400;

/// A date or date-time value of DTSTART/DTEND.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

/// The parts of a VEVENT a blackout needs.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub uid: String,
    pub summary: String,
    pub start: Option<When>,
    pub end: Option<When>,
    pub duration: Option<Duration>,
    /// Recurring events, overrides and cancelled events are not imported.
    pub unsupported: bool,
}

impl Event {
    /// [start, end) in UTC: dates from local midnights (DTEND exclusive; one day without it),
    /// date-times as given. None for an event without a usable period.
    pub fn period(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if self.unsupported || self.uid.is_empty() {
            return None;
        }
        let (s, e) = match (self.start?, self.end) {
            (When::Date(s), Some(When::Date(e))) => (midnight_utc(s), midnight_utc(e)),
            (When::Date(s), None) => {
                let days = self.duration.map_or(1, |d| d.num_days().max(1));
                (midnight_utc(s), midnight_utc(s + Duration::days(days)))
            }
            (When::Time(s), Some(When::Time(e))) => (s, e),
            (When::Time(s), None) => (s, s + self.duration?),
            // Mixed value types are not valid iCalendar.
            _ => return None,
        };
        (e > s && e - s <= Duration::days(MAX_DAYS)).then_some((s, e))
    }
}

/// Undoes line folding (RFC 5545 3.1): a line break followed by a space or tab continues the
/// line. Accepts CRLF and bare LF, as files in the wild use both.
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some(last) = lines.last_mut()
        {
            last.push_str(rest);
            continue;
        }
        if !raw.is_empty() {
            lines.push(raw.to_string());
        }
    }
    lines
}

/// Splits a content line into upper-case name, parameters (upper-case names) and value; the
/// first colon outside a quoted parameter value ends the parameters.
/// Upper-case parameter names and their values.
type Params = Vec<(String, String)>;

fn split_line(line: &str) -> Option<(String, Params, &str)> {
    let mut in_quotes = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim().to_ascii_uppercase();
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_uppercase(),
                v.trim_matches('"').to_string(),
            )
        })
        .collect();
    Some((name, params, value))
}

/// Undoes TEXT escaping (RFC 5545 3.3.11).
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(x) => out.push(x),
                None => {}
            }
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// A DTSTART/DTEND value: `VALUE=DATE` or 8 digits is a date; a date-time is UTC with `Z`,
/// else local to its TZID (an unknown or Windows zone name counts as Europe/Berlin, as does
/// a floating time).
fn parse_when(params: &[(String, String)], v: &str) -> Option<When> {
    let v = v.trim();
    let is_date = params
        .iter()
        .any(|(k, x)| k == "VALUE" && x.eq_ignore_ascii_case("DATE"))
        || v.len() == 8;
    if is_date {
        return NaiveDate::parse_from_str(v.get(..8)?, "%Y%m%d")
            .ok()
            .map(When::Date);
    }
    if let Some(z) = v.strip_suffix(['Z', 'z']) {
        let t = NaiveDateTime::parse_from_str(z, "%Y%m%dT%H%M%S").ok()?;
        return Some(When::Time(Utc.from_utc_datetime(&t)));
    }
    let t = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok()?;
    let tz: chrono_tz::Tz = params
        .iter()
        .find(|(k, _)| k == "TZID")
        .and_then(|(_, z)| z.trim_start_matches('/').parse().ok())
        .unwrap_or(Berlin);
    // The earlier of a repeated time; a skipped one as if the clock had not changed yet.
    let at = tz
        .from_local_datetime(&t)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(t + Duration::hours(1))).earliest())?;
    Some(When::Time(at.with_timezone(&Utc)))
}

/// A DURATION value such as `P1D`, `PT2H30M` or `P2W` (RFC 5545 3.3.6); no sign.
fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim().strip_prefix('+').unwrap_or(v.trim());
    let rest = v.strip_prefix('P')?;
    let mut total = Duration::zero();
    let mut num = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => num.push(c),
            'T' => {}
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                any = true;
                total += match c {
                    'W' => Duration::weeks(n.min(1000)),
                    'D' => Duration::days(n.min(10_000)),
                    'H' => Duration::hours(n.min(1_000_000)),
                    'M' => Duration::minutes(n.min(100_000_000)),
                    _ => Duration::seconds(n.min(10_000_000_000)),
                };
            }
            _ => return None,
        }
    }
    (any && num.is_empty()).then_some(total)
}

/// The VEVENTs of an iCalendar file. Errors are translation keys: not a calendar (not UTF-8,
/// no VCALENDAR), no events, too many events. Events without a UID get one made of their
/// start and summary, so that a repeated import still matches them.
pub fn parse_events(bytes: &[u8]) -> std::result::Result<Vec<Event>, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "booking.blackouts.err.not_calendar")?;
    let text = text.trim_start_matches('\u{feff}');
    let lines = unfold(text);
    let first = lines.iter().find(|l| !l.trim().is_empty());
    if !first.is_some_and(|l| l.trim().eq_ignore_ascii_case("BEGIN:VCALENDAR")) {
        return Err("booking.blackouts.err.not_calendar");
    }
    let mut events = vec![];
    // Names of the open components; a VEVENT is read only directly inside a VCALENDAR.
    let mut stack: Vec<String> = vec![];
    let mut ev: Option<Event> = None;
    for line in &lines {
        let Some((name, params, value)) = split_line(line) else {
            continue;
        };
        match name.as_str() {
            "BEGIN" => {
                let comp = value.trim().to_ascii_uppercase();
                if comp == "VEVENT" && stack.len() == 1 && ev.is_none() {
                    ev = Some(Event::default());
                }
                stack.push(comp);
            }
            "END" => {
                let comp = value.trim().to_ascii_uppercase();
                if comp == "VEVENT"
                    && stack.len() == 2
                    && let Some(mut e) = ev.take()
                {
                    if e.uid.is_empty() {
                        e.uid = synthetic_uid(&e);
                    }
                    events.push(e);
                    if events.len() > MAX_IMPORT_EVENTS {
                        return Err("booking.blackouts.err.too_many");
                    }
                }
                stack.pop();
            }
            // Properties of nested components (VALARM) are not the event's.
            _ if stack.len() != 2 => {}
            prop => {
                let Some(e) = ev.as_mut() else { continue };
                match prop {
                    "UID" => e.uid = unescape(value).trim().chars().take(255).collect(),
                    "SUMMARY" => e.summary = unescape(value),
                    "DTSTART" => {
                        e.start = parse_when(&params, value);
                        e.unsupported |= e.start.is_none();
                    }
                    "DTEND" => e.end = parse_when(&params, value),
                    "DURATION" => e.duration = parse_duration(value),
                    "RRULE" | "RDATE" | "RECURRENCE-ID" => e.unsupported = true,
                    "STATUS" if value.trim().eq_ignore_ascii_case("CANCELLED") => {
                        e.unsupported = true
                    }
                    _ => {}
                }
            }
        }
    }
    if events.is_empty() {
        return Err("booking.blackouts.err.no_events");
    }
    Ok(events)
}

fn synthetic_uid(e: &Event) -> String {
    let basis = format!("{:?}|{:?}|{}", e.start, e.end, e.summary);
    format!("ohne-uid-{}", &rathaus_store::sha256_hex(&basis)[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_day_events_and_date_times() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a@x\r\n\
                   DTSTART;VALUE=DATE:20261012\r\nDTEND;VALUE=DATE:20261024\r\n\
                   SUMMARY:Herbstferien\\, NRW\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\n\
                   DTSTART;TZID=Europe/Berlin:20261103T080000\r\nDURATION:PT4H\r\n\
                   SUMMARY:Wartung\r\n Heizung\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:r\r\n\
                   DTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\n\
                   END:VCALENDAR\r\n";
        let ev = parse_events(ics.as_bytes()).unwrap();
        assert_eq!(ev.len(), 3);
        let (s, e) = ev[0].period().unwrap();
        assert_eq!(s.to_rfc3339(), "2026-10-11T22:00:00+00:00");
        // The exclusive end: local midnight of 24 October, still summer time.
        assert_eq!(e.to_rfc3339(), "2026-10-23T22:00:00+00:00");
        assert_eq!(ev[0].summary, "Herbstferien, NRW");
        assert_eq!(ev[1].summary, "WartungHeizung");
        let (s, e) = ev[1].period().unwrap();
        assert_eq!(s.to_rfc3339(), "2026-11-03T07:00:00+00:00");
        assert_eq!(e - s, Duration::hours(4));
        assert!(ev[1].uid.starts_with("ohne-uid-"));
        assert!(ev[2].period().is_none());
    }

    #[test]
    fn refuses_what_is_no_calendar() {
        assert_eq!(
            parse_events(b"Hallo").unwrap_err(),
            "booking.blackouts.err.not_calendar"
        );
        assert_eq!(
            parse_events(&[0xff, 0xfe, 0x00]).unwrap_err(),
            "booking.blackouts.err.not_calendar"
        );
        assert_eq!(
            parse_events(b"BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n").unwrap_err(),
            "booking.blackouts.err.no_events"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("P1D"), Some(Duration::days(1)));
        assert_eq!(parse_duration("PT2H30M"), Some(Duration::minutes(150)));
        assert_eq!(parse_duration("P2W"), Some(Duration::weeks(2)));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("1D"), None);
    }
}
