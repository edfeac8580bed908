//! The import of the existing Excel lists, pure: the fields the lists are read into, and the
//! analysis that turns a read workbook into a row report and a plan of what to write.
//!
//! One sheet per accommodation (the sheet's name is the accommodation unless a column names
//! it) and a capacity sheet (rooms and their beds), or one CSV with an accommodation column.
//! Cross-row rules (rooms known, beds within capacity, no two persons in one bed on the same
//! day, one person across sheets) are checked here; cell rules by `rathaus_import`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rathaus_core::validation::FieldErrors;
use rathaus_import::mapping::normalize;
use rathaus_import::{
    Choice, ColumnMapping, Field, FieldKind, Mapping, Severity, Sheet, TypedRow, Workbook, words,
};

use super::{AccommodationKind, Coded, ResidenceStatus, SEX_CHOICES, STATUS_CHOICES, Sex, Stay};

const KIND_CHOICES: &[Choice] = &[
    Choice {
        value: Cow::Borrowed("municipal"),
        synonyms: words![
            "kommunal",
            "Gemeinschaftsunterkunft",
            "GU",
            "Gebaeude",
            "staedtisch",
        ],
    },
    Choice {
        value: Cow::Borrowed("rented_flat"),
        synonyms: words!["Wohnung", "Mietwohnung", "angemietet"],
    },
    Choice {
        value: Cow::Borrowed("container_site"),
        synonyms: words!["Container", "Containeranlage", "Modulbau"],
    },
    Choice {
        value: Cow::Borrowed("emergency_shelter"),
        synonyms: words!["Notunterkunft", "Turnhalle", "Notquartier"],
    },
];

/// The columns of an accommodation sheet, with the names different clerks gave them.
pub const PERSON_FIELDS: &[Field] = &[
    Field {
        key: Cow::Borrowed("surname"),
        label_key: Cow::Borrowed("refugees.field.surname"),
        kind: FieldKind::Text,
        required: true,
        synonyms: words!["Name", "Nachname", "Familienname", "Zuname"],
    },
    Field {
        key: Cow::Borrowed("given_names"),
        label_key: Cow::Borrowed("refugees.field.given_names"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Vorname", "Vornamen", "Rufname"],
    },
    Field {
        key: Cow::Borrowed("birth_date"),
        label_key: Cow::Borrowed("refugees.field.birth_date"),
        kind: FieldKind::Date,
        required: false,
        synonyms: words![
            "Geb.-Datum",
            "Geburtsdatum",
            "geb. am",
            "geboren am",
            "Geb.",
        ],
    },
    Field {
        key: Cow::Borrowed("sex"),
        label_key: Cow::Borrowed("refugees.field.sex"),
        kind: FieldKind::Choice(Cow::Borrowed(SEX_CHOICES)),
        required: false,
        synonyms: words!["Geschlecht", "m/w", "m/w/d"],
    },
    Field {
        key: Cow::Borrowed("nationality"),
        label_key: Cow::Borrowed("refugees.field.nationality"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words![
            "Staatsangehoerigkeit",
            "Nationalitaet",
            "Herkunftsland",
            "Herkunft",
        ],
    },
    Field {
        key: Cow::Borrowed("accommodation"),
        label_key: Cow::Borrowed("refugees.field.accommodation"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Unterkunft", "Einrichtung", "Objekt", "Standort"],
    },
    Field {
        key: Cow::Borrowed("unit"),
        label_key: Cow::Borrowed("refugees.field.unit"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Wohnung", "Einheit", "Whg.", "Whg.-Nr.", "Haus"],
    },
    Field {
        key: Cow::Borrowed("room"),
        label_key: Cow::Borrowed("refugees.field.room"),
        kind: FieldKind::Text,
        required: true,
        synonyms: words!["Zimmer", "Raum", "Zi.-Nr.", "Zimmernummer", "Zi."],
    },
    Field {
        key: Cow::Borrowed("bed"),
        label_key: Cow::Borrowed("refugees.field.bed"),
        kind: FieldKind::Integer,
        required: false,
        synonyms: words!["Bett", "Bett-Nr.", "Bettnummer", "Platz"],
    },
    Field {
        key: Cow::Borrowed("move_in"),
        label_key: Cow::Borrowed("refugees.field.move_in"),
        kind: FieldKind::Date,
        required: true,
        synonyms: words![
            "Einzug",
            "eingezogen am",
            "Einzugsdatum",
            "Einzug am",
            "seit",
        ],
    },
    Field {
        key: Cow::Borrowed("move_out"),
        label_key: Cow::Borrowed("refugees.field.move_out"),
        kind: FieldKind::Date,
        required: false,
        synonyms: words!["Auszug", "ausgezogen am", "Auszugsdatum", "Auszug am"],
    },
    Field {
        key: Cow::Borrowed("status"),
        label_key: Cow::Borrowed("refugees.field.status"),
        kind: FieldKind::Choice(Cow::Borrowed(STATUS_CHOICES)),
        required: false,
        synonyms: words!["Aufenthaltsstatus", "Status", "Aufenthaltstitel", "Titel"],
    },
    Field {
        key: Cow::Borrowed("permit_until"),
        label_key: Cow::Borrowed("refugees.field.permit_until"),
        kind: FieldKind::Date,
        required: false,
        synonyms: words!["gueltig bis", "befristet bis", "Aufenthalt bis", "Ablauf"],
    },
    Field {
        key: Cow::Borrowed("household"),
        label_key: Cow::Borrowed("refugees.field.household"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Haushalt", "BG-Nr.", "BG", "Bedarfsgemeinschaft", "Familie"],
    },
    Field {
        key: Cow::Borrowed("phone"),
        label_key: Cow::Borrowed("refugees.field.phone"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Telefon", "Tel.", "Handy", "Mobil"],
    },
    Field {
        key: Cow::Borrowed("languages"),
        label_key: Cow::Borrowed("refugees.field.languages"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Sprache", "Sprachen"],
    },
];

/// The columns of the capacity sheet: every room with its number of beds.
pub const CAPACITY_FIELDS: &[Field] = &[
    Field {
        key: Cow::Borrowed("accommodation"),
        label_key: Cow::Borrowed("refugees.field.accommodation"),
        kind: FieldKind::Text,
        required: true,
        synonyms: words!["Unterkunft", "Einrichtung", "Objekt", "Standort"],
    },
    Field {
        key: Cow::Borrowed("unit"),
        label_key: Cow::Borrowed("refugees.field.unit"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Wohnung", "Einheit", "Whg.", "Haus"],
    },
    Field {
        key: Cow::Borrowed("room"),
        label_key: Cow::Borrowed("refugees.field.room"),
        kind: FieldKind::Text,
        required: true,
        synonyms: words!["Zimmer", "Raum", "Zi.-Nr.", "Zimmernummer"],
    },
    Field {
        key: Cow::Borrowed("beds"),
        label_key: Cow::Borrowed("refugees.field.beds"),
        kind: FieldKind::Integer,
        required: true,
        synonyms: words![
            "Betten",
            "Plaetze",
            "Kapazitaet",
            "Bettenzahl",
            "Anzahl Betten",
        ],
    },
    Field {
        key: Cow::Borrowed("kind"),
        label_key: Cow::Borrowed("refugees.field.kind"),
        kind: FieldKind::Choice(Cow::Borrowed(KIND_CHOICES)),
        required: false,
        synonyms: words!["Art", "Typ", "Unterkunftsart"],
    },
    Field {
        key: Cow::Borrowed("address"),
        label_key: Cow::Borrowed("refugees.field.address"),
        kind: FieldKind::Text,
        required: false,
        synonyms: words!["Adresse", "Anschrift", "Strasse"],
    },
];

/// The most beds a room may have (a gym used as emergency shelter).
pub const MAX_ROOM_BEDS: i64 = 500;

/// Whether a sheet is the capacity sheet (by its name).
pub fn is_capacity_sheet(name: &str) -> bool {
    let n = normalize(name);
    n.contains("kapazitaet") || n.contains("kapazitat") || n.contains("betten") || n == "raeume"
}

/// A first cell such as `Summe`, `Gesamt` or `Insgesamt`: a totals row, not a person.
fn is_totals_row(row: &rathaus_import::Row) -> bool {
    row.cells.iter().take(4).any(|c| {
        let n = normalize(&c.to_text());
        ["summe", "gesamt", "insgesamt", "total", "anzahl"]
            .iter()
            .any(|w| n.starts_with(w))
    })
}

/// A row problem with where it is (sheet, Excel row, the column's header as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    pub sheet: String,
    pub rows: Vec<u32>,
    pub column: Option<String>,
    pub key: String,
    pub arg: Option<String>,
}

/// A room of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRoom {
    pub accommodation: String,
    pub unit: String,
    pub name: String,
    pub beds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanAccommodation {
    pub name: String,
    pub kind: Option<&'static str>,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStay {
    /// Index into `Plan::rooms`.
    pub room: usize,
    /// 1-based bed number within the room.
    pub bed: i64,
    pub stay: Stay,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanPerson {
    pub surname: String,
    pub given_names: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<&'static str>,
    pub nationality: String,
    pub status: Option<&'static str>,
    pub permit_until: Option<NaiveDate>,
    pub phone: String,
    pub languages: String,
    /// The household reference as written in the file.
    pub household: String,
    pub stays: Vec<PlanStay>,
}

/// What a commit writes.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub accommodations: Vec<PlanAccommodation>,
    pub rooms: Vec<PlanRoom>,
    pub persons: Vec<PlanPerson>,
}

/// The analysis: the report and, when there is no error, the plan.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub rows_total: usize,
    pub rows_ok: usize,
    pub errors: Vec<RowIssue>,
    pub warnings: Vec<RowIssue>,
    pub plan: Plan,
    /// The mapping used for the accommodation sheets (headers → fields), to save.
    pub mapping: Mapping,
}

/// Most issues listed (the counts stay complete in `rows_ok`).
const MAX_ISSUES: usize = 5_000;

impl Analysis {
    fn error(&mut self, i: RowIssue) {
        if self.errors.len() < MAX_ISSUES {
            self.errors.push(i);
        }
    }
    fn warning(&mut self, i: RowIssue) {
        if self.warnings.len() < MAX_ISSUES {
            self.warnings.push(i);
        }
    }
}

/// The mapping for one sheet: the saved choices (by header text) over the suggestion.
fn mapping_for(sheet: &Sheet, fields: &[Field], saved: Option<&Mapping>) -> Mapping {
    let Some(header) = rathaus_import::Header::find(sheet, saved.and_then(|m| m.header_row)) else {
        return Mapping::default();
    };
    let mut m = Mapping::suggest(&header, fields);
    if let Some(saved) = saved {
        for col in &mut m.columns {
            let h = normalize(&col.header);
            if let Some(s) = saved
                .columns
                .iter()
                .find(|s| !h.is_empty() && normalize(&s.header) == h)
            {
                col.field = s
                    .field
                    .clone()
                    .filter(|f| fields.iter().any(|x| x.key == f.as_str()));
            }
        }
        // A field chosen for one column by the saved mapping is not also suggested elsewhere.
        let mut seen = std::collections::HashSet::new();
        for col in &mut m.columns {
            if let Some(f) = &col.field
                && !seen.insert(f.clone())
            {
                col.field = None;
            }
        }
        m.header_row = saved.header_row.or(m.header_row);
    }
    m
}

/// The header text of the column mapped to `field`.
fn column_of(m: &Mapping, field: &str) -> Option<String> {
    m.columns
        .iter()
        .find(|c| c.field.as_deref() == Some(field))
        .map(|c| c.header.clone())
}

fn without_totals(sheet: &Sheet) -> Sheet {
    Sheet {
        name: sheet.name.clone(),
        rows: sheet
            .rows
            .iter()
            .filter(|r| !is_totals_row(r))
            .cloned()
            .collect(),
    }
}

/// A choice's stored value as the domain's code (the choices' values are those codes).
fn code<T: Coded>(r: &TypedRow, key: &str) -> Option<&'static str> {
    r.choice(key).and_then(T::parse).map(T::code)
}

/// Per-row rules of an accommodation sheet.
fn person_row_rules(today: NaiveDate) -> impl Fn(&TypedRow) -> FieldErrors {
    move |r: &TypedRow| {
        let mut e = FieldErrors::new();
        if let Some(b) = r.date("birth_date")
            && b > today
        {
            e.add("birth_date", "refugees.import.birth_future");
        }
        if let (Some(i), Some(o)) = (r.date("move_in"), r.date("move_out"))
            && o < i
        {
            e.add("move_out", "refugees.import.out_before_in");
        }
        if let Some(b) = r.integer("bed")
            && b < 1
        {
            e.add("bed", "refugees.import.bed_number");
        }
        e
    }
}

fn capacity_row_rules(r: &TypedRow) -> FieldErrors {
    let mut e = FieldErrors::new();
    if let Some(b) = r.integer("beds")
        && !(0..=MAX_ROOM_BEDS).contains(&b)
    {
        e.add_arg("beds", "refugees.import.beds_range", Some(MAX_ROOM_BEDS));
    }
    e
}

/// Copies the pipeline's issues into the analysis, with the column as written.
fn take_issues(a: &mut Analysis, report: &rathaus_import::Report, status_field: bool) {
    for i in &report.issues {
        let key =
            if status_field && i.field.as_deref() == Some("status") && i.key == "import.err.choice"
            {
                "refugees.import.unknown_status".to_string()
            } else {
                i.key.clone()
            };
        let issue = RowIssue {
            sheet: i.sheet.clone(),
            rows: i.row.into_iter().collect(),
            column: i.header.clone().or_else(|| i.column.clone()),
            key,
            arg: i.arg.clone(),
        };
        match i.severity {
            Severity::Error => a.error(issue),
            // Columns left out are expected (the lists carry more than is imported).
            Severity::Warning if i.key == "import.warn.unmapped_column" => {}
            Severity::Warning => a.warning(issue),
        }
    }
}

type RoomKey = (String, String, String);

fn room_key(acc: &str, unit: &str, room: &str) -> RoomKey {
    (normalize(acc), normalize(unit), normalize(room))
}

struct PersonRow {
    sheet: String,
    row: u32,
    room: usize,
    bed: Option<i64>,
    stay: Stay,
    values: TypedRow,
}

/// Reads the workbook's report and plan. `saved` is the mapping of the last import (or the
/// one given with the upload); `today` decides "birth date in the future".
pub fn analyse(book: &Workbook, saved: Option<&Mapping>, today: NaiveDate) -> Analysis {
    let mut a = Analysis::default();
    let mut rooms: Vec<PlanRoom> = Vec::new();
    let mut room_index: HashMap<RoomKey, usize> = HashMap::new();
    let mut accs: Vec<PlanAccommodation> = Vec::new();
    let mut acc_index: HashMap<String, usize> = HashMap::new();
    let mut has_capacity = false;

    // 1. The capacity sheet: the rooms and their beds.
    for sheet in book.sheets.iter().filter(|s| is_capacity_sheet(&s.name)) {
        has_capacity = true;
        let sheet = without_totals(sheet);
        let m = mapping_for(&sheet, CAPACITY_FIELDS, None);
        let report = rathaus_import::validate_with(&sheet, &m, CAPACITY_FIELDS, capacity_row_rules);
        take_issues(&mut a, &report, false);
        for r in &report.rows {
            let acc = r.text("accommodation").unwrap_or_default().to_string();
            let unit = r.text("unit").unwrap_or_default().to_string();
            let room = r.text("room").unwrap_or_default().to_string();
            let ai = *acc_index.entry(normalize(&acc)).or_insert_with(|| {
                accs.push(PlanAccommodation {
                    name: acc.clone(),
                    ..Default::default()
                });
                accs.len() - 1
            });
            if let Some(k) = code::<AccommodationKind>(r, "kind") {
                accs[ai].kind = Some(k);
            }
            if let Some(ad) = r.text("address") {
                accs[ai].address = ad.to_string();
            }
            let key = room_key(&acc, &unit, &room);
            if room_index.contains_key(&key) {
                a.warning(RowIssue {
                    sheet: r.sheet.clone(),
                    rows: vec![r.row],
                    column: column_of(&m, "room"),
                    key: Cow::Borrowed("refugees.import.room_twice").into(),
                    arg: Some(room.clone()),
                });
                continue;
            }
            room_index.insert(key, rooms.len());
            rooms.push(PlanRoom {
                accommodation: acc,
                unit,
                name: room,
                beds: r.integer("beds").unwrap_or(0),
            });
        }
    }

    // 2. The accommodation sheets: one row per stay.
    let mut stays: Vec<PersonRow> = Vec::new();
    let mut mapping_saved: Option<Mapping> = None;
    let mut sheet_maps: HashMap<String, Mapping> = HashMap::new();
    let rules = person_row_rules(today);
    for sheet in book.sheets.iter().filter(|s| !is_capacity_sheet(&s.name)) {
        let sheet = without_totals(sheet);
        let m = mapping_for(&sheet, PERSON_FIELDS, saved);
        let report = rathaus_import::validate_with(&sheet, &m, PERSON_FIELDS, &rules);
        take_issues(&mut a, &report, true);
        let data_rows: usize = report.sheets.iter().map(|s| s.data_rows).sum();
        a.rows_total += data_rows;
        if mapping_saved.is_none() && report.sheets.iter().any(|s| s.header.is_some()) {
            mapping_saved = Some(Mapping {
                header_row: None,
                columns: m
                    .columns
                    .iter()
                    .filter(|c| c.field.is_some())
                    .map(|c| ColumnMapping {
                        column: None,
                        header: c.header.clone(),
                        field: c.field.clone(),
                        score: None,
                    })
                    .collect(),
            });
        }
        let room_col = column_of(&m, "room");
        sheet_maps.insert(sheet.name.clone(), m.clone());
        for r in report.rows {
            let acc = r
                .text("accommodation")
                .map(str::to_string)
                .unwrap_or_else(|| sheet.name.trim().to_string());
            let unit = r.text("unit").unwrap_or_default().to_string();
            let room = r.text("room").unwrap_or_default().to_string();
            let key = room_key(&acc, &unit, &room);
            let ri = match room_index.get(&key) {
                Some(i) => *i,
                None if has_capacity => {
                    a.error(RowIssue {
                        sheet: r.sheet.clone(),
                        rows: vec![r.row],
                        column: room_col.clone(),
                        key: Cow::Borrowed("refugees.import.room_unknown").into(),
                        arg: Some(room.clone()),
                    });
                    continue;
                }
                None => {
                    // Without a capacity sheet (a CSV) rooms are made as the list names them,
                    // with as many beds as it fills at once.
                    if let std::collections::hash_map::Entry::Vacant(e) =
                        acc_index.entry(normalize(&acc))
                    {
                        e.insert(accs.len());
                        accs.push(PlanAccommodation {
                            name: acc.clone(),
                            ..Default::default()
                        });
                    }
                    room_index.insert(key, rooms.len());
                    rooms.push(PlanRoom {
                        accommodation: acc.clone(),
                        unit,
                        name: room,
                        beds: -1,
                    });
                    rooms.len() - 1
                }
            };
            let Some(start) = r.date("move_in") else {
                continue;
            };
            stays.push(PersonRow {
                sheet: r.sheet.clone(),
                row: r.row,
                room: ri,
                bed: r.integer("bed"),
                stay: Stay {
                    starts_on: start,
                    ends_on: r.date("move_out"),
                },
                values: r,
            });
        }
    }
    a.mapping = mapping_saved.unwrap_or_default();

    // 3. One person per name and birth date; stays of one person that overlap are a probable
    // duplicate (kept once).
    let mut persons: Vec<(PlanPerson, Vec<usize>)> = Vec::new();
    let mut by_identity: HashMap<(String, String, NaiveDate), usize> = HashMap::new();
    let mut order: Vec<usize> = (0..stays.len()).collect();
    order.sort_by_key(|&i| (stays[i].stay.starts_on, i));
    let mut dropped = vec![false; stays.len()];
    for &i in &order {
        let s = &stays[i];
        let surname = s.values.text("surname").unwrap_or_default().to_string();
        let given = s.values.text("given_names").unwrap_or_default().to_string();
        let identity = s
            .values
            .date("birth_date")
            .map(|b| (normalize(&surname), normalize(&given), b));
        let existing = identity.as_ref().and_then(|k| by_identity.get(k).copied());
        let pi = match existing {
            Some(pi) => {
                let clash = persons[pi]
                    .1
                    .iter()
                    .find(|&&j| stays[j].stay.overlaps(&s.stay))
                    .copied();
                if let Some(j) = clash {
                    a.warning(RowIssue {
                        sheet: s.sheet.clone(),
                        rows: vec![stays[j].row, s.row],
                        column: None,
                        key: Cow::Borrowed("refugees.import.duplicate").into(),
                        arg: Some(format!("{surname}, {given}")),
                    });
                    dropped[i] = true;
                    continue;
                }
                pi
            }
            None => {
                persons.push((PlanPerson::default(), Vec::new()));
                if let Some(k) = identity {
                    by_identity.insert(k, persons.len() - 1);
                }
                persons.len() - 1
            }
        };
        // The latest stay's row has the current data.
        let p = &mut persons[pi].0;
        let v = &s.values;
        p.surname = surname;
        p.given_names = given;
        p.birth_date = v.date("birth_date");
        p.sex = code::<Sex>(v, "sex").or(p.sex);
        if let Some(n) = v.text("nationality") {
            p.nationality = n.to_string();
        }
        p.status = code::<ResidenceStatus>(v, "status").or(p.status);
        p.permit_until = v.date("permit_until").or(p.permit_until);
        if let Some(x) = v.text("phone") {
            p.phone = x.to_string();
        }
        if let Some(x) = v.text("languages") {
            p.languages = x.to_string();
        }
        if let Some(x) = v.text("household") {
            p.household = x.to_string();
        }
        persons[pi].1.push(i);
    }

    // 4. Beds: explicit numbers first (within capacity, never two persons on one day), then
    // the rows without a number on the lowest bed free for their whole stay.
    let mut per_room: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, s) in stays.iter().enumerate() {
        if !dropped[i] {
            per_room.entry(s.room).or_default().push(i);
        }
    }
    let mut bed_of: Vec<Option<i64>> = vec![None; stays.len()];
    let mut bad = vec![false; stays.len()];
    for (&ri, list) in &per_room {
        let fixed_cap = rooms[ri].beds;
        let mut taken: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for &i in list.iter().filter(|&&i| stays[i].bed.is_some()) {
            let s = &stays[i];
            let b = s.bed.unwrap_or(1);
            if fixed_cap >= 0 && b > fixed_cap {
                a.error(RowIssue {
                    sheet: s.sheet.clone(),
                    rows: vec![s.row],
                    column: sheet_maps.get(&s.sheet).and_then(|m| column_of(m, "bed")),
                    key: Cow::Borrowed("refugees.import.bed_over_capacity").into(),
                    arg: Some(format!("{b}/{fixed_cap}")),
                });
                bad[i] = true;
                continue;
            }
            let holders = taken.entry(b).or_default();
            if let Some(&j) = holders.iter().find(|&&j| stays[j].stay.overlaps(&s.stay)) {
                a.error(RowIssue {
                    sheet: s.sheet.clone(),
                    rows: vec![s.row],
                    column: sheet_maps.get(&s.sheet).and_then(|m| column_of(m, "bed")),
                    key: Cow::Borrowed("refugees.import.bed_twice").into(),
                    arg: Some(stays[j].row.to_string()),
                });
                bad[i] = true;
                continue;
            }
            holders.push(i);
            bed_of[i] = Some(b);
        }
        let mut open: Vec<usize> = list
            .iter()
            .copied()
            .filter(|&i| stays[i].bed.is_none())
            .collect();
        open.sort_by_key(|&i| (stays[i].stay.starts_on, i));
        for i in open {
            let s = &stays[i];
            let mut b = 1;
            loop {
                let free = taken
                    .get(&b)
                    .is_none_or(|h| h.iter().all(|&j| !stays[j].stay.overlaps(&s.stay)));
                if free {
                    break;
                }
                b += 1;
            }
            if fixed_cap >= 0 && b > fixed_cap {
                a.error(RowIssue {
                    sheet: s.sheet.clone(),
                    rows: vec![s.row],
                    column: sheet_maps.get(&s.sheet).and_then(|m| column_of(m, "room")),
                    key: Cow::Borrowed("refugees.import.room_full").into(),
                    arg: Some(format!("{} ({fixed_cap})", rooms[ri].name)),
                });
                bad[i] = true;
                continue;
            }
            taken.entry(b).or_default().push(i);
            bed_of[i] = Some(b);
        }
        if fixed_cap < 0 {
            rooms[ri].beds = taken.keys().copied().max().unwrap_or(1);
        }
    }

    // Rows with an error of their own are counted by the pipeline; these add the cross-row ones.
    let mut error_rows: std::collections::HashSet<(String, u32)> = a
        .errors
        .iter()
        .filter_map(|e| e.rows.first().map(|r| (e.sheet.clone(), *r)))
        .collect();
    for (i, s) in stays.iter().enumerate() {
        if bad[i] {
            error_rows.insert((s.sheet.clone(), s.row));
        }
    }
    a.rows_ok = a.rows_total.saturating_sub(
        error_rows
            .iter()
            .filter(|(sh, _)| !is_capacity_sheet(sh))
            .count(),
    );

    if a.errors.is_empty() {
        let mut out = Vec::with_capacity(persons.len());
        for (mut p, list) in persons {
            p.stays = list
                .iter()
                .filter_map(|&i| {
                    bed_of[i].map(|bed| PlanStay {
                        room: stays[i].room,
                        bed,
                        stay: stays[i].stay,
                    })
                })
                .collect();
            out.push(p);
        }
        a.plan = Plan {
            accommodations: accs,
            rooms,
            persons: out,
        };
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `code` maps a choice to the domain's code: a value it does not know would be dropped.
    #[test]
    fn every_choice_value_is_a_domain_code() {
        let values = |fields: &[Field], key: &str| -> Vec<String> {
            match fields.iter().find(|f| f.key == key).map(|f| &f.kind) {
                Some(FieldKind::Choice(cs)) => cs.iter().map(|c| c.value.to_string()).collect(),
                _ => Vec::new(),
            }
        };
        let sex = values(PERSON_FIELDS, "sex");
        let status = values(PERSON_FIELDS, "status");
        let kind = values(CAPACITY_FIELDS, "kind");
        assert_eq!((sex.len(), status.len(), kind.len()), (3, 7, 4));
        assert!(sex.iter().all(|v| Sex::parse(v).is_some()), "{sex:?}");
        assert!(
            status.iter().all(|v| ResidenceStatus::parse(v).is_some()),
            "{status:?}"
        );
        assert!(
            kind.iter().all(|v| AccommodationKind::parse(v).is_some()),
            "{kind:?}"
        );
    }
}
