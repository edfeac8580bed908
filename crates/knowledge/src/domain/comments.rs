//! Comments on pages and checklist tasks: what a comment is attached to, its length limit,
//! the `@address` mentions in its text, and the kinds of entries in a handbook's feed of
//! changes. No I/O.

/// Longest comment in characters: a remark, not a second page.
pub const COMMENT_MAX: usize = 5000;

/// How many mentions of one comment are mailed at most (a pasted address list is not a
/// reason to mail the whole administration).
pub const MENTIONS_MAX: usize = 20;

/// What a comment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Page(i64),
    Task(i64),
}

impl Target {
    /// The audit subject and the mail's wording: `page` or `task`.
    pub fn kind(self) -> &'static str {
        match self {
            Target::Page(_) => "page",
            Target::Task(_) => "task",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Target::Page(id) | Target::Task(id) => id,
        }
    }

    /// The staff page that shows the comments.
    pub fn path(self) -> String {
        match self {
            Target::Page(id) => format!("/wissen/seiten/{id}"),
            Target::Task(id) => format!("/wissen/aufgaben/{id}"),
        }
    }
}

/// The e-mail addresses mentioned with `@` (`@anna.admin@beispielstadt.de`), lower-cased,
/// each once, in order of appearance. An `@` inside a word (a plain address without the
/// leading `@`) is not a mention; trailing punctuation is not part of the address.
pub fn mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i] == '@'
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || ".-_+@".contains(chars[i - 1])));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && (chars[j].is_alphanumeric() || "._%+-@".contains(chars[j])) {
            j += 1;
        }
        let raw: String = chars[i + 1..j].iter().collect();
        let addr = raw
            .trim_end_matches(['.', '-', '_', '+', '%'])
            .to_lowercase();
        if plausible(&addr) && !out.contains(&addr) {
            out.push(addr);
        }
        i = j.max(i + 1);
    }
    out
}

fn plausible(a: &str) -> bool {
    match a.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// What happened to a page, as the handbook's feed of changes lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Edited,
    Reviewed,
}

impl Change {
    pub const ALL: [Change; 3] = [Change::Created, Change::Edited, Change::Reviewed];

    pub fn code(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Edited => "edited",
            Change::Reviewed => "reviewed",
        }
    }

    pub fn parse(s: &str) -> Option<Change> {
        Self::ALL.into_iter().find(|c| c.code() == s)
    }

    pub fn label_key(self) -> String {
        format!("knowledge.changes.kind.{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_addresses_after_an_at_sign() {
        assert_eq!(
            mentions("Bitte @Lea.Leser@a.example prüfen, danke @otto@a.example."),
            vec!["lea.leser@a.example", "otto@a.example"]
        );
        // A plain address, a lone @, a handle without domain: no mention.
        assert!(mentions("Schreiben Sie an info@a.example oder @ oder @otto").is_empty());
        // Each address once; brackets and commas end it.
        assert_eq!(mentions("(@a@b.de), @A@B.DE; @a@b.de"), vec!["a@b.de"]);
    }

    #[test]
    fn targets_name_their_page() {
        assert_eq!(Target::Page(3).path(), "/wissen/seiten/3");
        assert_eq!(Target::Task(4).path(), "/wissen/aufgaben/4");
        assert_eq!(Change::parse("reviewed"), Some(Change::Reviewed));
        assert_eq!(Change::parse("x"), None);
    }
}
