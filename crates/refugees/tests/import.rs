//! The import of the Excel lists: every error kind of the issue with sheet, Excel row, column
//! as written and the German message; duplicate warnings; all or nothing; a person who moved
//! between accommodations is one person with history; CSV from German Excel; files that are
//! no spreadsheet.

use crate::common;

use common::xlsx::{C, C::*, workbook};
use common::*;
use rathaus_refugees::service::imports::{Outcome, import};
use rathaus_refugees::store::{household, occupancy, person};
use rathaus_store::uow::Actor;
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::{EntityTrait, PaginatorTrait};

fn capacity() -> (&'static str, Vec<Vec<C<'static>>>) {
    (
        "Kapazität",
        vec![
            vec![S("Kapazitätsliste Stand 2026")],
            vec![],
            vec![S("Unterkunft"), S("Zimmer"), S("Betten")],
            vec![S("Haus am See"), S("1"), N(2.0)],
            vec![S("Haus am See"), S("2"), N(1.0)],
            vec![S("Container Nord"), S("A1"), N(2.0)],
            vec![S("Summe"), E, N(5.0)],
        ],
    )
}

fn messages(o: &Outcome) -> Vec<String> {
    let t = catalog(Lang::De);
    o.errors
        .iter()
        .map(|l| rathaus_refugees::http::report_line(t, l, true))
        .collect()
}

fn find<'a>(o: &'a Outcome, key: &str) -> &'a rathaus_refugees::service::imports::Line {
    o.errors
        .iter()
        .find(|l| l.key == key)
        .unwrap_or_else(|| panic!("no {key} in {:#?}", messages(o)))
}

#[tokio::test]
async fn every_error_kind_is_reported_with_sheet_row_column_and_nothing_is_written() {
    let s = setup().await;
    let book = workbook(&[
        capacity(),
        (
            "Haus am See",
            vec![
                vec![S("Belegungsliste Haus am See")],
                vec![
                    S("Name"),
                    S("Vorname"),
                    S("Geb.-Datum"),
                    S("Zi.-Nr."),
                    S("Einzug"),
                    S("Auszug"),
                    S("Aufenthaltsstatus"),
                    S("BG-Nr."),
                ],
                // row 3: fine
                vec![
                    S("Haddad"),
                    S("Lina"),
                    D(1988, 3, 4),
                    S("1"),
                    S("03.04.2023"),
                    E,
                    S("Duldung"),
                    S("BG-1"),
                ],
                // row 4: impossible date
                vec![
                    S("Haddad"),
                    S("Omar"),
                    S("31.02.1990"),
                    S("1"),
                    S("3.4.23"),
                    E,
                    S("Duldung"),
                    S("BG-1"),
                ],
                // row 5: birth date in the future
                vec![
                    S("Kaya"),
                    S("Eda"),
                    S("01.01.2090"),
                    S("2"),
                    S("01.05.2023"),
                    E,
                    S("Duldung"),
                    E,
                ],
                // row 6: move-out before move-in
                vec![
                    S("Petrenko"),
                    S("Olha"),
                    D(1975, 1, 2),
                    S("2"),
                    S("10.05.2023"),
                    S("01.05.2023"),
                    S("§ 24 AufenthG"),
                    E,
                ],
                // row 7: unknown status
                vec![
                    S("Nour"),
                    S("Sami"),
                    D(2001, 7, 7),
                    S("2"),
                    S("01.01.2024"),
                    S("01.02.2024"),
                    S("Flüchtling"),
                    E,
                ],
                // row 8: missing surname
                vec![
                    E,
                    S("Anon"),
                    D(2000, 1, 1),
                    S("1"),
                    S("01.01.2024"),
                    S("01.02.2024"),
                    S("Duldung"),
                    E,
                ],
                // row 9: room not in the capacity sheet
                vec![
                    S("Rahimi"),
                    S("Ali"),
                    D(1999, 9, 9),
                    S("99"),
                    S("01.01.2024"),
                    E,
                    S("Duldung"),
                    E,
                ],
                // row 10 and 11: room 2 has one bed, both stays overlap -> room full
                vec![
                    S("Bauer"),
                    S("Ivan"),
                    D(1980, 2, 2),
                    S("2"),
                    S("01.06.2024"),
                    E,
                    S("Duldung"),
                    E,
                ],
                vec![
                    S("Bauer"),
                    S("Maria"),
                    D(1982, 2, 2),
                    S("2"),
                    S("01.07.2024"),
                    E,
                    S("Duldung"),
                    E,
                ],
                // row 12: the same person as row 3 again, overlapping: duplicate warning
                vec![
                    S("Haddad"),
                    S("Lina"),
                    D(1988, 3, 4),
                    S("1"),
                    S("05.04.2023"),
                    E,
                    S("Duldung"),
                    S("BG-1"),
                ],
                vec![S("Summe"), S("9 Personen")],
            ],
        ),
        (
            "Container Nord",
            vec![
                vec![
                    S("Familienname"),
                    S("Vornamen"),
                    S("geb. am"),
                    S("Raum"),
                    S("Bett"),
                    S("eingezogen am"),
                    S("Status"),
                ],
                // row 2: bed beyond the room's capacity (2)
                vec![
                    S("Yilmaz"),
                    S("Can"),
                    D(1970, 1, 1),
                    S("A1"),
                    N(3.0),
                    S("01.01.2024"),
                    S("Duldung"),
                ],
                // rows 3 and 4: two persons in bed 1 on overlapping days
                vec![
                    S("Ahmadi"),
                    S("Reza"),
                    D(1990, 1, 1),
                    S("A1"),
                    N(1.0),
                    S("01.01.2024"),
                    S("Duldung"),
                ],
                vec![
                    S("Ahmadi"),
                    S("Sara"),
                    D(1991, 1, 1),
                    S("A1"),
                    N(1.0),
                    S("01.02.2024"),
                    S("Duldung"),
                ],
            ],
        ),
    ]);
    let o = import(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        &book,
        None,
        true,
    )
    .await
    .unwrap();
    let msgs = messages(&o);
    assert!(!o.committed, "{msgs:#?}");

    let e = find(&o, "import.err.date");
    assert_eq!(
        (e.sheet.as_str(), e.rows.as_slice(), e.column.as_deref()),
        ("Haus am See", &[4][..], Some("Geb.-Datum"))
    );
    let e = find(&o, "refugees.import.birth_future");
    assert_eq!(
        (e.rows.as_slice(), e.column.as_deref()),
        (&[5][..], Some("Geb.-Datum"))
    );
    let e = find(&o, "refugees.import.out_before_in");
    assert_eq!(
        (e.rows.as_slice(), e.column.as_deref()),
        (&[6][..], Some("Auszug"))
    );
    let e = find(&o, "refugees.import.unknown_status");
    assert_eq!(
        (e.rows.as_slice(), e.column.as_deref()),
        (&[7][..], Some("Aufenthaltsstatus"))
    );
    let e = find(&o, "import.err.required");
    assert_eq!(
        (e.rows.as_slice(), e.column.as_deref()),
        (&[8][..], Some("Name"))
    );
    let e = find(&o, "refugees.import.room_unknown");
    assert_eq!(
        (e.rows.as_slice(), e.column.as_deref()),
        (&[9][..], Some("Zi.-Nr."))
    );
    let e = find(&o, "refugees.import.room_full");
    assert_eq!(e.rows, vec![11]);
    let e = find(&o, "refugees.import.bed_over_capacity");
    assert_eq!(
        (e.sheet.as_str(), e.rows.as_slice(), e.column.as_deref()),
        ("Container Nord", &[2][..], Some("Bett"))
    );
    let e = find(&o, "refugees.import.bed_twice");
    assert_eq!(
        (e.rows.as_slice(), e.column.as_deref()),
        (&[4][..], Some("Bett"))
    );
    // German messages with where they are.
    assert!(
        msgs.iter().any(|m| m
            .contains("Tabellenblatt „Haus am See“, Zeile 7, Spalte „Aufenthaltsstatus“")
            && m.contains("kein bekannter Aufenthaltsstatus")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("Das Geburtsdatum liegt in der Zukunft."))
    );
    // The duplicate is a warning naming both rows; the totals rows are no persons.
    let w = o
        .warnings
        .iter()
        .find(|w| w.key == "refugees.import.duplicate")
        .unwrap();
    assert_eq!(w.rows, vec![3, 12]);
    assert_eq!(o.rows_total, 10 + 3);
    assert!(o.errors.iter().all(|e| !e.sheet.is_empty()));

    // Nothing was written.
    assert_eq!(person::Entity::find().count(&s.db.conn).await.unwrap(), 0);
}

#[tokio::test]
async fn a_clean_workbook_goes_in_whole_with_history_and_households() {
    let s = setup().await;
    let book = workbook(&[
        capacity(),
        (
            "Haus am See",
            vec![
                vec![
                    S("Name"),
                    S("Vorname"),
                    S("Geburtsdatum"),
                    S("Zimmer"),
                    S("eingezogen am"),
                    S("Auszug"),
                    S("Status"),
                    S("Haushalt"),
                    S("gültig bis"),
                ],
                vec![
                    S("Haddad"),
                    S("Lina"),
                    D(1988, 3, 4),
                    S("1"),
                    S("03.04.2023"),
                    E,
                    S("Aufenthaltsgestattung"),
                    S("BG-1"),
                    S("30.06.2027"),
                ],
                vec![
                    S("Haddad"),
                    S("Omar"),
                    D(1986, 5, 1),
                    S("1"),
                    D(2023, 4, 3),
                    E,
                    S("Aufenthaltsgestattung"),
                    S("BG-1"),
                    E,
                ],
                vec![
                    S("Kaya"),
                    S("Eda"),
                    D(1990, 1, 1),
                    S("2"),
                    S("01.01.2023"),
                    S("01.03.2024"),
                    S("Duldung"),
                    E,
                    E,
                ],
            ],
        ),
        (
            "Container Nord",
            vec![
                vec![
                    S("Familienname"),
                    S("Vornamen"),
                    S("geb. am"),
                    S("Raum"),
                    S("Einzug"),
                    S("Aufenthaltsstatus"),
                ],
                // Kaya moved here from Haus am See: one person with two stays.
                vec![
                    S("Kaya"),
                    S("Eda"),
                    D(1990, 1, 1),
                    S("A1"),
                    S("01.03.2024"),
                    S("Duldung"),
                ],
            ],
        ),
    ]);
    // Dry run: a clean report, nothing written.
    let o = import(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        &book,
        None,
        false,
    )
    .await
    .unwrap();
    assert!(o.errors.is_empty(), "{:#?}", messages(&o));
    assert!(!o.committed);
    assert_eq!((o.rows_total, o.rows_ok), (4, 4));
    assert_eq!(person::Entity::find().count(&s.db.conn).await.unwrap(), 0);
    // Commit.
    let o = import(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        &book,
        None,
        true,
    )
    .await
    .unwrap();
    assert!(o.committed);
    assert_eq!(person::Entity::find().count(&s.db.conn).await.unwrap(), 3);
    assert_eq!(
        occupancy::Entity::find().count(&s.db.conn).await.unwrap(),
        4
    );
    let persons = person::Entity::find().all(&s.db.conn).await.unwrap();
    let lina = persons.iter().find(|p| p.given_names == "Lina").unwrap();
    assert_eq!(lina.residence_status, "gestattung");
    assert_eq!(lina.permit_valid_until, Some(d("2027-06-30")));
    assert!(lina.household_id.is_some());
    // The household's head is its first person in the file.
    let hh = household::Entity::find_by_id(lina.household_id.unwrap())
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (hh.reference.as_str(), hh.head_person_id),
        ("BG-1", Some(lina.id))
    );
    assert_eq!(
        lina.household_id,
        persons
            .iter()
            .find(|p| p.given_names == "Omar")
            .unwrap()
            .household_id
    );
    // Free beds: Haus am See room 1 is full, room 2 free since Kaya left; Container 1 of 2.
    let list = rathaus_refugees::service::places::accommodations_on(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        d("2025-01-01"),
    )
    .await
    .unwrap();
    let figures: Vec<(String, i64, i64, i64)> = list
        .iter()
        .map(|a| (a.accommodation.name.clone(), a.capacity, a.occupied, a.free))
        .collect();
    assert_eq!(
        figures,
        vec![
            ("Container Nord".to_string(), 2, 1, 1),
            ("Haus am See".to_string(), 3, 2, 1),
        ]
    );
    // The mapping was saved; an audit event was written.
    assert!(
        rathaus_store::audit::verify(&s.db.conn)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn a_german_excel_csv_and_files_that_are_no_spreadsheet() {
    let s = setup().await;
    // Windows-1252, semicolons, title row, German dates.
    let text = "Belegung Stadt;;;;\r\nNachname;Vorname;Geb.-Datum;Unterkunft;Zimmer;Einzug\r\nM\u{fc}ller;J\u{fc}rgen;03.04.1980;Haus Linde;3;1.2.24\r\nG\u{f6}k;Ay\u{15f}e;4.5.1990;Haus Linde;3;01.02.2024\r\n";
    let (bytes, _, _) = encoding_of(text);
    let o = import(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        &bytes,
        None,
        true,
    )
    .await
    .unwrap();
    assert!(o.committed, "{:#?}", messages(&o));
    let names: Vec<String> = person::Entity::find()
        .all(&s.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.surname)
        .collect();
    assert!(names.contains(&"Müller".to_string()), "{names:?}");

    // Not a spreadsheet: a field error on the file, nothing written.
    let err = import(
        &s.db.conn,
        Actor::User(&s.admin),
        s.f.tenant,
        b"\x89PNG\r\n\x1a\n\0\0\0binary",
        None,
        true,
    )
    .await
    .unwrap_err();
    match err {
        rathaus_core::Error::Invalid(f) => assert_eq!(f.0[0].key, "import.err.not_spreadsheet"),
        e => panic!("{e:?}"),
    }
    // Without the permission: refused.
    let err = import(
        &s.db.conn,
        Actor::User(&s.caretaker),
        s.f.tenant,
        &bytes,
        None,
        false,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, rathaus_core::Error::Forbidden));
}

/// Windows-1252 bytes of a text (the test's stand-in for Excel's "CSV (Trennzeichen-getrennt)").
fn encoding_of(s: &str) -> (Vec<u8>, (), ()) {
    let bytes = s
        .chars()
        .map(|c| match c {
            '\u{15f}' => b's', // not in Windows-1252: Excel writes a question mark or similar
            c if (c as u32) < 256 => c as u32 as u8,
            _ => b'?',
        })
        .collect();
    (bytes, (), ())
}
