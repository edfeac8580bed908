//! The burn-up chart as inline SVG, drawn on the server: no script, no outside resources, and
//! presentation attributes only (the CSP allows no inline `style`). The chart is one image
//! (`role="img"`) named by its `<title>` and described by its `<desc>`; the page shows the
//! same figures as a table for screen readers and readers without CSS.

use std::fmt::Write;

/// What to draw; every text translated by the caller.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Prefix of the element ids (unique on the page).
    pub id: String,
    pub title: String,
    /// The figures in one sentence (e.g. "From … to …: 12 of 40 measures done").
    pub desc: String,
    /// The label of each point on the time axis.
    pub labels: Vec<String>,
    pub done: Vec<i64>,
    pub total: Vec<i64>,
    /// Legend entries.
    pub done_name: String,
    pub total_name: String,
}

const W: f64 = 640.0;
const H: f64 = 320.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 620.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 244.0;
/// At most this many labels on the time axis.
const MAX_LABELS: usize = 8;
const TEXT: &str = "#1f2937";
const DONE: &str = "#0b6e4f";
const TOTAL: &str = "#4b5563";
const GRID: &str = "#d1d5db";

/// Text and attribute values with the five XML specials escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0; the labels never need them.
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A step for the value axis giving at most five intervals: 1, 2 or 5 times a power of ten.
pub fn tick_step(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            let s = step * m;
            if max <= s * 5 {
                return s;
            }
        }
        step = step.saturating_mul(10);
        if step >= i64::MAX / 10 {
            return step;
        }
    }
}

/// The chart as an `<svg>` element for an HTML page (also a well-formed XML document).
pub fn svg(c: &Chart) -> String {
    let id = escape(&c.id);
    let n = c.done.len().min(c.total.len());
    let max = c.total[..n]
        .iter()
        .chain(&c.done[..n])
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let step = tick_step(max);
    let top = (max + step - 1) / step * step;
    let x = |i: usize| -> f64 {
        if n <= 1 {
            (LEFT + RIGHT) / 2.0
        } else {
            LEFT + (RIGHT - LEFT) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: i64| -> f64 { BOTTOM - (BOTTOM - TOP) * v.max(0) as f64 / top as f64 };
    let mut s = String::new();
    // Writing into a String cannot fail; the results are ignored on purpose.
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="prog-burnup" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="system-ui, sans-serif" font-size="12">"#
    );
    let _ = write!(
        s,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(&c.title),
        escape(&c.desc)
    );
    // Value axis: grid lines with their figures.
    let _ = write!(s, r#"<g stroke="{GRID}" stroke-width="1">"#);
    let mut v = 0;
    while v <= top {
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" x2="{RIGHT}" y1="{y:.1}" y2="{y:.1}"/>"#,
            y = y(v)
        );
        v += step;
    }
    s.push_str("</g>");
    let _ = write!(s, r#"<g fill="{TEXT}" text-anchor="end">"#);
    let mut v = 0;
    while v <= top {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{y:.1}">{v}</text>"#,
            x = LEFT - 8.0,
            y = y(v) + 4.0
        );
        v += step;
    }
    s.push_str("</g>");
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" x2="{RIGHT}" y1="{BOTTOM}" y2="{BOTTOM}" stroke="{TEXT}" stroke-width="1"/>"#
    );
    // Time axis: every k-th label so that they do not overlap.
    let every = n.div_ceil(MAX_LABELS).max(1);
    let _ = write!(s, r#"<g fill="{TEXT}" text-anchor="middle">"#);
    for (i, label) in c.labels.iter().take(n).enumerate() {
        if i % every == 0 {
            let _ = write!(
                s,
                r#"<text x="{x:.1}" y="{y}">{}</text>"#,
                escape(label),
                x = x(i),
                y = BOTTOM + 18.0
            );
        }
    }
    s.push_str("</g>");
    if n > 0 {
        let line = |vals: &[i64]| -> String {
            (0..n)
                .map(|i| format!("{:.1},{:.1}", x(i), y(vals[i])))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let done = line(&c.done);
        // The area under the done line, closed along the time axis.
        let _ = write!(
            s,
            r#"<polygon points="{:.1},{BOTTOM} {done} {:.1},{BOTTOM}" fill="{DONE}" fill-opacity="0.15"/>"#,
            x(0),
            x(n - 1)
        );
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{TOTAL}" stroke-width="2" stroke-dasharray="6 4"/>"#,
            line(&c.total)
        );
        let _ = write!(
            s,
            r#"<polyline points="{done}" fill="none" stroke="{DONE}" stroke-width="3"/>"#
        );
        // Dots make a single point (and each week) visible.
        let _ = write!(s, r#"<g fill="{DONE}">"#);
        for i in 0..n {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3"/>"#,
                x(i),
                y(c.done[i])
            );
        }
        s.push_str("</g>");
    }
    // Legend: the lines differ in pattern as well as colour.
    let ly = H - 24.0;
    let _ = write!(
        s,
        r#"<g fill="{TEXT}"><line x1="{LEFT}" x2="{x2}" y1="{ly}" y2="{ly}" stroke="{DONE}" stroke-width="3"/><text x="{tx}" y="{ty}">{}</text>"#,
        escape(&c.done_name),
        x2 = LEFT + 28.0,
        tx = LEFT + 36.0,
        ty = ly + 4.0
    );
    let second = LEFT + 36.0 + 7.0 * c.done_name.chars().count() as f64 + 32.0;
    let _ = write!(
        s,
        r#"<line x1="{second}" x2="{x2}" y1="{ly}" y2="{ly}" stroke="{TOTAL}" stroke-width="2" stroke-dasharray="6 4"/><text x="{tx}" y="{ty}">{}</text></g>"#,
        escape(&c.total_name),
        x2 = second + 28.0,
        tx = second + 36.0,
        ty = ly + 4.0
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    fn chart(n: usize) -> Chart {
        Chart {
            id: "burn".into(),
            title: "Erledigte Maßnahmen <im> Zeitverlauf".into(),
            desc: "Von 02.11.2026 bis 30.11.2026: 2 von 5 Maßnahmen erledigt & \"gut\"".into(),
            labels: (0..n).map(|i| format!("KW{:02}", i + 1)).collect(),
            done: (0..n).map(|i| i as i64).collect(),
            total: (0..n).map(|i| 5 + i as i64).collect(),
            done_name: "Erledigt".into(),
            total_name: "Maßnahmen insgesamt".into(),
        }
    }

    /// Parses the whole document; returns the element names and all text.
    fn parse(svg: &str) -> (Vec<String>, String) {
        let mut r = Reader::from_str(svg);
        r.config_mut().check_end_names = true;
        let (mut names, mut text) = (Vec::new(), String::new());
        let mut depth = 0i32;
        loop {
            match r.read_event() {
                Ok(Event::Start(e)) => {
                    depth += 1;
                    names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                    for a in e.attributes() {
                        a.expect("a well-formed attribute");
                    }
                }
                Ok(Event::Empty(e)) => {
                    names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                    for a in e.attributes() {
                        a.expect("a well-formed attribute");
                    }
                }
                Ok(Event::End(_)) => depth -= 1,
                Ok(Event::Text(t)) => text.push_str(&t.decode().unwrap()),
                Ok(Event::GeneralRef(g)) => {
                    let name = String::from_utf8_lossy(&g).into_owned();
                    text.push_str(match name.as_str() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "#39" => "'",
                        other => panic!("unexpected reference {other}"),
                    });
                }
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("not well-formed at {}: {e}\n{svg}", r.buffer_position()),
            }
            assert!(depth >= 0);
        }
        assert_eq!(depth, 0, "every element closed");
        (names, text)
    }

    #[test]
    fn the_chart_is_well_formed_and_named_for_screen_readers() {
        for n in [0, 1, 2, 9, 60] {
            let s = svg(&chart(n));
            let (names, text) = parse(&s);
            assert_eq!(names[0], "svg");
            assert!(names.contains(&"title".to_string()) && names.contains(&"desc".to_string()));
            assert!(s.contains(r#"role="img""#));
            assert!(s.contains(r#"aria-labelledby="burn-title burn-desc""#));
            assert!(
                text.contains("Erledigte Maßnahmen <im> Zeitverlauf"),
                "{text}"
            );
            assert!(text.contains("erledigt & \"gut\""), "{text}");
            assert!(!s.contains("style=") && !s.contains("<script"), "{s}");
            let polylines = names.iter().filter(|n| *n == "polyline").count();
            assert_eq!(polylines, if n == 0 { 0 } else { 2 }, "{n}");
            let dots = names.iter().filter(|n| *n == "circle").count();
            assert_eq!(dots, n);
        }
    }

    #[test]
    fn the_time_axis_shows_at_most_eight_labels() {
        let (_, text) = parse(&svg(&chart(60)));
        let shown = (1..=60)
            .filter(|i| text.contains(&format!("KW{i:02}")))
            .count();
        assert!((1..=MAX_LABELS).contains(&shown), "{shown}");
    }

    #[test]
    fn values_are_drawn_to_scale() {
        let c = Chart {
            id: "b".into(),
            labels: vec!["a".into(), "b".into()],
            done: vec![0, 10],
            total: vec![10, 10],
            ..Default::default()
        };
        let s = svg(&c);
        // 10 is the top of the axis: the done line ends at the top of the plot.
        assert!(s.contains(&format!("{:.1},{:.1}\"", RIGHT, TOP)), "{s}");
        assert!(s.contains(&format!("{:.1},{:.1} ", LEFT, BOTTOM)), "{s}");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(1), 1);
        assert_eq!(tick_step(5), 1);
        assert_eq!(tick_step(6), 2);
        assert_eq!(tick_step(10), 2);
        assert_eq!(tick_step(11), 5);
        assert_eq!(tick_step(100), 20);
        assert_eq!(tick_step(2000), 500);
    }

    #[test]
    fn escaping_covers_the_specials() {
        assert_eq!(escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }
}
