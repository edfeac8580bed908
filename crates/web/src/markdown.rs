//! The one Markdown renderer of every module (knowledge base, notes, the footer pages):
//! CommonMark with tables, task lists and strikethrough (pulldown-cmark), then sanitized
//! with ammonia, so that no script, event handler, `javascript:` link or foreign image can
//! reach a page whatever the author typed. Headings get stable anchors (`#md-…`) and a table
//! of contents.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::collections::{HashMap, HashSet};

/// Larger documents are refused: a knowledge article is a few hundred kilobytes at most, and
/// the limit bounds the time and memory one request can take.
pub const MAX_BYTES: usize = 1024 * 1024;

/// Where images may come from: our own file service (relative URLs under this prefix).
pub const IMAGE_PREFIX: &str = "/dateien/";

/// Prefix of every heading id, so a document cannot clobber the page's own ids.
const ID_PREFIX: &str = "md-";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocEntry {
    /// 1–6.
    pub level: u8,
    /// The anchor, with its prefix (`md-anfahrt`).
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Safe HTML, to be inserted unescaped (`|safe` in askama).
    pub html: String,
    pub toc: Vec<TocEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MarkdownError {
    /// Translation key `markdown.too_large` with the limit in KB.
    #[error("markdown document larger than {MAX_BYTES} bytes")]
    TooLarge,
}

/// Renders Markdown to sanitized HTML with its table of contents.
pub fn render(src: &str) -> Result<Rendered, MarkdownError> {
    if src.len() > MAX_BYTES {
        return Err(MarkdownError::TooLarge);
    }
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES;
    let events: Vec<Event> = Parser::new_ext(src, opts).collect();
    let toc = headings(&events);
    // Give each heading its id (pulldown-cmark writes the `id` of a heading tag).
    let mut n = 0;
    let events = events.into_iter().map(|e| match e {
        Event::Start(Tag::Heading {
            level,
            classes,
            attrs,
            ..
        }) => {
            let id = toc.get(n).map(|t| t.id.clone());
            n += 1;
            Event::Start(Tag::Heading {
                level,
                id: id.map(Into::into),
                classes,
                attrs,
            })
        }
        other => other,
    });
    let mut raw = String::with_capacity(src.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut raw, events);
    Ok(Rendered {
        html: sanitizer().clean(&raw).to_string(),
        toc,
    })
}

/// The headings in order with unique anchors derived from their text.
fn headings(events: &[Event]) -> Vec<TocEntry> {
    let mut out = vec![];
    let mut used: HashMap<String, usize> = HashMap::new();
    let mut current: Option<(u8, String)> = None;
    for e in events {
        match e {
            Event::Start(Tag::Heading { level, .. }) => {
                current = Some((level_num(*level), String::new()))
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text)) = current.as_mut() {
                    text.push_str(t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text)) = current.take() {
                    let base = slug(&text);
                    let k = used.entry(base.clone()).or_insert(0);
                    *k += 1;
                    let id = if *k == 1 {
                        format!("{ID_PREFIX}{base}")
                    } else {
                        format!("{ID_PREFIX}{base}-{k}")
                    };
                    out.push(TocEntry {
                        level,
                        id,
                        text: text.trim().to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

fn level_num(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// `Öffnungszeiten & Anfahrt` → `oeffnungszeiten-anfahrt`.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ => {
                if !out.ends_with('-') && !out.is_empty() {
                    out.push('-');
                }
            }
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "abschnitt".to_string()
    } else {
        out
    }
}

fn sanitizer() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    b.add_tags(["input", "del", "section", "sup"])
        .add_tag_attributes("h1", ["id"])
        .add_tag_attributes("h2", ["id"])
        .add_tag_attributes("h3", ["id"])
        .add_tag_attributes("h4", ["id"])
        .add_tag_attributes("h5", ["id"])
        .add_tag_attributes("h6", ["id"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .add_tag_attributes("div", ["class", "id"])
        .add_tag_attributes("sup", ["class", "id"])
        .add_tag_attributes("li", ["id"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            // Images only from our own file service: no tracking pixels, CSP `img-src 'self'`.
            ("img", "src") if !value.starts_with(IMAGE_PREFIX) => None,
            // Task list boxes only, never an editable field.
            ("input", "type") if value != "checkbox" => None,
            // Table alignment is the only style pulldown-cmark writes.
            ("th" | "td", "style")
                if !matches!(
                    value,
                    "text-align: left" | "text-align: center" | "text-align: right"
                ) =>
            {
                None
            }
            ("div" | "sup", "class") if !value.starts_with("footnote") => None,
            _ => Some(value.into()),
        });
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commonmark_tables_task_lists_and_anchors() {
        let r = render(
            "# Öffnungszeiten & Anfahrt\n\nText mit **fett**.\n\n## Anfahrt\n\n## Anfahrt\n\n\
             | Tag | Zeit |\n|:--|--:|\n| Mo | 8–12 |\n\n- [x] erledigt\n- [ ] offen\n",
        )
        .unwrap();
        assert!(
            r.html.contains("<h1 id=\"md-oeffnungszeiten-anfahrt\">"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<h2 id=\"md-anfahrt-2\">"), "{}", r.html);
        assert!(r.html.contains("<strong>fett</strong>"));
        assert!(r.html.contains("<table>") && r.html.contains("text-align: right"));
        assert!(r.html.contains("type=\"checkbox\"") && r.html.contains("disabled"));
        assert_eq!(
            r.toc
                .iter()
                .map(|t| (t.level, t.id.as_str()))
                .collect::<Vec<_>>(),
            vec![
                (1, "md-oeffnungszeiten-anfahrt"),
                (2, "md-anfahrt"),
                (2, "md-anfahrt-2")
            ]
        );
        assert_eq!(r.toc[0].text, "Öffnungszeiten & Anfahrt");
    }

    #[test]
    fn scripts_handlers_and_foreign_images_are_removed() {
        let r = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n\
             [klick](javascript:alert(1)) [ok](https://example.org)\n\n\
             ![extern](https://tracker.example/p.gif) ![eigen](/dateien/1/plan.png)\n\n\
             <a href=\"JaVaScRiPt:alert(1)\">x</a> <div onclick=\"x()\" style=\"color:red\">d</div>",
        )
        .unwrap();
        let h = r.html.to_lowercase();
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("onerror") && !h.contains("onclick"), "{h}");
        assert!(!h.contains("javascript:"), "{h}");
        assert!(!h.contains("tracker.example"), "{h}");
        assert!(h.contains("src=\"/dateien/1/plan.png\""), "{h}");
        assert!(h.contains("href=\"https://example.org\""), "{h}");
        assert!(h.contains("rel=\"noopener noreferrer nofollow\""), "{h}");
        assert!(!h.contains("style=\"color"), "{h}");
    }

    #[test]
    fn too_large_documents_are_refused() {
        let big = "a".repeat(MAX_BYTES + 1);
        assert_eq!(render(&big), Err(MarkdownError::TooLarge));
        // 10 MB: refused at once, not parsed.
        assert_eq!(
            render(&"# x\n".repeat(2_700_000)),
            Err(MarkdownError::TooLarge)
        );
    }

    /// Random documents built from dangerous fragments: the output never carries an
    /// executable script (a script element, an event handler attribute, a script URL).
    #[test]
    fn no_random_document_renders_a_script() {
        use rand::{Rng, SeedableRng};
        const PARTS: &[&str] = &[
            "<script>",
            "</script>",
            "<img src=x onerror=alert(1)>",
            "javascript:alert(1)",
            "[a](",
            ")",
            "](javascript:alert(1))",
            "<svg/onload=alert(1)>",
            "`",
            "```\n",
            "\n",
            "\n\n",
            "<",
            ">",
            "\"",
            "'",
            "&#x6A;avascript:",
            "&#106;avascript:",
            "<a href=",
            "<iframe src=//evil>",
            "<style>",
            "<object data=x>",
            "# ",
            "- [ ] ",
            "| a | b |\n|--|--|\n",
            "<details open ontoggle=alert(1)>",
            "![i](",
            "data:text/html,<script>",
            " onmouseover=",
            "<math><mi xlink:href=javascript:1>",
            "vbscript:",
            "<!--",
            "-->",
            "<form action=x>",
            "<input autofocus onfocus=alert(1)>",
            "<base href=//evil>",
            "<meta http-equiv=refresh>",
            "Straße",
            "&lt;",
            "**",
            "_",
            "[^1]",
            "[^1]: fn",
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
        for _ in 0..3000 {
            let n = rng.gen_range(1..40);
            let doc: String = (0..n)
                .map(|_| PARTS[rng.gen_range(0..PARTS.len())])
                .collect();
            let h = render(&doc).unwrap().html.to_lowercase();
            // Text is escaped (`&lt;`), so every `<` in the output opens a real tag.
            for tag in h
                .split('<')
                .skip(1)
                .map(|t| t.split('>').next().unwrap_or(""))
            {
                let name: String = tag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                assert!(
                    !matches!(
                        name.as_str(),
                        "script"
                            | "iframe"
                            | "object"
                            | "style"
                            | "svg"
                            | "math"
                            | "form"
                            | "base"
                            | "meta"
                            | "embed"
                            | "link"
                    ),
                    "<{tag}> in {h} from {doc:?}"
                );
                // Attributes are `name="value"`: no handler, no script URL.
                let mut rest = &tag[name.len()..];
                while let Some(eq) = rest.find("=\"") {
                    let attr = rest[..eq].trim().trim_start_matches('/');
                    let after = &rest[eq + 2..];
                    let (value, tail) = after.split_once('"').unwrap_or((after, ""));
                    assert!(
                        !attr.starts_with("on"),
                        "handler {attr} in <{tag}> from {doc:?}"
                    );
                    if matches!(attr, "href" | "src" | "action" | "formaction") {
                        let v = value.trim_start();
                        for scheme in ["javascript:", "vbscript:", "data:", "&#"] {
                            assert!(!v.starts_with(scheme), "{attr}={v} from {doc:?}");
                        }
                    }
                    rest = tail;
                }
            }
        }
    }
}
