//! The iCalendar (RFC 5545) writer of the feeds and mail attachments: plain data in, text
//! out. Times are Europe/Berlin wall-clock times (`DTSTART;TZID=Europe/Berlin`, with a
//! VTIMEZONE) so that a weekly 18:00 series stays at 18:00 across the clock changes. A series
//! is one VEVENT with RRULE and EXDATE; occurrences whose status or length differs from the
//! series become RECURRENCE-ID overrides, moved ones (their original start is an EXDATE)
//! events of their own. Cancelled and rejected bookings stay in the feed as
//! `STATUS:CANCELLED`, so that subscribed calendars remove them.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use crate::domain::ReservationStatus;

pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";
pub const PRODID: &str = "-//Rathaus//Ressourcenbuchung//DE";
pub const TZID: &str = "Europe/Berlin";
/// How many occurrences of one series a feed expands at most (the series service refuses
/// rules with more than 1,000).
pub const MAX_OCCURRENCES: u16 = 1000;

/// Who reads a feed: the public sees busy blocks only, token holders see titles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Public,
    Private,
}

/// One booking as a feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub resource_id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub series_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub sequence: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One series as a feed shows it: its rule in Europe/Berlin wall-clock time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesEvent {
    pub id: i64,
    pub resource_id: i64,
    pub title: String,
    /// `YYYY-MM-DDTHH:MM`, local time.
    pub dtstart_local: String,
    pub duration_minutes: i32,
    pub rrule: String,
    /// Comma-separated local times like `dtstart_local`.
    pub exdates: String,
    pub status: String,
    pub sequence: i32,
    pub organisation_id: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

/// Everything one feed shows.
#[derive(Debug, Clone)]
pub struct FeedData {
    /// The calendar's name (NAME / X-WR-CALNAME).
    pub name: String,
    pub view: View,
    /// The window: bookings ending before `from` or starting after `to` are left out.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Single bookings and the occurrences of the series below, by start.
    pub reservations: Vec<Event>,
    pub series: Vec<SeriesEvent>,
    /// Resource names for LOCATION.
    pub resources: HashMap<i64, String>,
    /// Organisations whose name may appear in the public view (`public_name`).
    pub public_orgs: HashMap<i64, String>,
    /// The SUMMARY of a busy block in the public view ("Belegt").
    pub busy_label: String,
}

/// How far back and ahead a feed reaches.
pub const FEED_DAYS_BACK: i64 = 30;
pub const FEED_DAYS_AHEAD: i64 = 366;

pub fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        now - Duration::days(FEED_DAYS_BACK),
        now + Duration::days(FEED_DAYS_AHEAD),
    )
}

// ---------------------------------------------------------------- serializer

/// Escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks;
/// other control characters (not allowed in TEXT) are dropped, tabs kept.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Longest line in octets, without the CRLF (RFC 5545 3.1).
pub const MAX_OCTETS: usize = 75;

/// Appends one content line, folded so that no line exceeds 75 octets (a continuation line
/// starts with one space, which counts), never inside a UTF-8 character; ends with CRLF.
pub fn push_line(out: &mut String, line: &str) {
    // Most lines are short: no folding to look for.
    if line.len() <= MAX_OCTETS {
        out.push_str(line);
        out.push_str("\r\n");
        return;
    }
    let mut len = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if len + n > MAX_OCTETS {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += n;
    }
    out.push_str("\r\n");
}

/// A UTC date-time in iCalendar's basic format, e.g. `20270301T170000Z`.
pub fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A local date-time in iCalendar's basic format, e.g. `20270301T180000`.
pub fn local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// `NAME;TZID=Europe/Berlin:<local>` for an instant, or `NAME:<utc>Z` for the rare instant
/// whose wall-clock time is ambiguous (the repeated autumn hour), which TZID cannot express.
pub fn dt_prop(name: &str, t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&Berlin).naive_local();
    match Berlin.from_local_datetime(&l) {
        chrono::LocalResult::Single(_) => format!("{name};TZID={TZID}:{}", local(l)),
        _ => format!("{name}:{}", utc(t)),
    }
}

/// Europe/Berlin with the EU rules since 1996: last Sunday of March 02:00 → 03:00, last
/// Sunday of October 03:00 → 02:00.
pub const VTIMEZONE: &[&str] = &[
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "X-LIC-LOCATION:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

/// RFC 5545 STATUS of a booking status; rejected requests leave calendars like cancelled
/// ones.
pub fn ical_status(status: &str) -> &'static str {
    match status.parse() {
        Ok(ReservationStatus::Confirmed) => "CONFIRMED",
        Ok(ReservationStatus::Cancelled | ReservationStatus::Rejected) => "CANCELLED",
        Ok(ReservationStatus::Requested) | Err(_) => "TENTATIVE",
    }
}

/// The series' local start `YYYY-MM-DDTHH:MM`.
fn parse_local(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// A local time as UTC (the earlier instant of an ambiguous one; a skipped one as if the
/// clock had not changed yet).
fn berlin_to_utc(l: NaiveDateTime) -> DateTime<Utc> {
    match Berlin.from_local_datetime(&l) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => Berlin
            .from_local_datetime(&(l + Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&l), |t| t.with_timezone(&Utc)),
    }
}

/// The stored RRULE as it goes into a feed with a TZID start: UNTIL in UTC as RFC 5545
/// 3.3.10 demands (a stored date means the end of that local day). None for a value that is
/// no plausible RRULE (it never reaches the feed).
pub fn normalise_rrule(rule: &str) -> Option<String> {
    let rule = rule.trim();
    let rule = rule.strip_prefix("RRULE:").unwrap_or(rule);
    if rule.is_empty()
        || !rule
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b";=,+-:".contains(&b))
    {
        return None;
    }
    let mut parts = Vec::new();
    for part in rule.split(';').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=')?;
        let k = k.to_ascii_uppercase();
        if k == "UNTIL" {
            let until = if let Ok(d) = NaiveDate::parse_from_str(v, "%Y%m%d") {
                berlin_to_utc(d.and_hms_opt(23, 59, 59)?)
            } else if let Some(z) = v.strip_suffix('Z') {
                Utc.from_utc_datetime(&NaiveDateTime::parse_from_str(z, "%Y%m%dT%H%M%S").ok()?)
            } else {
                berlin_to_utc(NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok()?)
            };
            parts.push(format!("UNTIL={}", utc(until)));
        } else {
            parts.push(format!("{k}={}", v.to_ascii_uppercase()));
        }
    }
    Some(parts.join(";"))
}

/// The local starts of a series (EXDATEs not yet removed), at most `MAX_OCCURRENCES`.
pub fn occurrences(start: NaiveDateTime, rule: &str) -> Option<Vec<NaiveDateTime>> {
    let text = format!("DTSTART;TZID={TZID}:{}\nRRULE:{rule}", local(start));
    let set: rrule::RRuleSet = text.parse().ok()?;
    Some(
        set.all(MAX_OCCURRENCES)
            .dates
            .into_iter()
            .map(|d| d.naive_local())
            .collect(),
    )
}

struct Lines<'a> {
    out: &'a mut String,
    buf: String,
}

impl Lines<'_> {
    fn put(&mut self, args: std::fmt::Arguments) {
        self.buf.clear();
        let _ = self.buf.write_fmt(args);
        push_line(self.out, &self.buf);
    }
}

impl FeedData {
    fn summary(&self, title: &str, org: Option<i64>) -> String {
        match self.view {
            View::Private => escape_text(title),
            View::Public => match org.and_then(|o| self.public_orgs.get(&o)) {
                Some(name) => escape_text(name),
                None => self.busy_label.clone(),
            },
        }
    }

    fn location(&self, resource_id: i64) -> Option<String> {
        self.resources.get(&resource_id).map(|n| escape_text(n))
    }
}

/// A series as its feed shows it: the master and the overrides of single occurrences.
struct SeriesOut<'a> {
    s: &'a SeriesEvent,
    start: NaiveDateTime,
    rule: String,
    exdates: Vec<NaiveDateTime>,
    /// (RECURRENCE-ID, the occurrence's reservation) where it differs from the rule.
    overrides: Vec<(NaiveDateTime, &'a Event)>,
}

/// Matches the series' reservations to its occurrences. A reservation at an occurrence's
/// start is that occurrence (an override if its status or length differs). One elsewhere was
/// moved: the series service put its original start into EXDATE, so it is returned as
/// unmatched and written as an event of its own (like an RDATE), which every client reads
/// the same way.
fn match_series<'a>(
    out: &mut SeriesOut<'a>,
    occ: &[NaiveDateTime],
    mine: &[&'a Event],
) -> Vec<&'a Event> {
    let duration = Duration::minutes(i64::from(out.s.duration_minutes));
    let set: HashSet<NaiveDateTime> = occ.iter().copied().collect();
    let mut taken: HashSet<NaiveDateTime> = HashSet::new();
    let mut unmatched = vec![];
    for r in mine {
        let l = r.starts_at.with_timezone(&Berlin).naive_local();
        if set.contains(&l) && taken.insert(l) {
            if r.status != out.s.status || r.ends_at - r.starts_at != duration {
                out.overrides.push((l, r));
            }
        } else {
            unmatched.push(*r);
        }
    }
    out.overrides.sort_by_key(|(o, _)| *o);
    unmatched
}

/// The whole VCALENDAR of a feed. `host` makes the UIDs (`reservation-<id>@<host>`,
/// `series-<id>@<host>`).
pub fn calendar(d: &FeedData, host: &str) -> String {
    let mut out = String::with_capacity(2048 + d.reservations.len() * 320);
    let mut w = Lines {
        out: &mut out,
        buf: String::with_capacity(128),
    };
    let name = escape_text(&d.name);
    w.put(format_args!("BEGIN:VCALENDAR"));
    w.put(format_args!("VERSION:2.0"));
    w.put(format_args!("PRODID:{PRODID}"));
    w.put(format_args!("CALSCALE:GREGORIAN"));
    w.put(format_args!("METHOD:PUBLISH"));
    // NAME (RFC 7986) and the older X-WR-CALNAME that most calendar apps read.
    w.put(format_args!("NAME:{name}"));
    w.put(format_args!("X-WR-CALNAME:{name}"));
    w.put(format_args!("X-WR-TIMEZONE:{TZID}"));
    w.put(format_args!("REFRESH-INTERVAL;VALUE=DURATION:PT1H"));
    w.put(format_args!("X-PUBLISHED-TTL:PT1H"));
    for l in VTIMEZONE {
        w.put(format_args!("{l}"));
    }

    // Series first: they decide which reservations are occurrences.
    let mut by_series: HashMap<i64, Vec<&Event>> = HashMap::new();
    for r in &d.reservations {
        if let Some(s) = r.series_id {
            by_series.entry(s).or_default().push(r);
        }
    }
    let mut covered: HashSet<i64> = HashSet::new();
    let mut shown = vec![];
    for s in &d.series {
        let Some(start) = parse_local(&s.dtstart_local) else {
            continue;
        };
        let Some(rule) = normalise_rrule(&s.rrule) else {
            continue;
        };
        let Some(mut occ) = occurrences(start, &rule) else {
            continue;
        };
        let exdates: Vec<NaiveDateTime> = s.exdates.split(',').filter_map(parse_local).collect();
        occ.retain(|o| !exdates.contains(o));
        let duration = Duration::minutes(i64::from(s.duration_minutes));
        let mine = by_series.get(&s.id).cloned().unwrap_or_default();
        let in_window = occ.iter().any(|o| {
            let b = berlin_to_utc(*o);
            b < d.to && b + duration > d.from
        });
        if !in_window && mine.is_empty() {
            continue;
        }
        let mut so = SeriesOut {
            s,
            start,
            rule,
            exdates,
            overrides: vec![],
        };
        let unmatched = match_series(&mut so, &occ, &mine);
        for r in &mine {
            if !unmatched.iter().any(|u| u.id == r.id) {
                covered.insert(r.id);
            }
        }
        shown.push(so);
    }

    for r in d.reservations.iter().filter(|r| !covered.contains(&r.id)) {
        let stamp = r.updated_at.unwrap_or(r.created_at);
        w.put(format_args!("BEGIN:VEVENT"));
        w.put(format_args!("UID:reservation-{}@{host}", r.id));
        w.put(format_args!("DTSTAMP:{}", utc(stamp)));
        w.put(format_args!("SEQUENCE:{}", r.sequence.max(0)));
        w.put(format_args!("{}", dt_prop("DTSTART", r.starts_at)));
        w.put(format_args!("{}", dt_prop("DTEND", r.ends_at)));
        event_body(
            &mut w,
            d,
            &r.title,
            r.organisation_id,
            r.resource_id,
            &r.status,
        );
        w.put(format_args!("END:VEVENT"));
    }

    for so in &shown {
        let s = so.s;
        let end = so.start + Duration::minutes(i64::from(s.duration_minutes));
        w.put(format_args!("BEGIN:VEVENT"));
        w.put(format_args!("UID:series-{}@{host}", s.id));
        w.put(format_args!("DTSTAMP:{}", utc(s.updated_at)));
        w.put(format_args!("SEQUENCE:{}", s.sequence.max(0)));
        w.put(format_args!("DTSTART;TZID={TZID}:{}", local(so.start)));
        w.put(format_args!("DTEND;TZID={TZID}:{}", local(end)));
        w.put(format_args!("RRULE:{}", so.rule));
        if !so.exdates.is_empty() {
            let list: Vec<String> = so.exdates.iter().map(|e| local(*e)).collect();
            w.put(format_args!("EXDATE;TZID={TZID}:{}", list.join(",")));
        }
        event_body(
            &mut w,
            d,
            &s.title,
            s.organisation_id,
            s.resource_id,
            &s.status,
        );
        w.put(format_args!("END:VEVENT"));
        for (orig, r) in &so.overrides {
            let stamp = r.updated_at.unwrap_or(r.created_at).max(s.updated_at);
            w.put(format_args!("BEGIN:VEVENT"));
            w.put(format_args!("UID:series-{}@{host}", s.id));
            w.put(format_args!("RECURRENCE-ID;TZID={TZID}:{}", local(*orig)));
            w.put(format_args!("DTSTAMP:{}", utc(stamp)));
            w.put(format_args!(
                "SEQUENCE:{}",
                r.sequence.max(s.sequence).max(0)
            ));
            w.put(format_args!("{}", dt_prop("DTSTART", r.starts_at)));
            w.put(format_args!("{}", dt_prop("DTEND", r.ends_at)));
            event_body(
                &mut w,
                d,
                &r.title,
                r.organisation_id,
                r.resource_id,
                &r.status,
            );
            w.put(format_args!("END:VEVENT"));
        }
    }
    w.put(format_args!("END:VCALENDAR"));
    out
}

fn event_body(
    w: &mut Lines,
    d: &FeedData,
    title: &str,
    org: Option<i64>,
    resource_id: i64,
    status: &str,
) {
    let status = ical_status(status);
    w.put(format_args!("SUMMARY:{}", d.summary(title, org)));
    if let Some(loc) = d.location(resource_id) {
        w.put(format_args!("LOCATION:{loc}"));
    }
    w.put(format_args!("STATUS:{status}"));
    // A cancelled booking no longer takes the time.
    let transp = if status == "CANCELLED" {
        "TRANSPARENT"
    } else {
        "OPAQUE"
    };
    w.put(format_args!("TRANSP:{transp}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoes folding: CRLF followed by one space or tab joins the lines.
    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "").replace("\r\n\t", "")
    }

    #[test]
    fn escapes_the_special_characters_of_text() {
        assert_eq!(
            escape_text(r"Halle A, Teil 1; Zugang\Tür"),
            r"Halle A\, Teil 1\; Zugang\\Tür"
        );
        assert_eq!(
            escape_text("eins\nzwei\r\ndrei\rvier"),
            r"eins\nzwei\ndrei\nvier"
        );
        assert_eq!(escape_text("a\u{7}b\u{0}c\td"), "abc\td");
    }

    #[test]
    fn long_lines_fold_at_75_octets_never_inside_a_character() {
        for prefix in 0..4 {
            let line = format!("SUMMARY:{}{}", "x".repeat(prefix), "ä€".repeat(60));
            let mut out = String::new();
            push_line(&mut out, &line);
            for l in out.trim_end_matches("\r\n").split("\r\n") {
                assert!(l.len() <= MAX_OCTETS && !l.is_empty(), "{l:?}");
            }
            assert_eq!(unfold(&out), format!("{line}\r\n"));
        }
        let mut out = String::new();
        push_line(&mut out, &"x".repeat(75));
        assert_eq!(out, format!("{}\r\n", "x".repeat(75)));
    }

    #[test]
    fn times_are_local_with_tzid_except_the_repeated_hour() {
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 16, 0, 0).unwrap();
        assert_eq!(
            dt_prop("DTSTART", t),
            "DTSTART;TZID=Europe/Berlin:20260701T180000"
        );
        let t = Utc.with_ymd_and_hms(2026, 1, 13, 17, 0, 0).unwrap();
        assert_eq!(
            dt_prop("DTEND", t),
            "DTEND;TZID=Europe/Berlin:20260113T180000"
        );
        // 25 Oct 2026, 02:30 local happens twice; the second one (01:30 UTC) goes as UTC.
        let t = Utc.with_ymd_and_hms(2026, 10, 25, 1, 30, 0).unwrap();
        assert_eq!(dt_prop("DTSTART", t), "DTSTART:20261025T013000Z");
    }

    #[test]
    fn until_becomes_utc() {
        assert_eq!(
            normalise_rrule("FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630").unwrap(),
            "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T215959Z"
        );
        assert_eq!(
            normalise_rrule("RRULE:freq=weekly;count=3").unwrap(),
            "FREQ=WEEKLY;COUNT=3"
        );
        assert!(normalise_rrule("FREQ=WEEKLY\r\nX:Y").is_none());
        assert!(normalise_rrule("").is_none());
    }

    #[test]
    fn a_weekly_series_stays_at_18_local_across_both_clock_changes() {
        let start = parse_local("2026-10-20T18:00").unwrap();
        let occ = occurrences(start, "FREQ=WEEKLY;COUNT=25").unwrap();
        assert_eq!(occ.len(), 25);
        assert!(occ.iter().all(|o| o.format("%H:%M").to_string() == "18:00"));
        // UTC offsets differ before and after the changes.
        assert_eq!(berlin_to_utc(occ[0]).format("%H").to_string(), "16");
        assert_eq!(berlin_to_utc(occ[1]).format("%H").to_string(), "17");
        assert_eq!(berlin_to_utc(occ[24]).format("%H").to_string(), "16");
    }
}
