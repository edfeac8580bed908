//! Typed conversion of cells: German and ISO dates, Excel serial dates, numbers with decimal
//! comma and thousands dots, booleans, choices. Each failure is a translation key with the
//! offending text as its argument.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Serialize, Serializer};

use crate::mapping::{Choice, FieldKind, normalize};
use crate::sheet::{Cell, float_text};

/// A converted value (serialized plainly: `"Müller"`, `"2023-04-03"`, `3`, `"1234.56"`, `true`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Value {
    Text(String),
    Date(NaiveDate),
    Integer(i64),
    Decimal(Decimal),
    Bool(bool),
    /// The choice's `value` (borrowed, so free to copy, when the choice was declared in code).
    Choice(Cow<'static, str>),
}

/// An exact decimal number: `mantissa × 10^-scale` (`1.234,56` → 123456, scale 2). No binary
/// rounding, so amounts of money survive the import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub mantissa: i64,
    pub scale: u32,
}

impl Decimal {
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(self.scale as i32)
    }

    /// The integer value, if there is no fractional part.
    pub fn to_integer(self) -> Option<i64> {
        let p = 10i64.checked_pow(self.scale)?;
        (self.mantissa % p == 0).then_some(self.mantissa / p)
    }

    /// From a plain `-1234.56` (ASCII digits, at most one `.`; 18 significant digits).
    fn from_plain(s: &str) -> Option<Decimal> {
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let frac = frac.trim_end_matches('0');
        if int.is_empty() && frac.is_empty() && !s.contains('0') {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = format!("{int}{frac}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 18 {
            return None;
        }
        let m: i64 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        Some(Decimal {
            mantissa: if neg { -m } else { m },
            scale: frac.len() as u32,
        })
    }
}

impl std::fmt::Display for Decimal {
    /// `1234.56` (a dot, no grouping: for storage and logs, not for users).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A conversion failure: translation key and the cell's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvError {
    pub key: &'static str,
    pub arg: String,
}

fn fail(key: &'static str, cell: &Cell) -> ConvError {
    ConvError {
        key,
        arg: cell.to_text(),
    }
}

/// What a successful conversion may want to tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    None,
    /// A two-digit year was expanded (00–69 → 20xx, 70–99 → 19xx).
    TwoDigitYear,
}

/// Converts a non-empty cell to a field's type.
pub fn convert(cell: &Cell, kind: &FieldKind) -> Result<(Value, Note), ConvError> {
    if let Cell::Error(_) = cell {
        return Err(fail("import.err.cell_error", cell));
    }
    let plain = |v| Ok((v, Note::None));
    match kind {
        FieldKind::Text => plain(Value::Text(cell.to_text())),
        FieldKind::Date => match cell {
            Cell::DateTime(d) => plain(Value::Date(d.date())),
            Cell::Int(_) | Cell::Float(_) => {
                let serial = match cell {
                    Cell::Int(i) => *i as f64,
                    Cell::Float(f) => *f,
                    _ => 0.0,
                };
                serial_date(serial)
                    .map(|d| (Value::Date(d), Note::None))
                    .ok_or_else(|| fail("import.err.date", cell))
            }
            _ => parse_date(&cell.to_text())
                .map(|(d, two)| {
                    let note = if two { Note::TwoDigitYear } else { Note::None };
                    (Value::Date(d), note)
                })
                .ok_or_else(|| fail("import.err.date", cell)),
        },
        FieldKind::Integer => number(cell)
            .ok_or_else(|| fail("import.err.number", cell))?
            .to_integer()
            .map(|i| (Value::Integer(i), Note::None))
            .ok_or_else(|| fail("import.err.integer", cell)),
        FieldKind::Decimal => number(cell)
            .map(|d| (Value::Decimal(d), Note::None))
            .ok_or_else(|| fail("import.err.number", cell)),
        FieldKind::Bool => match cell {
            Cell::Bool(b) => plain(Value::Bool(*b)),
            _ => parse_bool(&cell.to_text())
                .map(|b| (Value::Bool(b), Note::None))
                .ok_or_else(|| fail("import.err.bool", cell)),
        },
        FieldKind::Choice(choices) => find_choice(&cell.to_text(), choices)
            .map(|c| (Value::Choice(c.value.clone()), Note::None))
            .ok_or_else(|| fail("import.err.choice", cell)),
    }
}

fn number(cell: &Cell) -> Option<Decimal> {
    match cell {
        Cell::Int(i) => Some(Decimal {
            mantissa: *i,
            scale: 0,
        }),
        Cell::Float(f) if f.is_finite() => Decimal::from_plain(&float_text(*f)),
        Cell::Text(s) => parse_number(s),
        _ => None,
    }
}

/// German numbers: `1.234,56`, `1234,56`, `-3`, `1.234` (a single dot followed by exactly three
/// digits is a thousands separator, as in German), also `1,234.56` and `1234.5` from English
/// exports. Spaces, non-breaking spaces, apostrophes as separators and a trailing `€` are
/// ignored.
pub fn parse_number(s: &str) -> Option<Decimal> {
    let s: String = s
        .trim()
        .trim_end_matches('€')
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    if s.is_empty() {
        return None;
    }
    let dots = s.matches('.').count();
    let commas = s.matches(',').count();
    let grouped = |s: &str, sep: char| -> Option<String> {
        // Every group after the first has exactly three digits.
        let mut parts = s.split(sep);
        let first = parts.next()?;
        let first_digits = first.trim_start_matches(['-', '+']);
        if first_digits.is_empty() || first_digits.len() > 3 {
            return None;
        }
        let mut out = first.to_string();
        for p in parts {
            if p.len() != 3 {
                return None;
            }
            out.push_str(p);
        }
        Some(out)
    };
    let comma_last = s.rfind(',') > s.rfind('.');
    let plain = match (dots, commas) {
        (0, 0) => s,
        (0, 1) => s.replace(',', "."),
        (0, _) => grouped(&s, ',')?,
        (1, 0) => {
            let (int, frac) = s.split_once('.')?;
            let int_digits = int.trim_start_matches(['-', '+']);
            if frac.len() == 3 && !int_digits.is_empty() && int_digits != "0" {
                format!("{int}{frac}")
            } else {
                s
            }
        }
        (_, 0) => grouped(&s, '.')?,
        (_, 1) if comma_last => {
            // `1.234,56`: dots group, the comma is the decimal mark.
            let (int, frac) = s.split_once(',')?;
            format!("{}.{frac}", grouped(int, '.')?)
        }
        (1, _) if !comma_last => {
            // `1,234.56`: commas group, the dot is the decimal mark.
            let (int, frac) = s.split_once('.')?;
            format!("{}.{frac}", grouped(int, ',')?)
        }
        _ => return None,
    };
    Decimal::from_plain(&plain)
}

/// `03.04.2023`, `3.4.23`, `3.4.2023 14:30`, `2023-04-03`, `2023-04-03T14:30:00`.
/// Returns whether the year had two digits (00–69 → 20xx, 70–99 → 19xx).
pub fn parse_date(s: &str) -> Option<(NaiveDate, bool)> {
    let s = s.trim();
    // A time after the date is ignored.
    let date_part = s.split([' ', 'T']).next()?.trim();
    if let Some((y, rest)) = date_part.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        if y.len() != 4 {
            return None;
        }
        return Some((
            ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?,
            false,
        ));
    }
    let mut parts = date_part.split('.').map(str::trim);
    let d = parts.next()?;
    let m = parts.next()?;
    let y = parts.next()?;
    if parts.next().is_some_and(|p| !p.is_empty()) || d.len() > 2 || m.len() > 2 {
        return None;
    }
    let (d, m): (u32, u32) = (d.parse().ok()?, m.parse().ok()?);
    let (year, two) = match y.len() {
        4 => (y.parse().ok()?, false),
        2 => {
            let yy: i32 = y.parse().ok()?;
            (if yy < 70 { 2000 + yy } else { 1900 + yy }, true)
        }
        _ => return None,
    };
    Some((ymd(year, m, d)?, two))
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    if !(1000..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

/// An Excel serial day number (1900 system) as a date: 1 is 1 January 1900, 60 is the
/// 29 February 1900 that Excel invents (refused), from 61 on the count is shifted by that
/// day. Serials outside 1..=2958465 (31.12.9999) are refused.
pub fn serial_date(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    let base = match days {
        60 => return None,
        d if d < 60 => NaiveDate::from_ymd_opt(1899, 12, 31)?,
        _ => NaiveDate::from_ymd_opt(1899, 12, 30)?,
    };
    base.checked_add_signed(chrono::Duration::days(days))
}

/// A date-formatted cell from calamine (either epoch, Excel's invented 29.02.1900 becomes an
/// error cell).
pub(crate) fn excel_datetime(d: &calamine::ExcelDateTime) -> Cell {
    let (y, mo, da, h, mi, s, _) = d.to_ymd_hms_milli();
    NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(da))
        .and_then(|date| date.and_hms_opt(u32::from(h), u32::from(mi), u32::from(s)))
        .map_or_else(
            || Cell::Error(format!("{da:02}.{mo:02}.{y}")),
            Cell::DateTime,
        )
}

/// An ISO date or date-time from an ODS cell.
pub(crate) fn iso_cell(s: &str) -> Cell {
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Cell::DateTime(dt);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Cell::DateTime(d.and_time(chrono::NaiveTime::MIN));
    }
    Cell::Text(s.to_string())
}

/// `ja`/`nein`, `j`/`n`, `x` (yes), `1`/`0`, `wahr`/`falsch`, `true`/`false`, `yes`/`no`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match normalize(s).as_str() {
        "ja" | "j" | "x" | "1" | "wahr" | "true" | "yes" | "y" => Some(true),
        "nein" | "n" | "0" | "falsch" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// The value of the choice whose value or synonym matches (normalised like header names).
pub fn parse_choice<'a>(s: &str, choices: &'a [Choice]) -> Option<&'a str> {
    find_choice(s, choices).map(|c| &*c.value)
}

fn find_choice<'a>(s: &str, choices: &'a [Choice]) -> Option<&'a Choice> {
    let n = normalize(s);
    choices
        .iter()
        .find(|c| normalize(&c.value) == n || c.synonyms.iter().any(|x| normalize(x) == n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn german_and_iso_dates() {
        assert_eq!(parse_date("03.04.2023"), Some((d(2023, 4, 3), false)));
        assert_eq!(parse_date("3.4.2023"), Some((d(2023, 4, 3), false)));
        assert_eq!(parse_date("3.4.23"), Some((d(2023, 4, 3), true)));
        assert_eq!(parse_date("1.1.69"), Some((d(2069, 1, 1), true)));
        assert_eq!(parse_date("1.1.70"), Some((d(1970, 1, 1), true)));
        assert_eq!(parse_date("31.12.99"), Some((d(1999, 12, 31), true)));
        assert_eq!(parse_date("01.01.00"), Some((d(2000, 1, 1), true)));
        assert_eq!(parse_date("2023-04-03"), Some((d(2023, 4, 3), false)));
        assert_eq!(
            parse_date("2023-04-03T10:00:00"),
            Some((d(2023, 4, 3), false))
        );
        assert_eq!(parse_date("03.04.2023 14:30"), Some((d(2023, 4, 3), false)));
        assert_eq!(parse_date("03.04."), None);
        assert_eq!(parse_date("31.02.2023"), None);
        assert_eq!(parse_date("3.4.123"), None);
        assert_eq!(parse_date("morgen"), None);
        assert_eq!(parse_date("04/03/2023"), None);
    }

    #[test]
    fn excel_serials_with_the_1900_bug() {
        assert_eq!(serial_date(1.0), Some(d(1900, 1, 1)));
        assert_eq!(serial_date(59.0), Some(d(1900, 2, 28)));
        assert_eq!(serial_date(60.0), None, "29.02.1900 does not exist");
        assert_eq!(serial_date(61.0), Some(d(1900, 3, 1)));
        assert_eq!(serial_date(45019.0), Some(d(2023, 4, 3)));
        assert_eq!(serial_date(45019.75), Some(d(2023, 4, 3)));
        assert_eq!(serial_date(0.0), None);
        assert_eq!(serial_date(-5.0), None);
        assert_eq!(serial_date(3e6), None);
        // calamine's date cells, both epochs.
        let c = calamine::ExcelDateTime::new(45019.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(
            excel_datetime(&c),
            Cell::DateTime(d(2023, 4, 3).and_hms_opt(0, 0, 0).unwrap())
        );
        let c = calamine::ExcelDateTime::new(43557.0, calamine::ExcelDateTimeType::DateTime, true);
        assert_eq!(
            excel_datetime(&c),
            Cell::DateTime(d(2023, 4, 3).and_hms_opt(0, 0, 0).unwrap())
        );
        let c = calamine::ExcelDateTime::new(60.0, calamine::ExcelDateTimeType::DateTime, false);
        assert!(matches!(excel_datetime(&c), Cell::Error(_)));
    }

    #[test]
    fn german_numbers() {
        let n = |s: &str| parse_number(s).map(|d| d.to_string());
        assert_eq!(n("1.234,56").as_deref(), Some("1234.56"));
        assert_eq!(n("1234,56").as_deref(), Some("1234.56"));
        assert_eq!(n("-0,5").as_deref(), Some("-0.5"));
        assert_eq!(n("1.234.567").as_deref(), Some("1234567"));
        assert_eq!(n("1.234").as_deref(), Some("1234"));
        assert_eq!(n("1.5").as_deref(), Some("1.5"));
        assert_eq!(n("0.125").as_deref(), Some("0.125"));
        assert_eq!(n("1,234.56").as_deref(), Some("1234.56"));
        assert_eq!(n("12 345,00 €").as_deref(), Some("12345"));
        assert_eq!(n("42").as_deref(), Some("42"));
        assert_eq!(n("1.23.4"), None);
        assert_eq!(n("12,34,5"), None);
        assert_eq!(n("zwölf"), None);
        assert_eq!(n(""), None);
        assert_eq!(n("-"), None);
        assert_eq!(n("99999999999999999999"), None);
        assert_eq!(
            parse_number("1.234,50").unwrap(),
            Decimal {
                mantissa: 12345,
                scale: 1
            }
        );
        assert_eq!(
            number(&Cell::Float(1234.56)).unwrap().to_string(),
            "1234.56"
        );
        assert_eq!(number(&Cell::Float(3.0)).unwrap().to_integer(), Some(3));
    }

    #[test]
    fn booleans_and_choices() {
        for t in ["ja", "Ja", "x", "X", "1", "wahr", "WAHR", "true"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["nein", "0", "falsch", "FALSCH", "n"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("vielleicht"), None);
        const CHOICES: &[Choice] = &[
            Choice {
                value: Cow::Borrowed("female"),
                synonyms: crate::words!["w", "weiblich", "Frau"],
            },
            Choice {
                value: Cow::Borrowed("male"),
                synonyms: crate::words!["m", "maennlich", "Mann"],
            },
        ];
        // Choices built at run time (owned texts) behave the same.
        let owned: Vec<Choice> = CHOICES
            .iter()
            .map(|c| Choice {
                value: Cow::Owned(c.value.to_string()),
                synonyms: c
                    .synonyms
                    .iter()
                    .map(|x| Cow::Owned(x.to_string()))
                    .collect(),
            })
            .collect();
        assert_eq!(parse_choice("Weiblich", &owned), Some("female"));
        assert_eq!(
            convert(&Cell::Text("Mann".into()), &FieldKind::Choice(owned.into()))
                .unwrap()
                .0,
            Value::Choice(Cow::Borrowed("male"))
        );
        assert_eq!(parse_choice("Weiblich", CHOICES), Some("female"));
        assert_eq!(parse_choice("männlich", CHOICES), Some("male"));
        assert_eq!(parse_choice("male", CHOICES), Some("male"));
        assert_eq!(parse_choice("divers", CHOICES), None);
    }

    #[test]
    fn conversion_errors_carry_key_and_text() {
        let e = convert(&Cell::Text("32.13.2020".into()), &FieldKind::Date).unwrap_err();
        assert_eq!((e.key, e.arg.as_str()), ("import.err.date", "32.13.2020"));
        let e = convert(&Cell::Text("2,5".into()), &FieldKind::Integer).unwrap_err();
        assert_eq!(e.key, "import.err.integer");
        let e = convert(&Cell::Error("#DIV/0!".into()), &FieldKind::Text).unwrap_err();
        assert_eq!(
            (e.key, e.arg.as_str()),
            ("import.err.cell_error", "#DIV/0!")
        );
        assert_eq!(
            convert(&Cell::Float(45019.0), &FieldKind::Date).unwrap().0,
            Value::Date(d(2023, 4, 3))
        );
    }
}
