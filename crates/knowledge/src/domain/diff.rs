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
    let mut html = String::with_capacity(old.len().max(new.len()) + 256);
    let (mut added, mut removed) = (0, 0);
    // Consecutive changes of one kind share one element, so a replaced sentence reads as one
    // struck and one inserted passage rather than word by word.
    let mut open: Option<ChangeTag> = None;
    for change in diff.iter_all_changes() {
        let tag = change.tag();
        if open != Some(tag) {
            close(&mut html, open);
            match tag {
                ChangeTag::Delete => html.push_str("<del>"),
                ChangeTag::Insert => html.push_str("<ins>"),
                ChangeTag::Equal => {}
            }
            open = Some(tag);
        }
        let v = change.value();
        if !v.trim().is_empty() {
            match tag {
                ChangeTag::Delete => removed += 1,
                ChangeTag::Insert => added += 1,
                ChangeTag::Equal => {}
            }
        }
        escape_into(&mut html, v);
    }
    close(&mut html, open);
    WordDiff {
        html,
        added,
        removed,
    }
}

fn close(html: &mut String, open: Option<ChangeTag>) {
    match open {
        Some(ChangeTag::Delete) => html.push_str("</del>"),
        Some(ChangeTag::Insert) => html.push_str("</ins>"),
        _ => {}
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
