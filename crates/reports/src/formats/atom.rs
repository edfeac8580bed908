//! Atom 1.0 feed (RFC 4287) of published reports, with the position as GeoRSS-Simple
//! (`<georss:point>lat lon</georss:point>`). Pure: the caller picks the entries (published
//! reports only, public description only: no personal data ever goes into a feed) and serves
//! the result as `application/atom+xml; charset=utf-8`.
//!
//! All text is escaped with [`crate::formats::open311::escape_xml`] (`& < > " '`, characters XML 1.0
//! forbids are dropped), so whatever a citizen typed the document stays well-formed.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::formats::open311::escape_xml;

/// The media type to serve [`render`]'s output with.
pub const CONTENT_TYPE: &str = "application/atom+xml; charset=utf-8";

/// One published report.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Permanent, unique IRI: a URN (`urn:uuid:…`) or a tag URI
    /// (`tag:stadt.example,2026:reports/M-2026-000123`). Never changes once published.
    pub id: String,
    pub title: String,
    /// Last significant change (status, public reply).
    pub updated: DateTime<Utc>,
    /// Absolute URL of the report's public page.
    pub link: String,
    /// Plain text (the moderated public description); sent as `type="text"`.
    pub summary: String,
    /// Category name, e.g. "Straßenbeleuchtung".
    pub category: Option<String>,
    /// WGS 84; the position is written only when both are present and finite.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// The feed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    /// Permanent IRI of the feed (e.g. a tag URI per tenant).
    pub id: String,
    pub title: String,
    /// Absolute URL of this feed (`rel="self"`).
    pub link_self: String,
    /// Absolute URL of the HTML page showing the same reports (`rel="alternate"`).
    pub link_alternate: String,
    /// Newest `updated` of the entries (or the time of rendering when empty).
    pub updated: DateTime<Utc>,
    /// Feed author, e.g. the municipality's name. RFC 4287 §4.1.1 requires an author on the
    /// feed when entries have none (ours never name a person).
    pub author: String,
    pub entries: Vec<Entry>,
}

fn timestamp(dt: &DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn element(out: &mut String, indent: &str, tag: &str, text: &str) {
    let _ = writeln!(out, "{indent}<{tag}>{}</{tag}>", escape_xml(text));
}

fn link(out: &mut String, indent: &str, rel: &str, media_type: &str, href: &str) {
    let _ = writeln!(
        out,
        "{indent}<link rel=\"{rel}\" type=\"{media_type}\" href=\"{}\"/>",
        escape_xml(href)
    );
}

/// `lat lon` for GeoRSS-Simple, when both are present, finite and in range.
fn point(lat: Option<f64>, lon: Option<f64>) -> Option<String> {
    let (lat, lon) = (lat?, lon?);
    let ok = lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon);
    ok.then(|| format!("{lat:.6} {lon:.6}"))
}

/// The feed as an XML document (UTF-8, starting with the XML declaration).
pub fn render(feed: &Feed) -> String {
    let mut out = String::with_capacity(512 + feed.entries.len() * 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" \
         xmlns:georss=\"http://www.georss.org/georss\">\n",
    );
    element(&mut out, "  ", "id", &feed.id);
    element(&mut out, "  ", "title", &feed.title);
    link(
        &mut out,
        "  ",
        "self",
        "application/atom+xml",
        &feed.link_self,
    );
    link(
        &mut out,
        "  ",
        "alternate",
        "text/html",
        &feed.link_alternate,
    );
    element(&mut out, "  ", "updated", &timestamp(&feed.updated));
    out.push_str("  <author>\n");
    element(&mut out, "    ", "name", &feed.author);
    out.push_str("  </author>\n");
    for e in &feed.entries {
        out.push_str("  <entry>\n");
        element(&mut out, "    ", "id", &e.id);
        element(&mut out, "    ", "title", &e.title);
        element(&mut out, "    ", "updated", &timestamp(&e.updated));
        link(&mut out, "    ", "alternate", "text/html", &e.link);
        let _ = writeln!(
            out,
            "    <summary type=\"text\">{}</summary>",
            escape_xml(&e.summary)
        );
        if let Some(c) = &e.category {
            let _ = writeln!(out, "    <category term=\"{}\"/>", escape_xml(c));
        }
        if let Some(p) = point(e.lat, e.lon) {
            element(&mut out, "    ", "georss:point", &p);
        }
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 13, h, 0, 0).single().unwrap()
    }

    fn entry(n: u32) -> Entry {
        Entry {
            id: format!("tag:stadt.example,2026:reports/M-2026-{n:06}"),
            title: format!("Straßenbeleuchtung: Lampe defekt {n}"),
            updated: t(10),
            link: format!("https://stadt.example/maengelmelder/M-2026-{n:06}"),
            summary: "Die Laterne vor Hausnummer 12 ist aus.".into(),
            category: Some("Straßenbeleuchtung".into()),
            lat: Some(51.514_244),
            lon: Some(7.468_429),
        }
    }

    fn feed(entries: Vec<Entry>) -> Feed {
        Feed {
            id: "tag:stadt.example,2026:reports".into(),
            title: "Mängelmelder – Stadt Beispiel".into(),
            link_self: "https://stadt.example/maengelmelder/feed.atom".into(),
            link_alternate: "https://stadt.example/maengelmelder".into(),
            updated: t(11),
            author: "Stadt Beispiel".into(),
            entries,
        }
    }

    /// Element path (`feed/entry/title`) and text, with the predefined entities resolved.
    /// Panics when quick-xml finds the document malformed or an entity is not predefined.
    fn parse(xml: &str) -> Vec<(String, String)> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut path: Vec<String> = Vec::new();
        let mut texts: Vec<(String, String)> = Vec::new();
        let mut text = String::new();
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) => {
                    path.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                    text.clear();
                }
                Ok(Event::Empty(e)) => {
                    for a in e.attributes() {
                        let a = a.expect("attribute");
                        let v = a.unescape_value().expect("attribute value");
                        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                        texts.push((format!("{}/{name}@{key}", path.join("/")), v.into()));
                    }
                }
                Ok(Event::Text(e)) => text.push_str(&e.decode().expect("utf-8")),
                Ok(Event::GeneralRef(r)) => {
                    let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                    text.push(match name.as_str() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("unknown entity &{other};"),
                    });
                }
                Ok(Event::End(_)) => {
                    if !text.trim().is_empty() {
                        texts.push((path.join("/"), std::mem::take(&mut text)));
                    }
                    text.clear();
                    path.pop();
                }
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("not well-formed: {e} in {xml}"),
            }
        }
        assert!(path.is_empty(), "unbalanced: {xml}");
        texts
    }

    fn get<'a>(texts: &'a [(String, String)], key: &str) -> Vec<&'a str> {
        texts
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn feed_has_the_required_atom_elements() {
        let xml = render(&feed(vec![entry(1), entry(2)]));
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed "));
        assert!(xml.contains("xmlns=\"http://www.w3.org/2005/Atom\""));
        let p = parse(&xml);
        assert_eq!(get(&p, "feed/id"), ["tag:stadt.example,2026:reports"]);
        assert_eq!(get(&p, "feed/title"), ["Mängelmelder – Stadt Beispiel"]);
        assert_eq!(get(&p, "feed/updated"), ["2026-03-13T11:00:00Z"]);
        assert_eq!(get(&p, "feed/author/name"), ["Stadt Beispiel"]);
        assert_eq!(
            get(&p, "feed/link@rel"),
            ["self", "alternate"],
            "links: {xml}"
        );
        assert_eq!(
            get(&p, "feed/link@href"),
            [
                "https://stadt.example/maengelmelder/feed.atom",
                "https://stadt.example/maengelmelder"
            ]
        );
        assert_eq!(get(&p, "feed/entry/id").len(), 2);
        assert_eq!(
            get(&p, "feed/entry/id")[0],
            "tag:stadt.example,2026:reports/M-2026-000001"
        );
        assert_eq!(get(&p, "feed/entry/updated")[1], "2026-03-13T10:00:00Z");
        assert_eq!(
            get(&p, "feed/entry/link@href")[0],
            "https://stadt.example/maengelmelder/M-2026-000001"
        );
        assert_eq!(
            get(&p, "feed/entry/summary")[0],
            "Die Laterne vor Hausnummer 12 ist aus."
        );
        assert!(xml.contains("<summary type=\"text\">"));
        assert_eq!(get(&p, "feed/entry/category@term")[0], "Straßenbeleuchtung");
        assert_eq!(get(&p, "feed/entry/georss:point")[0], "51.514244 7.468429");
    }

    #[test]
    fn empty_feed_is_well_formed() {
        let xml = render(&feed(vec![]));
        let p = parse(&xml);
        assert!(get(&p, "feed/entry/id").is_empty());
        assert_eq!(get(&p, "feed/id").len(), 1);
    }

    #[test]
    fn nasty_text_is_escaped_and_control_characters_dropped() {
        let nasty = "<script>alert('x')</script> & \"quoted\" \u{1}\u{8}\u{b}\u{c}\u{1f}\u{fffe}\u{ffff} ]]> Ende\tTab\nZeile";
        let mut e = entry(1);
        e.title = nasty.into();
        e.summary = nasty.into();
        e.category = Some(nasty.into());
        e.id = "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e".into();
        e.link = "https://stadt.example/m?a=1&b=<2>\"".into();
        let mut f = feed(vec![e]);
        f.title = nasty.into();
        f.author = nasty.into();
        let xml = render(&f);
        assert!(!xml.contains("<script>"));
        for c in xml.chars() {
            let ok = matches!(c, '\t' | '\n' | '\r')
                || (' '..='\u{d7ff}').contains(&c)
                || ('\u{e000}'..='\u{fffd}').contains(&c)
                || c >= '\u{10000}';
            assert!(ok, "character U+{:04X} not allowed in XML 1.0", c as u32);
        }
        let clean = "<script>alert('x')</script> & \"quoted\"  ]]> Ende\tTab\nZeile";
        let p = parse(&xml);
        assert_eq!(get(&p, "feed/title"), [clean]);
        assert_eq!(get(&p, "feed/author/name"), [clean]);
        assert_eq!(get(&p, "feed/entry/title"), [clean]);
        assert_eq!(get(&p, "feed/entry/summary"), [clean]);
        assert_eq!(get(&p, "feed/entry/category@term"), [clean]);
        assert_eq!(
            get(&p, "feed/entry/link@href"),
            ["https://stadt.example/m?a=1&b=<2>\""]
        );
    }

    #[test]
    fn position_only_when_complete_and_valid() {
        let cases = [
            (None, Some(7.0)),
            (Some(51.0), None),
            (Some(f64::NAN), Some(7.0)),
            (Some(51.0), Some(f64::INFINITY)),
            (Some(91.0), Some(7.0)),
            (Some(51.0), Some(-180.5)),
        ];
        for (lat, lon) in cases {
            let mut e = entry(1);
            e.lat = lat;
            e.lon = lon;
            let xml = render(&feed(vec![e]));
            assert!(!xml.contains("georss:point"), "{lat:?} {lon:?}: {xml}");
            parse(&xml);
        }
        let mut e = entry(1);
        e.category = None;
        e.lat = Some(-33.5);
        e.lon = Some(-70.25);
        let xml = render(&feed(vec![e]));
        let p = parse(&xml);
        assert_eq!(
            get(&p, "feed/entry/georss:point"),
            ["-33.500000 -70.250000"]
        );
        assert!(get(&p, "feed/entry/category@term").is_empty());
    }
}
