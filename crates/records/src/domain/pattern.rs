//! The Aktenzeichen pattern: `{plan}`, `{year}` and `{seq}` / `{seq:04}` (zero-padded) in
//! literal text, e.g. the default `{plan}-{year}/{seq:04}` → `460.12-2026/0007`.
//!
//! The counter behind `{seq}` runs per (plan, year) when the pattern shows both, per plan or
//! per year when it shows one, or once per tenant: so a number never repeats. A pattern
//! without `{seq}` would repeat numbers and is refused.

pub const DEFAULT: &str = "{plan}-{year}/{seq:04}";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Plan,
    Year,
    Seq(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    parts: Vec<Part>,
}

/// Why a pattern is refused (translation keys).
pub const ERR_NO_SEQ: &str = "records.err.pattern_no_seq";
pub const ERR_SYNTAX: &str = "records.err.pattern_syntax";

impl Pattern {
    pub fn parse(s: &str) -> Result<Pattern, &'static str> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            lit.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or(ERR_SYNTAX)?;
            let name = &after[..close];
            let part = match name {
                "plan" => Part::Plan,
                "year" => Part::Year,
                "seq" => Part::Seq(0),
                _ => match name.strip_prefix("seq:") {
                    Some(w) if !w.is_empty() && w.len() <= 2 => {
                        Part::Seq(w.parse::<usize>().map_err(|_| ERR_SYNTAX)?.min(12))
                    }
                    _ => return Err(ERR_SYNTAX),
                },
            };
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(part);
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(ERR_SYNTAX);
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        let seqs = parts.iter().filter(|p| matches!(p, Part::Seq(_))).count();
        if seqs == 0 {
            return Err(ERR_NO_SEQ);
        }
        if seqs > 1 || s.chars().count() > 100 || s.chars().any(char::is_control) {
            return Err(ERR_SYNTAX);
        }
        Ok(Pattern { parts })
    }

    /// The counter's scope: the plan code when the pattern shows it (else `*`), and the year
    /// when it shows it (else 0).
    pub fn counter_key(&self, plan: &str, year: i32) -> (String, i32) {
        let p = if self.parts.contains(&Part::Plan) {
            plan.to_string()
        } else {
            "*".to_string()
        };
        let y = if self.parts.contains(&Part::Year) {
            year
        } else {
            0
        };
        (p, y)
    }

    pub fn render(&self, plan: &str, year: i32, seq: i64) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => s.push_str(l),
                Part::Plan => s.push_str(plan),
                Part::Year => s.push_str(&year.to_string()),
                Part::Seq(w) => s.push_str(&format!("{seq:0w$}", w = *w)),
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pattern() {
        let p = Pattern::parse(DEFAULT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.render("460.12", 2026, 7), "460.12-2026/0007");
        assert_eq!(p.counter_key("460.12", 2026), ("460.12".into(), 2026));
    }

    #[test]
    fn refused_patterns() {
        assert_eq!(Pattern::parse("{plan}-{year}"), Err(ERR_NO_SEQ));
        assert_eq!(Pattern::parse("AZ {seq"), Err(ERR_SYNTAX));
        assert_eq!(Pattern::parse("{foo}/{seq}"), Err(ERR_SYNTAX));
        assert_eq!(Pattern::parse("{seq}-{seq}"), Err(ERR_SYNTAX));
        let p = Pattern::parse("AZ {seq:5}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.counter_key("1", 2026), ("*".into(), 0));
        assert_eq!(p.render("1", 2026, 42), "AZ 00042");
    }
}
