//! Links between pages by id, so they survive renames and moves: `[[seite:42]]` shows the
//! page's current title, `[eigener Text](seite:42)` keeps the author's text. Both become
//! `/wissen/seiten/42`; a link to a deleted or unknown page becomes plain struck text.

use std::collections::HashMap;

const WIKI_OPEN: &str = "[[seite:";
const TARGET_OPEN: &str = "](seite:";

/// The page URL.
pub fn url(id: i64) -> String {
    format!("/wissen/seiten/{id}")
}

/// The ids the text links to, in order of appearance, without repeats.
pub fn targets(src: &str) -> Vec<i64> {
    let mut out = vec![];
    for open in [WIKI_OPEN, TARGET_OPEN] {
        let mut rest = src;
        while let Some(i) = rest.find(open) {
            rest = &rest[i + open.len()..];
            if let Some((id, _)) = number(rest)
                && !out.contains(&id)
            {
                out.push(id);
            }
        }
    }
    out
}

/// `src` with its page links resolved: `titles` holds the pages that exist (and the reader
/// may see); others are shown as `missing` (struck through). Returns the rewritten Markdown
/// and the ids of the broken links.
pub fn resolve(src: &str, titles: &HashMap<i64, String>, missing: &str) -> (String, Vec<i64>) {
    let mut broken = vec![];
    let mut out = String::with_capacity(src.len() + 64);
    let mut rest = src;
    loop {
        let wiki = rest.find(WIKI_OPEN);
        let target = rest.find(TARGET_OPEN);
        let (at, is_wiki) = match (wiki, target) {
            (None, None) => break,
            (Some(w), None) => (w, true),
            (None, Some(t)) => (t, false),
            (Some(w), Some(t)) => {
                if w < t {
                    (w, true)
                } else {
                    (t, false)
                }
            }
        };
        let open = if is_wiki { WIKI_OPEN } else { TARGET_OPEN };
        let after = &rest[at + open.len()..];
        let close = if is_wiki { "]]" } else { ")" };
        match number(after).filter(|(_, n)| after[*n..].starts_with(close)) {
            Some((id, n)) => {
                out.push_str(&rest[..at]);
                let title = titles.get(&id);
                if title.is_none() && !broken.contains(&id) {
                    broken.push(id);
                }
                match (is_wiki, title) {
                    (true, Some(t)) => {
                        out.push('[');
                        out.push_str(&escape(t));
                        out.push_str("](");
                        out.push_str(&url(id));
                        out.push(')');
                    }
                    (true, None) => {
                        out.push_str("~~");
                        out.push_str(&escape(missing));
                        out.push_str("~~");
                    }
                    // The author's text stays; only the target changes.
                    (false, Some(_)) => {
                        out.push_str("](");
                        out.push_str(&url(id));
                        out.push(')');
                    }
                    (false, None) => {
                        out.push_str("](");
                        out.push_str(&url(id));
                        out.push_str(") ~~");
                        out.push_str(&escape(missing));
                        out.push_str("~~");
                    }
                }
                rest = &after[n + close.len()..];
            }
            None => {
                out.push_str(&rest[..at + open.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, broken)
}

/// A decimal id at the start of `s` and its length.
fn number(s: &str) -> Option<(i64, usize)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 || n > 18 {
        return None;
    }
    s[..n].parse().ok().map(|id| (id, n))
}

/// Markdown-escapes a title for a link text.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\`*_{}[]()<>#+-.!|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_by_id_show_the_current_title() {
        let titles = HashMap::from([(7, "Urlaub [neu]".to_string())]);
        let (md, broken) = resolve(
            "Siehe [[seite:7]] und [hier](seite:7), nicht [[seite:9]].",
            &titles,
            "gelöscht",
        );
        assert_eq!(
            md,
            "Siehe [Urlaub \\[neu\\]](/wissen/seiten/7) und [hier](/wissen/seiten/7), nicht ~~gelöscht~~."
        );
        assert_eq!(broken, vec![9]);
        assert_eq!(targets("[[seite:7]] (seite:3) [x](seite:7)"), vec![7]);
    }

    #[test]
    fn malformed_links_stay_as_typed() {
        let (md, broken) = resolve("[[seite:abc]] [[seite:1", &HashMap::new(), "x");
        assert_eq!(md, "[[seite:abc]] [[seite:1");
        assert!(broken.is_empty());
    }
}
