//! Calendar feeds (RFC 5545) of the resources: `GET /buchung/kalender/{id}/{token}.ics`.
//!
//! Calendar apps fetch a feed without a session, so the URL carries the resource's secret
//! feed token (`service::feed` checks it; a wrong token or another tenant's resource is 404).
//! A feed lists the resource's active reservations with their title only: never the booker's
//! name or e-mail address. Times are UTC (`…Z`). The serializer is small and written here:
//! text escaping (`escape_text`) and line folding at 75 octets (`push_line`).

use crate::service::{self, CONFIRMED, Feed};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use rathaus_core::Error;
use rathaus_web::ctx::Ctx;
use rathaus_web::errors::HtmlError;
use rathaus_web::{AppState, WebConfig};
use std::fmt::Write;

pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";
pub const PRODID: &str = "-//Rathaus//Ressourcenbuchung//DE";

/// The feed route; the lead mounts it into the module's `pages()`.
pub fn router() -> Router<AppState> {
    Router::new().route("/buchung/kalender/{resource_id}/{file}", get(feed))
}

/// The path of a resource's feed.
pub fn feed_path(r: &service::Resource) -> String {
    format!("/buchung/kalender/{}/{}.ics", r.id, r.feed_token)
}

/// `scheme://host[:port]` of this request: `public_url` when configured, else the Host
/// header (https when a trusted proxy says so in X-Forwarded-Proto).
pub fn origin(cfg: &WebConfig, headers: &HeaderMap) -> String {
    if let Some(u) = cfg.public_url.as_deref().filter(|u| !u.is_empty()) {
        return u.trim_end_matches('/').to_string();
    }
    let forwarded_https = cfg.trust_forwarded
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let scheme = if forwarded_https { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{}", host.to_ascii_lowercase())
}

/// The host name of an origin, without scheme, port or path (for UIDs).
pub fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.starts_with('[') {
        // IPv6 literal: keep the brackets, drop the port.
        return authority.find(']').map_or(authority, |i| &authority[..=i]);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// The absolute feed URL of a resource.
pub fn feed_url(origin: &str, r: &service::Resource) -> String {
    format!("{origin}{}", feed_path(r))
}

async fn feed(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((resource_id, file)): Path<(String, String)>,
) -> Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let id: i64 = resource_id.parse().map_err(|_| Error::NotFound)?;
    let token = file.strip_suffix(".ics").ok_or(Error::NotFound)?;
    let now = Utc::now();
    let f = service::feed(&st.db.conn, tenant, id, token, now).await?;
    let body = calendar(&f, host_of(&origin(&st.cfg, &headers)));
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(res)
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

/// The whole VCALENDAR of a feed. `host` makes the UIDs (`reservation-<id>@<host>`).
pub fn calendar(f: &Feed, host: &str) -> String {
    let mut out = String::with_capacity(512 + f.reservations.len() * 256);
    let mut line = String::with_capacity(128);
    let mut put = |out: &mut String, args: std::fmt::Arguments| {
        line.clear();
        let _ = line.write_fmt(args);
        push_line(out, &line);
    };
    let name = escape_text(&f.resource.name);
    put(&mut out, format_args!("BEGIN:VCALENDAR"));
    put(&mut out, format_args!("VERSION:2.0"));
    put(&mut out, format_args!("PRODID:{PRODID}"));
    put(&mut out, format_args!("CALSCALE:GREGORIAN"));
    // NAME (RFC 7986) and the older X-WR-CALNAME that most calendar apps read.
    put(&mut out, format_args!("NAME:{name}"));
    put(&mut out, format_args!("X-WR-CALNAME:{name}"));
    put(
        &mut out,
        format_args!("REFRESH-INTERVAL;VALUE=DURATION:PT1H"),
    );
    put(&mut out, format_args!("X-PUBLISHED-TTL:PT1H"));
    for r in &f.reservations {
        let status = if r.status == CONFIRMED {
            "CONFIRMED"
        } else {
            "TENTATIVE"
        };
        put(&mut out, format_args!("BEGIN:VEVENT"));
        put(&mut out, format_args!("UID:reservation-{}@{host}", r.id));
        put(&mut out, format_args!("DTSTAMP:{}", utc(r.created_at)));
        put(&mut out, format_args!("DTSTART:{}", utc(r.starts_at)));
        put(&mut out, format_args!("DTEND:{}", utc(r.ends_at)));
        put(&mut out, format_args!("SUMMARY:{}", escape_text(&r.title)));
        put(&mut out, format_args!("LOCATION:{name}"));
        put(&mut out, format_args!("STATUS:{status}"));
        put(&mut out, format_args!("TRANSP:OPAQUE"));
        put(&mut out, format_args!("END:VEVENT"));
    }
    put(&mut out, format_args!("END:VCALENDAR"));
    out
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
        assert_eq!(
            escape_text("Übung: 18:00 \"Jugend\""),
            "Übung: 18:00 \"Jugend\""
        );
    }

    #[test]
    fn short_lines_stay_whole() {
        let mut out = String::new();
        push_line(&mut out, &"x".repeat(75));
        assert_eq!(out, format!("{}\r\n", "x".repeat(75)));
    }

    #[test]
    fn long_lines_fold_at_75_octets() {
        let line = format!("SUMMARY:{}", "a".repeat(200));
        let mut out = String::new();
        push_line(&mut out, &line);
        let lines: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(lines[0].len(), 75);
        assert!(
            lines[1..]
                .iter()
                .all(|l| l.starts_with(' ') && l.len() <= 75)
        );
        assert_eq!(lines[1].len(), 75);
        assert_eq!(unfold(&out), format!("{line}\r\n"));
    }

    #[test]
    fn folding_never_splits_a_utf8_character() {
        // 'ä' takes two octets, '€' three: boundaries fall at every possible offset.
        for prefix in 0..4 {
            let line = format!("SUMMARY:{}{}", "x".repeat(prefix), "ä€".repeat(60));
            let mut out = String::new();
            push_line(&mut out, &line);
            assert!(out.ends_with("\r\n"));
            for l in out.trim_end_matches("\r\n").split("\r\n") {
                assert!(l.len() <= MAX_OCTETS, "{} octets: {l:?}", l.len());
                assert!(!l.is_empty());
            }
            // Every piece is valid UTF-8 by construction (str); unfolding restores the line.
            assert_eq!(unfold(&out), format!("{line}\r\n"));
        }
    }

    #[test]
    fn a_calendar_has_one_vevent_per_reservation() {
        use chrono::TimeZone;
        let t = |h| Utc.with_ymd_and_hms(2027, 3, 1, h, 0, 0).unwrap();
        let resource = service::Resource {
            id: 7,
            tenant_id: 1,
            name: "Raum 1; Erdgeschoss".into(),
            kind: "room".into(),
            parent_id: None,
            capacity: None,
            requires_approval: true,
            min_minutes: 15,
            max_minutes: 1440,
            buffer_minutes: 0,
            horizon_days: 365,
            active: true,
            feed_token: "geheim".into(),
            created_at: t(8),
        };
        let reservation = |id, status: &str, title: &str| service::Reservation {
            id,
            tenant_id: 1,
            resource_id: 7,
            title: title.into(),
            starts_at: t(17),
            ends_at: t(19),
            status: status.into(),
            booked_by: Some(3),
            created_at: t(9),
            decision_reason: None,
            decided_by: None,
            decided_at: None,
        };
        let f = Feed {
            resource,
            reservations: vec![
                reservation(1, CONFIRMED, "Sitzung\nRat, öffentlich"),
                reservation(2, service::REQUESTED, "Probe"),
            ],
        };
        let ics = calendar(&f, "rathaus.example");
        assert_eq!(
            ics,
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rathaus//Ressourcenbuchung//DE\r\n\
             CALSCALE:GREGORIAN\r\nNAME:Raum 1\\; Erdgeschoss\r\n\
             X-WR-CALNAME:Raum 1\\; Erdgeschoss\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n\
             X-PUBLISHED-TTL:PT1H\r\n\
             BEGIN:VEVENT\r\nUID:reservation-1@rathaus.example\r\nDTSTAMP:20270301T090000Z\r\n\
             DTSTART:20270301T170000Z\r\nDTEND:20270301T190000Z\r\n\
             SUMMARY:Sitzung\\nRat\\, öffentlich\r\nLOCATION:Raum 1\\; Erdgeschoss\r\n\
             STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:reservation-2@rathaus.example\r\nDTSTAMP:20270301T090000Z\r\n\
             DTSTART:20270301T170000Z\r\nDTEND:20270301T190000Z\r\n\
             SUMMARY:Probe\r\nLOCATION:Raum 1\\; Erdgeschoss\r\n\
             STATUS:TENTATIVE\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n\
             END:VCALENDAR\r\n"
        );
    }

    #[test]
    fn origin_prefers_public_url_then_the_host_header() {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("Rathaus.A.test:8080"),
        );
        let cfg = WebConfig::default();
        assert_eq!(origin(&cfg, &h), "http://rathaus.a.test:8080");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(origin(&cfg, &h), "http://rathaus.a.test:8080");
        let trusting = WebConfig {
            trust_forwarded: true,
            ..WebConfig::default()
        };
        assert_eq!(origin(&trusting, &h), "https://rathaus.a.test:8080");
        let public = WebConfig {
            public_url: Some("https://buchung.example.org/".into()),
            ..WebConfig::default()
        };
        assert_eq!(origin(&public, &h), "https://buchung.example.org");
        h.insert(header::HOST, HeaderValue::from_static("evil.test/<x>"));
        assert_eq!(origin(&cfg, &h), "http://localhost");
    }

    #[test]
    fn host_of_drops_scheme_port_and_path() {
        assert_eq!(host_of("http://rathaus.a.test:8080"), "rathaus.a.test");
        assert_eq!(
            host_of("https://buchung.example.org/x"),
            "buchung.example.org"
        );
        assert_eq!(host_of("http://[::1]:3000"), "[::1]");
        assert_eq!(host_of("localhost"), "localhost");
    }
}
