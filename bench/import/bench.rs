//! Import benchmark (issue #16): a 50,000-row XLSX as a town keeps its accommodation list,
//! through the pipeline as a dry run: read + header + suggested mapping + validate.
//!
//! `cargo run --release -p rathaus-import --example bench [-- ROWS [RUNS]]`

use std::borrow::Cow;
use std::time::Instant;

use rathaus_import::{
    Choice, Field, FieldKind, Header, Limits, Mapping, SheetChoice, read, validate, words,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const NATIONALITIES: &[Choice] = &[
    Choice {
        value: Cow::Borrowed("SY"),
        synonyms: words!["syrisch", "Syrien"],
    },
    Choice {
        value: Cow::Borrowed("AF"),
        synonyms: words!["afghanisch", "Afghanistan"],
    },
    Choice {
        value: Cow::Borrowed("UA"),
        synonyms: words!["ukrainisch", "Ukraine"],
    },
    Choice {
        value: Cow::Borrowed("TR"),
        synonyms: words!["tuerkisch", "Tuerkei"],
    },
    Choice {
        value: Cow::Borrowed("IQ"),
        synonyms: words!["irakisch", "Irak"],
    },
];

const FIELDS: &[Field] = &[
    Field {
        key: Cow::Borrowed("last_name"),
        label_key: Cow::Borrowed("f.last_name"),
        kind: FieldKind::Text,
        required: true,
        synonyms: words!["Name", "Nachname", "Familienname"],
    },
    Field {
        key: Cow::Borrowed("first_name"),
        label_key: Cow::Borrowed("f.first_name"),
        kind: FieldKind::Text,
        required: true,
        synonyms: words!["Vorname", "Vornamen"],
    },
    Field {
        key: Cow::Borrowed("birth_date"),
        label_key: Cow::Borrowed("f.birth_date"),
        kind: FieldKind::Date,
        required: true,
        synonyms: words!["Geburtsdatum", "Geb.-Datum"],
    },
    Field {
        key: Cow::Borrowed("nationality"),
        label_key: Cow::Borrowed("f.nationality"),
        kind: FieldKind::Choice(Cow::Borrowed(NATIONALITIES)),
        required: false,
        synonyms: words!["Staatsangehoerigkeit", "Nationalitaet"],
    },
    Field {
        key: Cow::Borrowed("housing"),
        label_key: Cow::Borrowed("f.housing"),
        kind: FieldKind::Text,
        required: true,
        synonyms: words!["Unterkunft", "Wohnung"],
    },
    Field {
        key: Cow::Borrowed("moved_in"),
        label_key: Cow::Borrowed("f.moved_in"),
        kind: FieldKind::Date,
        required: false,
        synonyms: words!["Einzugsdatum", "Einzug"],
    },
    Field {
        key: Cow::Borrowed("persons"),
        label_key: Cow::Borrowed("f.persons"),
        kind: FieldKind::Integer,
        required: false,
        synonyms: words!["Personenzahl", "Personen"],
    },
    Field {
        key: Cow::Borrowed("note"),
        label_key: Cow::Borrowed("f.note"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Bemerkung", "Hinweis"],
    },
];

/// A small deterministic generator (no dependency, same file every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn generate(rows: u32) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    const LAST: &[&str] = &[
        "Müller",
        "Schmidt",
        "Al-Hassan",
        "Popescu",
        "Öztürk",
        "Kovalenko",
        "Haidari",
        "Weber",
    ];
    const FIRST: &[&str] = &[
        "Anna", "Omar", "Olena", "Can", "Fatima", "Jonas", "Mariam", "Ali",
    ];
    const NAT: &[&str] = &[
        "syrisch",
        "afghanisch",
        "ukrainisch",
        "türkisch",
        "irakisch",
    ];
    const HOUSES: &[&str] = &[
        "Am Markt 1",
        "Lindenweg 5",
        "Schulstraße 12",
        "Gemeinschaftsunterkunft Nord",
    ];
    let mut rng = Lcg(16);
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let ws = wb.add_worksheet();
    ws.set_name("Belegung")?;
    ws.write_string(0, 0, "Belegungsliste – Stand 01.03.2024")?;
    let headers = [
        "Name",
        "Vorname",
        "Geburtsdatum",
        "Staatsangehörigkeit",
        "Unterkunft",
        "Einzugsdatum",
        "Personenzahl",
        "Bemerkung",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(2, c as u16, *h)?;
    }
    for i in 0..rows {
        let r = i + 3;
        ws.write_string(r, 0, LAST[rng.next(LAST.len() as u64) as usize])?;
        ws.write_string(r, 1, FIRST[rng.next(FIRST.len() as u64) as usize])?;
        // Birth dates as German text (as typed), move-in dates as real date cells.
        let (d, m, y) = (1 + rng.next(28), 1 + rng.next(12), 1940 + rng.next(84));
        ws.write_string(r, 2, format!("{d:02}.{m:02}.{y}"))?;
        ws.write_string(r, 3, NAT[rng.next(NAT.len() as u64) as usize])?;
        ws.write_string(r, 4, HOUSES[rng.next(HOUSES.len() as u64) as usize])?;
        let moved = ExcelDateTime::from_ymd(
            2015 + rng.next(10) as u16,
            1 + rng.next(12) as u8,
            1 + rng.next(28) as u8,
        )?;
        ws.write_datetime_with_format(r, 5, moved, &date)?;
        ws.write_number(r, 6, (1 + rng.next(6)) as f64)?;
        if rng.next(4) == 0 {
            ws.write_string(r, 7, "Rollstuhlgerecht untergebracht")?;
        }
    }
    wb.save_to_buffer()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: u32 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(50_000);
    let runs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);
    let t = Instant::now();
    let bytes = generate(rows)?;
    println!(
        "generated {rows} rows, {:.2} MB XLSX in {:.2} s",
        bytes.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for run in 1..=runs {
        let t = Instant::now();
        let book = read(&bytes, &SheetChoice::First, &Limits::default())?;
        let t_read = t.elapsed();
        let sheet = &book.sheets[0];
        let header = Header::find(sheet, None).ok_or("no header")?;
        let mapping = Mapping::suggest(&header, FIELDS);
        let report = validate(sheet, &mapping, FIELDS);
        let total = t.elapsed();
        println!(
            "run {run}: read {:.3} s, total {:.3} s; {} typed rows, {} errors, {} warnings",
            t_read.as_secs_f64(),
            total.as_secs_f64(),
            report.rows.len(),
            report.errors,
            report.warnings
        );
        if report.rows.len() != rows as usize || report.has_errors() {
            return Err("unexpected report".into());
        }
        times.push(total.as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "median of {runs}: {median:.3} s (min {:.3}, max {:.3}); target ≤ 5 s",
        times[0],
        times[times.len() - 1]
    );
    Ok(())
}
