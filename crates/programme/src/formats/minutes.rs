//! The minutes of a Digitallotsen meeting as they go out to the team: a plain text (the mail
//! body; Markdown reads well as text) and a standalone printable HTML file (the attachment;
//! the Markdown already rendered and sanitised by the caller).

use askama::Template;

/// The words around the minutes, translated by the caller.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub place: String,
    pub attendance: String,
    pub agenda: String,
    pub minutes: String,
}

#[derive(Debug, Clone, Default)]
pub struct Item {
    /// What kind of item (e.g. "Phase gewechselt").
    pub kind: String,
    pub title: String,
    /// The item's minutes as written (Markdown).
    pub text: String,
    /// The same, rendered and sanitised.
    pub html: String,
}

#[derive(Debug, Clone, Default)]
pub struct Minutes {
    /// E.g. "Protokoll der Sitzung am 04.12.2026".
    pub heading: String,
    pub place: String,
    pub attendance: String,
    pub items: Vec<Item>,
    /// The meeting's own minutes (Markdown) and rendered.
    pub text: String,
    pub html: String,
    pub labels: Labels,
}

/// The mail text.
pub fn text(m: &Minutes) -> String {
    let mut out = format!(
        "{}\n{}\n\n",
        m.heading,
        "=".repeat(m.heading.chars().count())
    );
    if !m.place.is_empty() {
        out.push_str(&format!("{}: {}\n", m.labels.place, m.place));
    }
    if !m.attendance.is_empty() {
        out.push_str(&format!("{}: {}\n", m.labels.attendance, m.attendance));
    }
    out.push_str(&format!("\n{}\n\n", m.labels.agenda));
    for (i, it) in m.items.iter().enumerate() {
        out.push_str(&format!("{}. {}: {}\n", i + 1, it.kind, it.title));
        for line in it.text.trim().lines() {
            out.push_str(&format!("   {line}\n"));
        }
        out.push('\n');
    }
    if !m.text.trim().is_empty() {
        out.push_str(&format!("{}\n\n{}\n", m.labels.minutes, m.text.trim()));
    }
    out
}

#[derive(Template)]
#[template(path = "programme/minutes_print.html")]
struct PrintTpl<'a> {
    m: &'a Minutes,
}

/// The printable HTML document (no scripts, no outside resources).
pub fn html(m: &Minutes) -> Result<String, askama::Error> {
    PrintTpl { m }.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Minutes {
        Minutes {
            heading: "Protokoll der Sitzung am 04.12.2026".into(),
            place: "Ratssaal".into(),
            attendance: "A, B".into(),
            items: vec![Item {
                kind: "Neue Maßnahme".into(),
                title: "E-Akte <Wohngeld>".into(),
                text: "- Start im Januar\n- **Budget** klären".into(),
                html: "<ul><li>Start im Januar</li></ul>".into(),
            }],
            text: "Nächste Sitzung in zwei Wochen.".into(),
            html: "<p>Nächste Sitzung in zwei Wochen.</p>".into(),
            labels: Labels {
                place: "Ort".into(),
                attendance: "Anwesend".into(),
                agenda: "Tagesordnung".into(),
                minutes: "Protokoll".into(),
            },
        }
    }

    #[test]
    fn the_text_lists_items_with_their_minutes() {
        let t = text(&sample());
        assert!(
            t.starts_with("Protokoll der Sitzung am 04.12.2026\n====="),
            "{t}"
        );
        assert!(t.contains("Ort: Ratssaal\nAnwesend: A, B\n"), "{t}");
        assert!(t.contains("1. Neue Maßnahme: E-Akte <Wohngeld>\n   - Start im Januar\n   - **Budget** klären\n"), "{t}");
        assert!(
            t.ends_with("Protokoll\n\nNächste Sitzung in zwei Wochen.\n"),
            "{t}"
        );
    }

    #[test]
    fn the_html_escapes_titles_and_keeps_the_rendered_minutes() {
        let h = html(&sample()).unwrap();
        assert!(h.starts_with("<!DOCTYPE html>"), "{h}");
        assert!(
            h.contains("E-Akte &#60;Wohngeld&#62;") || h.contains("E-Akte &lt;Wohngeld&gt;"),
            "{h}"
        );
        assert!(h.contains("<ul><li>Start im Januar</li></ul>"), "{h}");
        assert!(!h.contains("<script"), "{h}");
    }
}
