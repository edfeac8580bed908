//! The tenant's street directory: CSV import (pure parsing, no storage), address normalisation
//! and an in-memory index for autocomplete and address resolution.
//!
//! Matching uses two keys:
//! - [`normalise`] (strict): lowercase, umlauts spelled out (ä→ae, ß→ss), "str."/"str" →
//!   "strasse", whitespace and hyphens collapsed to one space. Used for exact resolution.
//! - a loose key derived from it: spaces removed and an `e` after `a`/`o`/`u` dropped, so
//!   "Müllerstr", "Muellerstrasse", "Mullerstraße" and "Müller-Straße" all meet. Decision: typing
//!   without umlauts ("mull") must find "Müllerstraße", because phones and foreign keyboards
//!   often lack them; the price is harmless extra suggestions ("Baurstraße" for "Bauerstr").
//!   [`Directory::resolve`] uses the loose key only as a fallback when it names a single street.

use std::collections::HashSet;

/// Data rows accepted per file; a municipality of any size stays far below this.
pub const MAX_ROWS: usize = 500_000;
/// Line errors kept for the report; beyond this only the count grows.
pub const MAX_LINE_ERRORS: usize = 100;
const MAX_STREET_CHARS: usize = 200;
const MAX_NUMBER_CHARS: usize = 30;

/// One entry of the street directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub street: String,
    /// Empty for a street (or square) without house numbers.
    pub house_number: String,
    /// Five digits, or empty when the file has no postcode column.
    pub postcode: String,
    pub lat: f64,
    pub lon: f64,
}

/// A column of the import file, named in German for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Street,
    HouseNumber,
    HouseNumberSuffix,
    Postcode,
    Lat,
    Lon,
}

impl Column {
    /// Translation key of the column's name, for messages.
    pub fn key(self) -> &'static str {
        match self {
            Column::Street => "reports.streets.col.street",
            Column::HouseNumber => "reports.streets.col.house_number",
            Column::HouseNumberSuffix => "reports.streets.col.house_number_suffix",
            Column::Postcode => "reports.streets.col.postcode",
            Column::Lat => "reports.streets.col.lat",
            Column::Lon => "reports.streets.col.lon",
        }
    }
}

/// The translations messages are written with (the web's catalog implements it), so the
/// parser stays free of German text and of the web layer.
pub trait Texts {
    fn text(&self, key: &str) -> String;
    /// The text with `{arg}` replaced.
    fn text_with(&self, key: &str, arg: &str) -> String;
}

/// A problem in one line of the file. `line` is the physical line where the record starts (1 =
/// header), as an office program shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub line: u64,
    pub column: Option<Column>,
    /// Message key, e.g. `reports.streets.err.lat_invalid`.
    pub key: &'static str,
}

impl LineError {
    /// "Zeile 3, Spalte Breite (lat): Breite (lat) ist keine Zahl" in the catalog's language.
    pub fn message(&self, t: &dyn Texts) -> String {
        let mut out = t.text_with("reports.streets.line", &self.line.to_string());
        if let Some(column) = self.column {
            out.push_str(&t.text_with("reports.streets.in_column", &t.text(column.key())));
        }
        out.push_str(": ");
        out.push_str(&t.text(self.key));
        out
    }
}

/// Why a file was refused as a whole. An import is all or nothing, so one bad line refuses the
/// file (with every line error listed) rather than storing half a directory.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportError {
    /// No content, or a header without data rows.
    Empty,
    /// A spreadsheet, PDF or other binary file; `detected` is the key of its kind, for the message.
    NotCsv {
        detected: &'static str,
    },
    /// The header lacks required columns (street, lat, lon).
    MissingColumns {
        missing: Vec<Column>,
    },
    /// Two header cells mean the same column.
    DuplicateColumn {
        column: Column,
    },
    TooManyRows {
        limit: usize,
    },
    /// Lines with errors: at most [`MAX_LINE_ERRORS`] of them, `total` counts all.
    InvalidLines {
        errors: Vec<LineError>,
        total: usize,
    },
}

impl ImportError {
    pub fn key(&self) -> &'static str {
        match self {
            ImportError::Empty => "reports.streets.err.empty",
            ImportError::NotCsv { .. } => "reports.streets.err.not_csv",
            ImportError::MissingColumns { .. } => "reports.streets.err.missing_columns",
            ImportError::DuplicateColumn { .. } => "reports.streets.err.duplicate_column",
            ImportError::TooManyRows { .. } => "reports.streets.err.too_many_rows",
            ImportError::InvalidLines { .. } => "reports.streets.err.invalid_lines",
        }
    }
}

impl ImportError {
    /// The whole message, line errors on lines of their own, in the catalog's language.
    pub fn message(&self, t: &dyn Texts) -> String {
        match self {
            ImportError::Empty => t.text("reports.streets.err.empty"),
            ImportError::NotCsv { detected } => {
                t.text_with("reports.streets.err.not_csv", &t.text(detected))
            }
            ImportError::MissingColumns { missing } => {
                let names: Vec<String> = missing.iter().map(|c| t.text(c.key())).collect();
                t.text_with("reports.streets.err.missing_columns", &names.join(", "))
            }
            ImportError::DuplicateColumn { column } => t.text_with(
                "reports.streets.err.duplicate_column",
                &t.text(column.key()),
            ),
            ImportError::TooManyRows { limit } => {
                t.text_with("reports.streets.err.too_many_rows", &limit.to_string())
            }
            ImportError::InvalidLines { errors, total } => {
                let mut out = t.text_with("reports.streets.err.invalid_lines", &total.to_string());
                for e in errors {
                    out.push_str("\n  ");
                    out.push_str(&e.message(t));
                }
                if *total > errors.len() {
                    out.push_str("\n  ");
                    out.push_str(&t.text_with(
                        "reports.streets.err.more_lines",
                        &(total - errors.len()).to_string(),
                    ));
                }
                out
            }
        }
    }
}

/// Parses a street directory file. Accepts UTF-8 (with or without BOM), UTF-16 with BOM and
/// Windows-1252; `;`, `,` or tab as delimiter; German or English column names. Required
/// columns: street, lat, lon; house number, suffix and postcode are optional columns.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<Address>, ImportError> {
    if let Some(detected) = sniff_binary(bytes) {
        return Err(ImportError::NotCsv { detected });
    }
    let text = decode(bytes);
    if text.contains('\0') {
        return Err(ImportError::NotCsv {
            detected: "reports.streets.kind.binary",
        });
    }
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    // Excel's "sep=;" first line names the delimiter; it is skipped as a record so that line
    // numbers still match the file.
    let sep_hint = text
        .strip_prefix("sep=")
        .and_then(|rest| rest.bytes().next())
        .filter(|b| matches!(b, b';' | b',' | b'\t' | b'|'));
    let delimiter = sep_hint.unwrap_or_else(|| detect_delimiter(&text));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    if sep_hint.is_some() {
        records.next();
    }

    let header = match records.next() {
        Some(Ok(record)) => record,
        Some(Err(_)) => {
            return Err(ImportError::NotCsv {
                detected: "reports.streets.kind.unreadable_header",
            });
        }
        None => return Err(ImportError::Empty),
    };
    let columns = map_header(&header)?;

    let mut addresses = Vec::new();
    let mut errors = Vec::new();
    let mut total_errors = 0usize;
    let mut seen = HashSet::new();
    let mut rows = 0usize;
    let mut report = |error: LineError, errors: &mut Vec<LineError>| {
        total_errors += 1;
        if errors.len() < MAX_LINE_ERRORS {
            errors.push(error);
        }
    };
    for result in records {
        let record = match result {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let error = LineError {
                    line,
                    column: None,
                    key: "reports.streets.err.malformed_line",
                };
                report(error, &mut errors);
                continue;
            }
        };
        // Office programs pad exports with rows of empty cells.
        if record.iter().all(str::is_empty) {
            continue;
        }
        rows += 1;
        if rows > MAX_ROWS {
            return Err(ImportError::TooManyRows { limit: MAX_ROWS });
        }
        let line = record.position().map_or(0, |p| p.line());
        match parse_row(&record, &columns) {
            Ok(address) => {
                let key = (
                    normalise(&address.street),
                    normalise_number(&address.house_number),
                    address.postcode.clone(),
                );
                if seen.insert(key) {
                    addresses.push(address);
                } else {
                    let error = LineError {
                        line,
                        column: None,
                        key: "reports.streets.err.duplicate_address",
                    };
                    report(error, &mut errors);
                }
            }
            Err((column, key)) => report(LineError { line, column, key }, &mut errors),
        }
    }
    if total_errors > 0 {
        return Err(ImportError::InvalidLines {
            errors,
            total: total_errors,
        });
    }
    if addresses.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(addresses)
}

/// Known non-CSV formats by their magic bytes, so the message can say what was uploaded.
fn sniff_binary(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 5] = [
        (b"%PDF", "reports.streets.kind.pdf"),
        (b"PK\x03\x04", "reports.streets.kind.xlsx"),
        (b"\xD0\xCF\x11\xE0", "reports.streets.kind.xls"),
        (b"\x89PNG", "reports.streets.kind.image"),
        (b"\xFF\xD8\xFF", "reports.streets.kind.image"),
    ];
    MAGIC
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, name)| *name)
}

/// Valid UTF-8 is taken as such (German cp1252 text is practically never valid UTF-8);
/// anything else is Windows-1252, the default of German office software.
fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return decode(rest);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(rest, u16::from_be_bytes);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| cp1252_char(b)).collect(),
    }
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Windows-1252 differs from Latin-1 only in 0x80–0x9F; the five unassigned bytes there map to
/// the C1 controls of the same value, as browsers do.
fn cp1252_char(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// The delimiter occurring most often outside quotes in the header line; `;` wins ties because
/// German Excel writes it.
fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            ';' | ',' | '\t' if !quoted => {
                for (d, n) in counts.iter_mut() {
                    if char::from(*d) == c {
                        *n += 1;
                    }
                }
            }
            _ => {}
        }
    }
    let mut best = counts[0];
    for candidate in &counts[1..] {
        if candidate.1 > best.1 {
            best = *candidate;
        }
    }
    best.0
}

#[derive(Debug, Default)]
struct Columns {
    street: usize,
    number: Option<usize>,
    suffix: Option<usize>,
    postcode: Option<usize>,
    lat: usize,
    lon: usize,
}

fn column_for(name: &str) -> Option<Column> {
    // Compare without case, umlauts, spaces, dots, hyphens or underscores: "Haus-Nr.",
    // "house_number" and "Länge" all match.
    let key: String = normalise(name).chars().filter(|c| *c != ' ').collect();
    let column = match key.as_str() {
        "strasse" | "street" | "strassenname" | "streetname" | "str" => Column::Street,
        "hausnummer" | "hausnr" | "hnr" | "nr" | "nummer" | "number" | "housenumber"
        | "housenr" => Column::HouseNumber,
        "zusatz" | "hausnummerzusatz" | "hausnrzusatz" | "suffix" | "housenumbersuffix" => {
            Column::HouseNumberSuffix
        }
        "plz" | "postleitzahl" | "postcode" | "postalcode" | "zip" | "zipcode" => Column::Postcode,
        "lat" | "latitude" | "breite" | "breitengrad" => Column::Lat,
        "lon" | "lng" | "long" | "longitude" | "laenge" | "laengengrad" => Column::Lon,
        _ => return None,
    };
    Some(column)
}

fn map_header(header: &csv::StringRecord) -> Result<Columns, ImportError> {
    let mut found: Vec<(Column, usize)> = Vec::new();
    for (index, cell) in header.iter().enumerate() {
        if let Some(column) = column_for(cell) {
            if found.iter().any(|(c, _)| *c == column) {
                return Err(ImportError::DuplicateColumn { column });
            }
            found.push((column, index));
        }
    }
    let find = |column: Column| found.iter().find(|(c, _)| *c == column).map(|(_, i)| *i);
    let (street, lat, lon) = (find(Column::Street), find(Column::Lat), find(Column::Lon));
    match (street, lat, lon) {
        (Some(street), Some(lat), Some(lon)) => Ok(Columns {
            street,
            number: find(Column::HouseNumber),
            suffix: find(Column::HouseNumberSuffix),
            postcode: find(Column::Postcode),
            lat,
            lon,
        }),
        _ => {
            let missing = [
                (street, Column::Street),
                (lat, Column::Lat),
                (lon, Column::Lon),
            ]
            .iter()
            .filter(|(index, _)| index.is_none())
            .map(|(_, column)| *column)
            .collect();
            Err(ImportError::MissingColumns { missing })
        }
    }
}

type RowError = (Option<Column>, &'static str);

fn parse_row(record: &csv::StringRecord, columns: &Columns) -> Result<Address, RowError> {
    let needed = [
        Some(columns.street),
        columns.number,
        columns.suffix,
        columns.postcode,
        Some(columns.lat),
        Some(columns.lon),
    ];
    if needed.iter().flatten().any(|&i| i >= record.len()) {
        return Err((None, "reports.streets.err.field_count"));
    }
    let cell = |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or("");

    let street = collapse_spaces(cell(Some(columns.street)));
    if street.is_empty() {
        return Err((Some(Column::Street), "reports.streets.err.street_missing"));
    }
    if street.chars().count() > MAX_STREET_CHARS {
        return Err((Some(Column::Street), "reports.streets.err.field_too_long"));
    }
    // "12" + "a" from separate columns becomes "12a", as the address is written.
    let mut house_number = collapse_spaces(cell(columns.number));
    house_number.push_str(cell(columns.suffix));
    if house_number.chars().count() > MAX_NUMBER_CHARS {
        return Err((
            Some(Column::HouseNumber),
            "reports.streets.err.field_too_long",
        ));
    }
    let postcode = parse_postcode(cell(columns.postcode)).ok_or((
        Some(Column::Postcode),
        "reports.streets.err.postcode_invalid",
    ))?;
    let lat = parse_coordinate(cell(Some(columns.lat)), 90.0).map_err(|range| {
        let key = if range {
            "reports.streets.err.lat_range"
        } else {
            "reports.streets.err.lat_invalid"
        };
        (Some(Column::Lat), key)
    })?;
    let lon = parse_coordinate(cell(Some(columns.lon)), 180.0).map_err(|range| {
        let key = if range {
            "reports.streets.err.lon_range"
        } else {
            "reports.streets.err.lon_invalid"
        };
        (Some(Column::Lon), key)
    })?;
    if lat == 0.0 && lon == 0.0 {
        return Err((None, "reports.streets.err.coordinates_zero"));
    }
    Ok(Address {
        street,
        house_number,
        postcode,
        lat,
        lon,
    })
}

/// Empty stays empty (column optional or cell blank). Four digits get their leading zero back:
/// spreadsheets drop it ("1067" for Dresden's 01067) and no German postcode has four digits.
fn parse_postcode(s: &str) -> Option<String> {
    if !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match s.len() {
        0 | 5 => Some(s.to_owned()),
        4 => Some(format!("0{s}")),
        _ => None,
    }
}

/// Accepts a decimal point or a German decimal comma. `Err(true)` means out of range.
fn parse_coordinate(s: &str, max: f64) -> Result<f64, bool> {
    // trim() also drops the no-break spaces office programs leave in cells.
    let value: f64 = s.trim().replacen(',', ".", 1).parse().map_err(|_| false)?;
    if !value.is_finite() {
        return Err(false);
    }
    if value.abs() > max {
        return Err(true);
    }
    Ok(value)
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The matching form of a street name: lowercase, umlauts spelled out, accents dropped,
/// "str."/"str"/"straße" → "strasse", punctuation, whitespace and hyphens collapsed to one space.
pub fn normalise(s: &str) -> String {
    normalise_with(s, true)
}

/// `expand_last = false` is for text still being typed: a final "str" may be the start of
/// "Strandweg", and it already is a prefix of "strasse".
fn normalise_with(s: &str, expand_last: bool) -> String {
    let mut folded = String::with_capacity(s.len() + 8);
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => folded.push_str("ae"),
            'ö' => folded.push_str("oe"),
            'ü' => folded.push_str("ue"),
            'ß' => folded.push_str("ss"),
            'à' | 'á' | 'â' | 'ã' | 'å' => folded.push('a'),
            'è' | 'é' | 'ê' | 'ë' => folded.push('e'),
            'ì' | 'í' | 'î' | 'ï' => folded.push('i'),
            'ò' | 'ó' | 'ô' | 'õ' => folded.push('o'),
            'ù' | 'ú' | 'û' => folded.push('u'),
            'ç' => folded.push('c'),
            'ñ' => folded.push('n'),
            // A dot ends a word ("St.Martin-Str."); it is dropped after the "str." check below.
            '.' => folded.push_str(". "),
            c if c.is_alphanumeric() => folded.push(c),
            _ => folded.push(' '),
        }
    }
    let words: Vec<&str> = folded.split_whitespace().collect();
    let mut out = String::with_capacity(folded.len() + 8);
    for (i, word) in words.iter().enumerate() {
        let word = word.trim_end_matches('.');
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let last = i + 1 == words.len();
        match word.strip_suffix("str") {
            Some(stem) if expand_last || !last => {
                out.push_str(stem);
                out.push_str("strasse");
            }
            _ => out.push_str(word),
        }
    }
    out
}

/// The loose search key (see module docs) of an already normalised string.
fn loose(normalised: &str) -> String {
    let mut out = String::with_capacity(normalised.len());
    let mut previous = ' ';
    for c in normalised.chars() {
        if c == ' ' || (c == 'e' && matches!(previous, 'a' | 'o' | 'u')) {
            // Keep `previous` so "uee" drops only one e, as "ü" + "e" would.
            if c == 'e' {
                previous = 'e';
            }
            continue;
        }
        out.push(c);
        previous = c;
    }
    out
}

/// "12 A" and "12a" are the same house.
fn normalise_number(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Orders house numbers as people expect: 2, 10, 10a, 10b, 11 (not 10, 11, 2).
fn number_order(normalised: &str) -> (u32, &str) {
    let digits = normalised.len()
        - normalised
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    let (number, rest) = normalised.split_at(digits);
    (number.parse().unwrap_or(u32::MAX), rest)
}

fn is_number_start(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_ascii_digit())
        && token
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '/' | '–'))
}

/// Whether `tokens` (at least one) read as a house number: "12a", "7 b", "3 - 5", "12 /1".
/// A second plain number only follows a dash or slash, so "Weg 0500 50" is street "Weg 0500".
fn is_house_number(tokens: &[&str]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return false;
    };
    if !is_number_start(first) {
        return false;
    }
    let mut previous = *first;
    for token in rest {
        let joins = previous.ends_with(['-', '/', '–']);
        let ok = (token.chars().count() == 1 && token.chars().all(char::is_alphabetic))
            || matches!(*token, "-" | "/" | "–")
            || (token.starts_with(['-', '/']) && is_number_start(&token[1..]))
            || (joins && is_number_start(token));
        if !ok {
            return false;
        }
        previous = token;
    }
    true
}

/// Splits typed text into street and house number: "Marktstraße 12a" → ("Marktstraße",
/// Some("12a")), "Hauptstr. 7 b" → ("Hauptstr.", Some("7b")), "Am Markt 3 - 5" → ("Am Markt",
/// Some("3-5")), "Lindenallee" → ("Lindenallee", None). Anything after a comma (postcode, town)
/// is ignored. A number inside the name ("Straße des 17. Juni") stays in the street.
pub fn split_address(text: &str) -> (String, Option<String>) {
    let text = text.split(',').next().unwrap_or("");
    let tokens: Vec<&str> = text.split_whitespace().collect();
    // The earliest split (after at least one street word) whose tail reads as a house number.
    for start in 1..tokens.len() {
        if is_house_number(&tokens[start..]) {
            let street = tokens[..start].join(" ");
            let number: String = tokens[start..].concat().replace('–', "-");
            return (street, Some(number));
        }
    }
    (tokens.join(" "), None)
}

struct Entry {
    loose: Box<str>,
    strict: Box<str>,
    number: Box<str>,
    index: usize,
}

/// The street directory in memory, sorted once so each query is a binary search plus a walk
/// over its matches.
pub struct Directory {
    addresses: Vec<Address>,
    entries: Vec<Entry>,
}

impl Directory {
    pub fn new(addresses: Vec<Address>) -> Self {
        let mut entries: Vec<Entry> = addresses
            .iter()
            .enumerate()
            .map(|(index, a)| {
                let strict = normalise(&a.street);
                Entry {
                    loose: loose(&strict).into(),
                    strict: strict.into(),
                    number: normalise_number(&a.house_number).into(),
                    index,
                }
            })
            .collect();
        // Street, then postcode (the same street name in two villages), then house number; the
        // input position last keeps the order stable.
        entries.sort_by(|x, y| {
            (&x.loose, &x.strict)
                .cmp(&(&y.loose, &y.strict))
                .then_with(|| {
                    addresses[x.index]
                        .postcode
                        .cmp(&addresses[y.index].postcode)
                })
                .then_with(|| number_order(&x.number).cmp(&number_order(&y.number)))
                .then_with(|| x.index.cmp(&y.index))
        });
        Directory { addresses, entries }
    }

    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }

    pub fn addresses(&self) -> &[Address] {
        &self.addresses
    }

    /// Autocomplete: at most `limit` addresses whose street starts with the typed text, in
    /// street and house number order. When the text ends in a house number and names a street
    /// exactly, that street's numbers starting with it are offered ("Markt 1" → 1, 1a, 10, …).
    pub fn suggest(&self, prefix: &str, limit: usize) -> Vec<&Address> {
        if limit == 0 {
            return Vec::new();
        }
        let (street, number) = split_address(prefix);
        if let Some(number) = number {
            let key = loose(&normalise(&street));
            let number = normalise_number(&number);
            let found: Vec<&Address> = self
                .range(|e| e.loose.as_ref().cmp(key.as_str()))
                .iter()
                .filter(|e| e.number.starts_with(number.as_str()))
                .take(limit)
                .map(|e| &self.addresses[e.index])
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        let key = loose(&normalise_with(prefix, false));
        if key.is_empty() {
            return Vec::new();
        }
        let start = self
            .entries
            .partition_point(|e| e.loose.as_ref() < key.as_str());
        self.entries[start..]
            .iter()
            .take_while(|e| e.loose.starts_with(key.as_str()))
            .take(limit)
            .map(|e| &self.addresses[e.index])
            .collect()
    }

    /// The address the text names: street and house number equal after normalising. Without a
    /// number, the street's first address (lowest number). If the strict spelling is unknown,
    /// the loose key ("Mullerstrasse 3") is used when it names exactly one street.
    pub fn resolve(&self, text: &str) -> Option<&Address> {
        let (street, number) = split_address(text);
        let strict = normalise(&street);
        if strict.is_empty() {
            return None;
        }
        let key = loose(&strict);
        let mut matches = self
            .range(|e| (e.loose.as_ref(), e.strict.as_ref()).cmp(&(key.as_str(), strict.as_str())));
        if matches.is_empty() {
            let candidates = self.range(|e| e.loose.as_ref().cmp(key.as_str()));
            // "Baur Strasse" means "Baurstraße" even when a "Bauerstraße" shares the loose key.
            let spaceless = |s: &str| s.chars().filter(|c| *c != ' ').collect::<String>();
            let wanted = spaceless(&strict);
            let same_but_spaces = candidates.iter().find(|e| spaceless(&e.strict) == wanted);
            matches = match same_but_spaces {
                Some(found) => {
                    let found_strict = found.strict.clone();
                    self.range(|e| {
                        (e.loose.as_ref(), e.strict.as_ref())
                            .cmp(&(key.as_str(), found_strict.as_ref()))
                    })
                }
                None if candidates.iter().all(|e| e.strict == candidates[0].strict) => candidates,
                None => return None,
            };
        }
        let entry = match number {
            None => matches.first()?,
            Some(number) => {
                let number = normalise_number(&number);
                matches.iter().find(|e| *e.number == *number)?
            }
        };
        Some(&self.addresses[entry.index])
    }

    /// The contiguous run of entries for which `order` is `Equal`; `order` must agree with the
    /// sort order (compare the entry's key with the wanted key).
    fn range(&self, order: impl Fn(&Entry) -> std::cmp::Ordering) -> &[Entry] {
        use std::cmp::Ordering;
        let start = self.entries.partition_point(|e| order(e) == Ordering::Less);
        let len = self.entries[start..].partition_point(|e| order(e) == Ordering::Equal);
        &self.entries[start..start + len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts as their keys, so the tests see which message was chosen.
    struct KeysOnly;

    impl Texts for KeysOnly {
        fn text(&self, key: &str) -> String {
            key.to_owned()
        }
        fn text_with(&self, key: &str, arg: &str) -> String {
            format!("{key}({arg})")
        }
    }

    fn parse_ok(text: &str) -> Vec<Address> {
        match parse_csv(text.as_bytes()) {
            Ok(addresses) => addresses,
            Err(e) => panic!("expected success, got {e:?}"),
        }
    }

    fn line_errors(bytes: &[u8]) -> (Vec<LineError>, usize) {
        match parse_csv(bytes) {
            Err(ImportError::InvalidLines { errors, total }) => (errors, total),
            other => panic!("expected line errors, got {other:?}"),
        }
    }

    fn address(street: &str, number: &str) -> Address {
        Address {
            street: street.into(),
            house_number: number.into(),
            postcode: "12345".into(),
            lat: 51.0,
            lon: 7.0,
        }
    }

    #[test]
    fn german_header_with_semicolons_and_decimal_commas() {
        let rows =
            parse_ok("Straße;Hausnummer;PLZ;Breite;Länge\r\nMarktstraße;12a;12345;51,1234;7,5\r\n");
        assert_eq!(
            rows,
            vec![Address {
                street: "Marktstraße".into(),
                house_number: "12a".into(),
                postcode: "12345".into(),
                lat: 51.1234,
                lon: 7.5,
            }]
        );
    }

    #[test]
    fn english_header_with_commas_and_any_column_order() {
        let rows = parse_ok("lon,lat,street,number,postcode\n7.5,51.25,Main Street,3,54321\n");
        assert_eq!(rows[0].street, "Main Street");
        assert_eq!(rows[0].house_number, "3");
        assert_eq!((rows[0].lat, rows[0].lon), (51.25, 7.5));
    }

    #[test]
    fn header_aliases() {
        let rows = parse_ok("Strasse;HausNr.;Postleitzahl;latitude;lng\nA-Weg;1;12345;51;7\n");
        assert_eq!(rows.len(), 1);
        let rows = parse_ok("street;house_number;zip;lat;long\nA-Weg;1;12345;51;7\n");
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn optional_columns_and_suffix_column() {
        let rows = parse_ok("Straße;lat;lon\nLindenallee;51;7\n");
        assert_eq!(rows[0].house_number, "");
        assert_eq!(rows[0].postcode, "");
        let rows = parse_ok("Straße;Hausnummer;Zusatz;lat;lon\nWeg;12;a;51;7\nWeg;13;;51;7\n");
        assert_eq!(rows[0].house_number, "12a");
        assert_eq!(rows[1].house_number, "13");
    }

    #[test]
    fn utf8_bom_is_skipped() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice("Straße;Hausnummer;lat;lon\nMühlenweg;1;51;7\n".as_bytes());
        let rows = parse_csv(&bytes).unwrap();
        assert_eq!(rows[0].street, "Mühlenweg");
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Straße\tlat\tlon\nMüllerstraße\t51\t7\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let rows = parse_csv(&bytes).unwrap();
        assert_eq!(rows[0].street, "Müllerstraße");
    }

    #[test]
    fn windows_1252_is_decoded() {
        // "Straße;lat;lon\nMüllerstraße;51;7\n" as written by German Excel, plus a euro sign
        // (0x80) that only cp1252, not Latin-1, knows.
        let mut bytes = b"Stra\xDFe;Hausnummer;lat;lon\n".to_vec();
        bytes.extend_from_slice(b"M\xFCllerstra\xDFe;1;51;7\n\x80-Platz;2;51;7\n");
        let rows = parse_csv(&bytes).unwrap();
        assert_eq!(rows[0].street, "Müllerstraße");
        assert_eq!(rows[1].street, "€-Platz");
    }

    #[test]
    fn quoted_fields_may_contain_delimiters_quotes_and_newlines() {
        let rows = parse_ok(
            "street,number,lat,lon\n\"Weg, alter\",\"1\",\"51,5\",7\n\"Am \"\"Tor\"\"\",2,51,7\n",
        );
        assert_eq!(rows[0].street, "Weg, alter");
        assert_eq!(rows[0].lat, 51.5);
        assert_eq!(rows[1].street, "Am \"Tor\"");
        let rows = parse_ok("Straße;Nr;lat;lon\n\"Am\nBach\";1;51;7\n");
        assert_eq!(rows[0].street, "Am Bach");
    }

    #[test]
    fn bad_lines_are_reported_with_line_numbers() {
        let text = "Straße;Nr;PLZ;lat;lon\n\
                    Gut;1;12345;51;7\n\
                    Schlecht;2;12345;abc;7\n\
                    \"Mehr\nzeilig\";3;12345;51;7\n\
                    Weit;4;12345;51;200\n\
                    ;5;12345;51;7\n\
                    Kurz;6\n\
                    Null;7;12345;0;0\n\
                    Plz;8;123;51;7\n\
                    Gut;1;12345;51;7\n";
        let (errors, total) = line_errors(text.as_bytes());
        let found: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.key)).collect();
        assert_eq!(
            found,
            vec![
                (3, "reports.streets.err.lat_invalid"),
                (6, "reports.streets.err.lon_range"),
                (7, "reports.streets.err.street_missing"),
                (8, "reports.streets.err.field_count"),
                (9, "reports.streets.err.coordinates_zero"),
                (10, "reports.streets.err.postcode_invalid"),
                (11, "reports.streets.err.duplicate_address"),
            ]
        );
        assert_eq!(total, 7);
        assert_eq!(errors[0].column, Some(Column::Lat));
        assert_eq!(
            errors[0].message(&KeysOnly),
            "reports.streets.line(3)reports.streets.in_column(reports.streets.col.lat): \
             reports.streets.err.lat_invalid"
        );
    }

    #[test]
    fn line_errors_are_capped_but_counted() {
        let mut text = String::from("Straße;lat;lon\n");
        for i in 0..150 {
            text.push_str(&format!("Weg {i};x;7\n"));
        }
        let (errors, total) = line_errors(text.as_bytes());
        assert_eq!(errors.len(), MAX_LINE_ERRORS);
        assert_eq!(total, 150);
        assert_eq!(errors[0].line, 2);
    }

    #[test]
    fn too_many_rows_are_refused() {
        let mut text = String::from("Straße;Nr;lat;lon\n");
        for i in 0..=MAX_ROWS {
            text.push_str("W;");
            text.push_str(&i.to_string());
            text.push_str(";51;7\n");
        }
        assert_eq!(
            parse_csv(text.as_bytes()),
            Err(ImportError::TooManyRows { limit: MAX_ROWS })
        );
    }

    #[test]
    fn excel_sep_line_sets_the_delimiter_and_keeps_line_numbers() {
        let rows = parse_ok("sep=,\nstreet,lat,lon\n\"A; B\",51,7\n");
        assert_eq!(rows[0].street, "A; B");
        let (errors, _) = line_errors(b"sep=;\nstreet;lat;lon\nA;x;7\n");
        assert_eq!(errors[0].line, 3);
    }

    #[test]
    fn no_break_spaces_around_coordinates() {
        let rows = parse_ok("Straße;lat;lon\nWeg;\u{a0}51,5\u{a0};7\n");
        assert_eq!(rows[0].lat, 51.5);
    }

    #[test]
    fn four_digit_postcodes_get_their_leading_zero_back() {
        let rows = parse_ok("Straße;PLZ;lat;lon\nWeg;1067;51;13\n");
        assert_eq!(rows[0].postcode, "01067");
    }

    #[test]
    fn blank_rows_are_skipped() {
        let rows = parse_ok("Straße;lat;lon\n;;\nWeg;51;7\n;;\n");
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn files_that_are_not_csv_are_refused() {
        assert!(matches!(
            parse_csv(b"%PDF-1.7 ..."),
            Err(ImportError::NotCsv {
                detected: "reports.streets.kind.pdf"
            })
        ));
        assert!(matches!(
            parse_csv(b"PK\x03\x04rest"),
            Err(ImportError::NotCsv { .. })
        ));
        assert!(matches!(
            parse_csv(b"abc\0def"),
            Err(ImportError::NotCsv { .. })
        ));
        assert_eq!(parse_csv(b""), Err(ImportError::Empty));
        assert_eq!(parse_csv(b"  \n\n"), Err(ImportError::Empty));
        assert_eq!(
            parse_csv("Straße;lat;lon\n".as_bytes()),
            Err(ImportError::Empty)
        );
    }

    #[test]
    fn unrecognised_columns_are_named() {
        assert_eq!(
            parse_csv(b"Name;Ort;Telefon\nA;B;C\n"),
            Err(ImportError::MissingColumns {
                missing: vec![Column::Street, Column::Lat, Column::Lon]
            })
        );
        let err = parse_csv(b"street;number\nA;1\n").unwrap_err();
        assert_eq!(
            err,
            ImportError::MissingColumns {
                missing: vec![Column::Lat, Column::Lon]
            }
        );
        assert_eq!(err.key(), "reports.streets.err.missing_columns");
        assert!(
            err.message(&KeysOnly)
                .contains("reports.streets.col.lat, reports.streets.col.lon")
        );
        assert_eq!(
            parse_csv(b"street;lat;lon;breite\nA;1;2;3\n"),
            Err(ImportError::DuplicateColumn {
                column: Column::Lat
            })
        );
    }

    #[test]
    fn normalise_cases() {
        assert_eq!(normalise("Müllerstraße"), "muellerstrasse");
        assert_eq!(normalise("Hauptstr."), "hauptstrasse");
        assert_eq!(normalise("Hauptstr"), "hauptstrasse");
        assert_eq!(normalise("HAUPTSTRASSE"), "hauptstrasse");
        assert_eq!(normalise("  Am   Markt "), "am markt");
        assert_eq!(normalise("Konrad-Adenauer-Str."), "konrad adenauer strasse");
        assert_eq!(
            normalise("Konrad - Adenauer Straße"),
            "konrad adenauer strasse"
        );
        assert_eq!(normalise("Str. des 17. Juni"), "strasse des 17 juni");
        assert_eq!(normalise("St.Martin-Str."), "st martin strasse");
        assert_eq!(normalise("Öhringer Weg"), "oehringer weg");
        assert_eq!(normalise("Rue de la Poste"), "rue de la poste");
        assert_eq!(normalise("Strandweg"), "strandweg");
        assert_eq!(normalise("Auf'm Kamp"), "auf m kamp");
        assert_eq!(normalise(""), "");
    }

    #[test]
    fn loose_key_meets_all_umlaut_spellings() {
        let target = loose(&normalise("Müllerstraße"));
        for typed in [
            "Muellerstrasse",
            "Mullerstraße",
            "Müller-Straße",
            "MÜLLERSTR.",
        ] {
            assert_eq!(loose(&normalise(typed)), target, "{typed}");
        }
    }

    #[test]
    fn split_cases() {
        let split = |s: &str| split_address(s);
        let some = |street: &str, number: &str| (street.to_owned(), Some(number.to_owned()));
        assert_eq!(split("Marktstraße 12a"), some("Marktstraße", "12a"));
        assert_eq!(split("Am Markt 3-5"), some("Am Markt", "3-5"));
        assert_eq!(split("Am Markt 3 - 5"), some("Am Markt", "3-5"));
        assert_eq!(split("Hauptstr. 7 b"), some("Hauptstr.", "7b"));
        assert_eq!(split("Lindenallee"), ("Lindenallee".to_owned(), None));
        assert_eq!(split("  Lindenallee  "), ("Lindenallee".to_owned(), None));
        assert_eq!(
            split("Straße des 17. Juni 5"),
            some("Straße des 17. Juni", "5")
        );
        assert_eq!(
            split("Straße des 17. Juni"),
            ("Straße des 17. Juni".to_owned(), None)
        );
        assert_eq!(
            split("Marktstraße 12, 12345 Musterstadt"),
            some("Marktstraße", "12")
        );
        assert_eq!(split("Weg 12/1"), some("Weg", "12/1"));
        assert_eq!(split("Weg 12 /1"), some("Weg", "12/1"));
        assert_eq!(split("Straße 101 50"), some("Straße 101", "50"));
        assert_eq!(split("12"), ("12".to_owned(), None));
        assert_eq!(split(""), (String::new(), None));
    }

    fn directory() -> Directory {
        Directory::new(vec![
            address("Müllerstraße", "10"),
            address("Müllerstraße", "2"),
            address("Müllerstraße", "10a"),
            address("Müllerstraße", "1"),
            address("Marktplatz", ""),
            address("Am Markt", "3-5"),
            address("Am Markt", "1"),
            address("Hauptstraße", "7 B"),
            address("Strandweg", "4"),
            address("Bauerstraße", "1"),
            address("Baurstraße", "1"),
        ])
    }

    fn streets_and_numbers(found: Vec<&Address>) -> Vec<String> {
        found
            .iter()
            .map(|a| format!("{} {}", a.street, a.house_number).trim().to_owned())
            .collect()
    }

    #[test]
    fn suggest_orders_by_street_then_house_number() {
        let dir = directory();
        assert_eq!(
            streets_and_numbers(dir.suggest("Müllerstr", 10)),
            [
                "Müllerstraße 1",
                "Müllerstraße 2",
                "Müllerstraße 10",
                "Müllerstraße 10a"
            ]
        );
        assert_eq!(streets_and_numbers(dir.suggest("müllerstr", 2)).len(), 2);
        assert_eq!(dir.suggest("Müllerstr", 0).len(), 0);
        assert!(dir.suggest("  ", 10).is_empty());
        assert!(dir.suggest("Gibtsnicht", 10).is_empty());
    }

    #[test]
    fn suggest_is_umlaut_insensitive() {
        let dir = directory();
        for typed in ["müllerstr", "muellerstrasse", "Mullerstr", "MUELLER", "mül"] {
            let found = dir.suggest(typed, 10);
            assert_eq!(found.len(), 4, "{typed}");
            assert!(found.iter().all(|a| a.street == "Müllerstraße"));
        }
    }

    #[test]
    fn suggest_prefixes() {
        let dir = directory();
        assert_eq!(
            streets_and_numbers(dir.suggest("am m", 10)),
            ["Am Markt 1", "Am Markt 3-5"]
        );
        // A final "Str" is not expanded while typing, so it still finds "Strandweg".
        assert_eq!(streets_and_numbers(dir.suggest("Str", 10)), ["Strandweg 4"]);
        assert_eq!(
            streets_and_numbers(dir.suggest("Markt", 10)),
            ["Marktplatz"]
        );
    }

    #[test]
    fn suggest_with_house_number_prefix() {
        let dir = directory();
        assert_eq!(
            streets_and_numbers(dir.suggest("Müllerstr. 1", 10)),
            ["Müllerstraße 1", "Müllerstraße 10", "Müllerstraße 10a"]
        );
        assert_eq!(
            streets_and_numbers(dir.suggest("Hauptstraße 7b", 10)),
            ["Hauptstraße 7 B"]
        );
    }

    #[test]
    fn resolve_exact_address() {
        let dir = directory();
        let found = |t: &str| {
            dir.resolve(t)
                .map(|a| format!("{} {}", a.street, a.house_number))
        };
        assert_eq!(
            found("Müllerstraße 10a").as_deref(),
            Some("Müllerstraße 10a")
        );
        assert_eq!(
            found("muellerstr. 10 A").as_deref(),
            Some("Müllerstraße 10a")
        );
        assert_eq!(
            found("Müllerstraße 10A, Musterstadt").as_deref(),
            Some("Müllerstraße 10a")
        );
        assert_eq!(found("Mullerstrasse 2").as_deref(), Some("Müllerstraße 2"));
        assert_eq!(found("Hauptstr 7b").as_deref(), Some("Hauptstraße 7 B"));
        assert_eq!(found("Am Markt 3-5").as_deref(), Some("Am Markt 3-5"));
        assert_eq!(found("Müllerstraße 99"), None);
        assert_eq!(found("Müllerstr").as_deref(), Some("Müllerstraße 1"));
        assert_eq!(found("Marktplatz").as_deref(), Some("Marktplatz "));
        assert_eq!(found("Markt 1"), None);
        assert_eq!(found(""), None);
    }

    #[test]
    fn resolve_loose_fallback_needs_a_single_street() {
        let dir = directory();
        // "Baurstr" is loose-equal to both "Bauerstraße" and "Baurstraße"; the strict key or the
        // strict key without spaces decides, otherwise the text is ambiguous.
        assert_eq!(
            dir.resolve("Baurstr 1").map(|a| a.street.as_str()),
            Some("Baurstraße")
        );
        assert_eq!(
            dir.resolve("Bauerstr 1").map(|a| a.street.as_str()),
            Some("Bauerstraße")
        );
        assert_eq!(
            dir.resolve("Baur Strasse 1").map(|a| a.street.as_str()),
            Some("Baurstraße")
        );
        assert_eq!(
            dir.resolve("Bauer-Str 1").map(|a| a.street.as_str()),
            Some("Bauerstraße")
        );
        assert_eq!(dir.resolve("Bäurstr 1").map(|a| a.street.as_str()), None);
    }

    #[test]
    fn same_street_in_two_postcodes_orders_by_postcode() {
        let mut a = address("Hauptstraße", "1");
        a.postcode = "12346".into();
        let mut b = address("Hauptstraße", "5");
        b.postcode = "12345".into();
        let dir = Directory::new(vec![a, b]);
        assert_eq!(
            dir.resolve("Hauptstraße").map(|x| x.postcode.as_str()),
            Some("12345")
        );
        assert_eq!(dir.suggest("Haupt", 5).len(), 2);
    }

    #[test]
    fn large_directory_stays_correct() {
        let mut addresses = Vec::new();
        for s in 0..1_000 {
            for n in 1..=50 {
                addresses.push(address(&format!("Weg {s:04}"), &n.to_string()));
            }
        }
        let dir = Directory::new(addresses);
        assert_eq!(dir.len(), 50_000);
        assert_eq!(
            streets_and_numbers(dir.suggest("weg 0999", 3)),
            ["Weg 0999 1", "Weg 0999 2", "Weg 0999 3"]
        );
        assert_eq!(
            dir.resolve("Weg 0500 50").map(|a| a.house_number.as_str()),
            Some("50")
        );
    }
}
