//! One shared way to validate input: each problem names the field and a translation key, so
//! the web layer can show a German message beside the field and the API a problem document.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    /// Translation key, e.g. `err.required`.
    pub key: String,
    /// Value substituted for `{arg}` in the translated message.
    pub arg: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, key: &str) {
        self.add_arg(field, key, None::<String>);
    }

    pub fn add_arg(&mut self, field: &str, key: &str, arg: Option<impl ToString>) {
        self.0.push(FieldError {
            field: field.to_string(),
            key: key.to_string(),
            arg: arg.map(|a| a.to_string()),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }

    /// `Ok(())` when nothing was found, else the collected errors.
    pub fn into_result(self) -> crate::Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::Invalid(self))
        }
    }

    /// A single-field error as an `Error`, for checks that need the database.
    pub fn single(field: &str, key: &str) -> crate::Error {
        let mut e = Self::new();
        e.add(field, key);
        crate::Error::Invalid(e)
    }

    /// A number a list or form takes (page size, offset, page): outside `range` it is refused
    /// with the allowed range, never clamped, so a client learns of its mistake.
    pub fn in_range<T>(&mut self, field: &str, value: T, range: std::ops::RangeInclusive<T>) -> T
    where
        T: PartialOrd + std::fmt::Display + Copy,
    {
        if !range.contains(&value) {
            let arg = format!("{}\u{2013}{}", range.start(), range.end());
            self.add_arg(field, "err.out_of_range", Some(arg));
        }
        value
    }

    /// Trims, requires a value and enforces a maximum length in characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let v = value.trim().to_string();
        if v.is_empty() {
            self.add(field, "err.required");
        } else if v.chars().count() > max {
            self.add_arg(field, "err.too_long", Some(max));
        }
        v
    }

    /// Like `text`, but an empty value is fine.
    pub fn optional_text(&mut self, field: &str, value: &str, max: usize) -> String {
        let v = value.trim().to_string();
        if v.chars().count() > max {
            self.add_arg(field, "err.too_long", Some(max));
        }
        v
    }

    /// Normalises an e-mail address to lower case and checks its rough shape; deliverability
    /// is only proven by sending mail.
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let v = value.trim().to_lowercase();
        if v.is_empty() {
            self.add(field, "err.required");
        } else if !is_plausible_email(&v) {
            self.add(field, "err.email");
        }
        v
    }

    /// Password policy after NIST SP 800-63B: length 8 to 128, no composition rules, common and
    /// guessable passwords (also those built from the user's name or address) refused.
    pub fn new_password(&mut self, field: &str, value: &str, user_inputs: &[&str]) {
        let n = value.chars().count();
        if n < MIN_PASSWORD {
            self.add_arg(field, "err.password_short", Some(MIN_PASSWORD));
        } else if n > MAX_PASSWORD {
            self.add_arg(field, "err.too_long", Some(MAX_PASSWORD));
        } else if is_common_password(value, user_inputs) {
            self.add(field, "err.password_common");
        }
    }
}

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;

fn is_plausible_email(v: &str) -> bool {
    if v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match v.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain.contains('.')
                && !domain.contains('@')
        }
        None => false,
    }
}

/// zxcvbn knows the common-password lists and patterns (keyboard walks, dates, repeats);
/// a score of 0 or 1 means fewer than 10^6 guesses.
fn is_common_password(value: &str, user_inputs: &[&str]) -> bool {
    let words = user_words(user_inputs);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let score = zxcvbn::zxcvbn(value, &words).score();
    (score as u8) < 2
}

/// zxcvbn matches user inputs only as whole words; an address like `erika.mustermann@…` or a
/// name like `Erika Mustermann` must also count in parts (`erika`, `mustermann`) and run
/// together (`erikamustermann`).
fn user_words(inputs: &[&str]) -> Vec<String> {
    let mut words = vec![];
    for input in inputs {
        let lower = input.trim().to_lowercase();
        let name = lower.split('@').next().unwrap_or_default();
        let parts: Vec<&str> = name
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
            .collect();
        words.push(parts.concat());
        words.extend(parts.iter().map(|p| p.to_string()));
        words.push(lower);
    }
    words.retain(|w| !w.is_empty());
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_outside_their_range_are_refused_with_the_range() {
        let mut e = FieldErrors::new();
        assert_eq!(e.in_range("limit", 20u32, 1..=100), 20);
        assert_eq!(e.in_range("offset", 0u64, 0..=1000), 0);
        assert!(e.is_empty());
        e.in_range("limit", 0u32, 1..=100);
        e.in_range("offset", 1001u64, 0..=1000);
        let got: Vec<_> =
            e.0.iter()
                .map(|f| (f.field.as_str(), f.arg.as_deref()))
                .collect();
        assert_eq!(
            got,
            vec![
                ("limit", Some("1\u{2013}100")),
                ("offset", Some("0\u{2013}1000"))
            ]
        );
        assert!(e.0.iter().all(|f| f.key == "err.out_of_range"));
    }

    #[test]
    fn password_policy() {
        let check = |p: &str| {
            let mut e = FieldErrors::new();
            e.new_password("password", p, &["erika.mustermann@example.org"]);
            e.0.first().map(|e| e.key.clone())
        };
        assert_eq!(check("kurz").as_deref(), Some("err.password_short"));
        assert_eq!(check("password1").as_deref(), Some("err.password_common"));
        assert_eq!(check("12345678").as_deref(), Some("err.password_common"));
        assert_eq!(
            check("erikamustermann").as_deref(),
            Some("err.password_common")
        );
        // No composition rules: long lower-case passphrases are fine.
        assert_eq!(check("tulpenbeet sommerregen"), None);
        let long: String = "am markt steht das alte rathaus, davor blühen im mai die linden"
            .chars()
            .chain(" ".chars())
            .take(64)
            .collect();
        assert_eq!(long.chars().count(), 64);
        assert_eq!(check(&long), None, "64 characters must be allowed");
        // A repeated pattern is refused, however long.
        assert_eq!(
            check(&"x7".repeat(32)).as_deref(),
            Some("err.password_common")
        );
        assert_eq!(check(&"a".repeat(129)).as_deref(), Some("err.too_long"));
    }

    #[test]
    fn email_and_text() {
        let mut e = FieldErrors::new();
        assert_eq!(e.email("email", " Erika@Example.ORG "), "erika@example.org");
        e.email("e2", "erika");
        e.email("e3", "erika@localhost");
        e.text("name", "   ", 10);
        e.text("long", "ääääääääääää", 10);
        let keys: Vec<_> =
            e.0.iter()
                .map(|x| (x.field.as_str(), x.key.as_str()))
                .collect();
        assert_eq!(
            keys,
            vec![
                ("e2", "err.email"),
                ("e3", "err.email"),
                ("name", "err.required"),
                ("long", "err.too_long")
            ]
        );
    }
}
