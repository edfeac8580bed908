//! Target fields a module declares, and the mapping from the file's columns to them: suggested
//! from the header names, editable, saved as JSON or TOML (per tenant by the module, or as
//! `--mapping FILE` for the CLI).

use std::borrow::Cow;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ImportError;
use crate::header::Header;
use crate::sheet::column_index;

/// A text of a field declaration: borrowed when declared in code (a `const` costs nothing),
/// owned when built at run time (e.g. from a module's synonyms file).
pub type Text = Cow<'static, str>;

/// A list of texts, borrowed or owned like `Text`; `words!["a", "b"]` writes a borrowed one.
pub type Words = Cow<'static, [Text]>;

/// A borrowed `Words` list for declarations in code: `synonyms: words!["Name", "Nachname"]`.
#[macro_export]
macro_rules! words {
    ($($w:expr),* $(,)?) => {
        ::std::borrow::Cow::Borrowed(&[$(::std::borrow::Cow::Borrowed($w)),*])
    };
}

/// A field the module imports into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Stable key, e.g. `last_name`; the key in `TypedRow::values` and in mapping files.
    pub key: Text,
    /// Translation key of its label, e.g. `refugees.field.last_name`.
    pub label_key: Text,
    pub kind: FieldKind,
    pub required: bool,
    /// Header names that mean this field, e.g. `words!["Name", "Nachname", "Familienname"]`.
    /// Matching ignores case, spaces, punctuation and umlaut spelling (`Staatsangehoerigkeit`
    /// matches `Staatsangehörigkeit`), so synonyms can be written without umlauts.
    pub synonyms: Words,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// German (`03.04.2023`, `3.4.23`), ISO or Excel date cells/serials.
    Date,
    Integer,
    /// Exact decimal (`1.234,56`).
    Decimal,
    /// `ja`/`nein`, `x`, `1`/`0`, `wahr`/`falsch`.
    Bool,
    /// One of these values, recognised by value or synonym.
    Choice(Cow<'static, [Choice]>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Stored value, e.g. `female`.
    pub value: Text,
    /// What the file may say, e.g. `words!["w", "weiblich"]`.
    pub synonyms: Words,
}

/// Which column goes into which field. Columns are found by `column` (the letter, if given)
/// or else by their header text, so a saved mapping still fits when columns move.
///
/// JSON: `{"header_row": 3, "columns": [{"header": "Name", "field": "last_name"}]}`;
/// TOML: `header_row = 3` and `[[columns]]` tables with `header` and `field`.
/// A column without `field` (or not listed) is not imported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The header's row number as the user sees it; detected when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_row: Option<u32>,
    #[serde(default)]
    pub columns: Vec<ColumnMapping>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// The column's letter (`C`); when given it wins over `header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The header text as in the file.
    #[serde(default)]
    pub header: String,
    /// The field key, or none to leave the column out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How sure the suggestion is (1.0: a synonym matched exactly); not saved.
    #[serde(skip)]
    pub score: Option<f32>,
}

/// Minimum similarity for a suggestion that is not an exact synonym.
const SUGGEST_THRESHOLD: f32 = 0.8;

impl Mapping {
    /// A suggestion for these headers: exact (normalised) synonym matches first, then the most
    /// similar remaining pairs above a threshold; each field and column used at most once.
    pub fn suggest(header: &Header, fields: &[Field]) -> Mapping {
        let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
        for (ci, (_, text)) in header.columns.iter().enumerate() {
            let h = normalize(text);
            if h.is_empty() {
                continue;
            }
            for (fi, f) in fields.iter().enumerate() {
                let score = std::iter::once(&f.key)
                    .chain(f.synonyms.iter())
                    .map(|s| similarity(&h, &normalize(s)))
                    .fold(0.0f32, f32::max);
                if score >= SUGGEST_THRESHOLD {
                    candidates.push((score, ci, fi));
                }
            }
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut col_field: Vec<Option<(usize, f32)>> = vec![None; header.columns.len()];
        let mut used = vec![false; fields.len()];
        for (score, ci, fi) in candidates {
            if col_field[ci].is_none() && !used[fi] {
                col_field[ci] = Some((fi, score));
                used[fi] = true;
            }
        }
        let columns = header
            .columns
            .iter()
            .zip(col_field)
            .map(|((letter, text), m)| ColumnMapping {
                column: Some(letter.clone()),
                header: text.clone(),
                field: m.map(|(fi, _)| fields[fi].key.to_string()),
                score: m.map(|(_, s)| s),
            })
            .collect();
        Mapping {
            header_row: Some(header.row),
            columns,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Result<Mapping, ImportError> {
        serde_json::from_str(s).map_err(|e| ImportError::BadMapping(e.to_string()))
    }

    pub fn from_toml(s: &str) -> Result<Mapping, ImportError> {
        toml::from_str(s).map_err(|e| ImportError::BadMapping(e.to_string()))
    }

    /// Reads `--mapping FILE`: TOML for `.toml`, JSON otherwise.
    pub fn load(path: &Path) -> Result<Mapping, ImportError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ImportError::BadMapping(e.to_string()))?;
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if is_toml {
            Self::from_toml(&text)
        } else {
            Self::from_json(&text)
        }
    }

    /// The column index (0-based) each mapping entry points at in this header, if found.
    pub(crate) fn locate(&self, entry: &ColumnMapping, header: &Header) -> Option<usize> {
        if let Some(letter) = &entry.column {
            return column_index(letter);
        }
        let want = normalize(&entry.header);
        if want.is_empty() {
            return None;
        }
        header
            .columns
            .iter()
            .position(|(_, t)| normalize(t) == want)
    }
}

/// Lower case, umlauts and ß spelled out, everything but letters and digits removed:
/// `"Geb.-Datum "` → `gebdatum`, `"Staatsangehörigkeit"` → `staatsangehoerigkeit`.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'é' | 'è' | 'ê' => out.push('e'),
            'á' | 'à' | 'â' => out.push('a'),
            c if c.is_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

/// 1.0 for equal normalised names, else the Levenshtein ratio; a name that contains the other
/// whole (at least 4 letters, e.g. `geburtsdatumdd` and `geburtsdatum`) scores at least 0.85.
pub fn similarity(a: &str, b: &str) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    let ratio = 1.0 - levenshtein(a, b) as f32 / la.max(lb) as f32;
    let contains = la.min(lb) >= 4 && (a.contains(b) || b.contains(a));
    if contains { ratio.max(0.85) } else { ratio }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_and_similarity() {
        assert_eq!(normalize(" Geb.-Datum "), "gebdatum");
        assert_eq!(normalize("Staatsangehörigkeit"), "staatsangehoerigkeit");
        assert_eq!(normalize("STRASSE"), normalize("Straße"));
        assert_eq!(similarity("vorname", "vorname"), 1.0);
        assert!(similarity("vornamen", "vorname") >= 0.8);
        assert!(similarity("bemerkung", "geburtsdatum") < 0.5);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
