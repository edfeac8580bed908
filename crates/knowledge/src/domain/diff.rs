//! A readable word-level diff between two versions of a page: removed words in `<del>`,
//! added words in `<ins>`, unchanged text as it was, all HTML-escaped.

use similar::{ChangeTag, TextDiff};
use std::time::Duration;

/// A diff that takes longer gives up on finding the smallest difference and shows a coarser
/// (still correct) one, so that two very different 1 MB pages cannot hold a worker.
const DEADLINE: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordDiff {
    /// Escaped HTML with `<del>` and `<ins>`.
    pub html: String,
    pub added: usize,
    pub removed: usize,
}

/// The word diff from `old` to `new`.
pub fn words(old: &str, new: &str) -> WordDiff {
    let diff = TextDiff::configure().timeout(DEADLINE).diff_words(old, new);
    let changes: Vec<(ChangeTag, &str)> = diff
        .iter_all_changes()
        .map(|c| (c.tag(), c.value()))
        .collect();
    let mut html = String::with_capacity(old.len().max(new.len()) + 256);
    let (mut added, mut removed) = (0, 0);
    let mut i = 0;
    while i < changes.len() {
        let (tag, v) = changes[i];
        if tag == ChangeTag::Equal {
            escape_into(&mut html, v);
            i += 1;
            continue;
        }
        // One run of changes: the spaces between changed words belong to the run, so a
        // replaced passage reads as one struck and one inserted passage, not word by word.
        let (mut del, mut ins) = (String::new(), String::new());
        loop {
            while let Some(&(tag, v)) = changes.get(i).filter(|c| c.0 != ChangeTag::Equal) {
                let counts = !v.trim().is_empty();
                if tag == ChangeTag::Delete {
                    del.push_str(v);
                    removed += usize::from(counts);
                } else {
                    ins.push_str(v);
                    added += usize::from(counts);
                }
                i += 1;
            }
            let joins = matches!(
                (changes.get(i), changes.get(i + 1)),
                (Some((ChangeTag::Equal, space)), Some((next, _)))
                    if space.trim().is_empty() && *next != ChangeTag::Equal
            );
            if !joins {
                break;
            }
            let space = changes[i].1;
            del.push_str(space);
            ins.push_str(space);
            i += 1;
        }
        if !del.is_empty() {
            html.push_str("<del>");
            escape_into(&mut html, &del);
            html.push_str("</del>");
        }
        if !ins.is_empty() {
            html.push_str("<ins>");
            escape_into(&mut html, &ins);
            html.push_str("</ins>");
        }
    }
    WordDiff {
        html,
        added,
        removed,
    }
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_words_are_marked_and_escaped() {
        let d = words(
            "Die Frist beträgt 14 Tage.",
            "Die Frist beträgt <b>30</b> Tage.",
        );
        assert_eq!(d.removed, 1);
        assert!(d.html.contains("<del>14</del>"), "{}", d.html);
        assert!(
            d.html.contains("<ins>&lt;b&gt;30&lt;/b&gt;</ins>"),
            "{}",
            d.html
        );
        assert!(d.html.starts_with("Die Frist beträgt "));
    }

    #[test]
    fn equal_texts_have_no_changes() {
        let d = words("gleich", "gleich");
        assert_eq!((d.added, d.removed), (0, 0));
        assert_eq!(d.html, "gleich");
    }
}
