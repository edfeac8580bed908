//! The import of the officer's measures list (SQLite, or PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL): a generated workbook with a title row and German headers, the
//! dry run's errors with Excel row numbers, nothing written until the fixed file goes in whole
//! in one transaction with one audit event; a Windows-1252 CSV; the pages without JavaScript.

use rathaus_programme::Programme;
use rathaus_programme::service::imports::{Outcome, import};
use rathaus_programme::service::measures::{self, MeasureInput};
use rathaus_programme::store::entity::measure;
use rathaus_store::entity::audit_event;
use rathaus_store::uow::Actor;
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture, user_with};
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::{AppState, Module, WebConfig};
use reqwest::multipart::{Form, Part};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::sync::Arc;

const HOST: &str = "rathaus.a.test";

#[derive(Clone, Copy)]
enum C<'a> {
    S(&'a str),
    N(f64),
    D(u16, u8, u8),
    E,
}
use C::*;

fn xlsx(rows: &[Vec<C<'_>>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let ws = wb.add_worksheet();
    ws.set_name("Maßnahmen").unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match *cell {
                S(s) => {
                    ws.write_string(r, c, s).unwrap();
                }
                N(n) => {
                    ws.write_number(r, c, n).unwrap();
                }
                D(y, m, d) => {
                    let dt = ExcelDateTime::from_ymd(y, m, d).unwrap();
                    ws.write_datetime_with_format(r, c, &dt, &date).unwrap();
                }
                E => {}
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// The officer's list: a title row, a blank row, the header in row 3 as written by hand.
fn list(score: f64, title: C<'static>) -> Vec<u8> {
    xlsx(&[
        vec![S("Maßnahmenliste Digitalisierung – Stand November 2026")],
        vec![],
        vec![
            S("Titel"),
            S("Fachbereich"),
            S("Beschreibung"),
            S("Kategorie"),
            S("Größe"),
            S("Nutzen (1-5)"),
            S("Aufwand (1-5)"),
            S("Verantwortlich"),
            S("geplanter Beginn"),
            S("fällig"),
            S("Finanzierung"),
            S("Schlagworte"),
        ],
        // row 4: fine; the start as typed text with a two-digit year
        vec![
            S("E-Akte im Bauamt"),
            S("Bauamt"),
            S("Bauanträge digital führen"),
            S("Interne Prozesse"),
            S("groß"),
            N(4.0),
            N(3.0),
            S("Lea Leser"),
            S("3.4.27"),
            D(2027, 12, 31),
            S("Haushalt 2027"),
            S("E-Akte, Bau"),
        ],
        // row 5: a score of 7 (or the fixed 5), a person nobody knows
        vec![
            S("Online-Terminvergabe"),
            S("Bürgerbüro"),
            E,
            S("Bürgerservice"),
            S("klein"),
            N(score),
            N(2.0),
            S("Max Unbekannt"),
            E,
            E,
            E,
            E,
        ],
        // row 6: the title missing (or the fixed one)
        vec![
            title,
            S("Ordnungsamt"),
            S("Anträge online"),
            S("OZG"),
            S("mittel"),
            N(3.0),
            N(3.0),
        ],
        // row 7: a title the catalogue has already
        vec![S("WLAN im Rathaus"), S("IT"), E, E, E, N(2.0), N(4.0)],
    ])
}

struct Setup {
    app: TestApp,
    st: AppState,
    admin: rathaus_core::Principal,
    tenant: rathaus_core::TenantId,
}

async fn setup() -> Setup {
    let tdb = TestDb::new().await;
    rathaus_core::permissions::register(rathaus_programme::permissions::PERMISSIONS);
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(Programme)];
    rathaus_web::module::migrate_all(&tdb.db, &modules)
        .await
        .unwrap();
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST).await;
    let admin = rathaus_testkit::principal(&db, a.tenant, a.admin).await;
    user_with(
        &db,
        a.tenant,
        "leser@a.example",
        "Lea Leser",
        &["programme.read"],
    )
    .await;
    let st = AppState::with_modules(db.clone(), WebConfig::default(), modules);
    measures::create(
        &db.conn,
        None,
        Actor::User(&admin),
        a.tenant,
        &MeasureInput {
            title: "WLAN im Rathaus".into(),
            department: "IT".into(),
            ..MeasureInput::default()
        },
    )
    .await
    .unwrap();
    let app = TestApp::spawn_state(tdb, st.clone()).await;
    Setup {
        app,
        st,
        admin,
        tenant: a.tenant,
    }
}

/// Every issue as "severity row column: message" in German.
fn lines(o: &Outcome) -> Vec<String> {
    let t = catalog(Lang::De);
    o.report
        .issues
        .iter()
        .map(|i| {
            let msg = match &i.arg {
                Some(a) => t.fmt(&i.key, a),
                None => t.get(&i.key).to_string(),
            };
            format!(
                "{:?} {}:{} {}: {msg}",
                i.severity,
                i.sheet,
                i.row.unwrap_or(0),
                i.column.clone().unwrap_or_default()
            )
        })
        .collect()
}

async fn counts(s: &Setup) -> (u64, u64) {
    let measures = measure::Entity::find().count(&s.st.db.conn).await.unwrap();
    let audits = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("programme.measures.imported"))
        .count(&s.st.db.conn)
        .await
        .unwrap();
    (measures, audits)
}

#[tokio::test]
async fn the_dry_run_names_each_error_by_row_and_the_fixed_list_goes_in_whole() {
    let s = setup().await;
    let by = Actor::User(&s.admin);
    let bad = list(7.0, E);
    let o = import(&s.st.db.conn, None, by, s.tenant, &bad, false)
        .await
        .unwrap();
    let all = lines(&o);
    let errors: Vec<&String> = all.iter().filter(|l| l.starts_with("Error")).collect();
    assert_eq!(
        errors,
        [
            "Error Maßnahmen:5 F: Bitte geben Sie eine Zahl von 1 bis 5 ein.",
            "Error Maßnahmen:6 A: Pflichtangabe fehlt.",
        ],
        "{all:#?}"
    );
    assert_eq!(o.report.errors, 2);
    assert!(!o.committed);
    // Warnings: the title already in the catalogue, the two-digit year.
    assert!(
        all.iter()
            .any(|l| l.starts_with("Warning Maßnahmen:7 A: Eine Maßnahme „WLAN im Rathaus“")),
        "{all:#?}"
    );
    assert!(
        all.iter().any(|l| l.contains(":4 I: Zweistellige")),
        "{all:#?}"
    );
    // Even asked to commit, a list with errors writes nothing.
    let o = import(&s.st.db.conn, None, by, s.tenant, &bad, true)
        .await
        .unwrap();
    assert!(!o.committed && o.created == 0);
    assert_eq!(counts(&s).await, (1, 0));

    // The fixed list: every row, one audit event.
    let good = list(5.0, S("Gewerbeanmeldung online"));
    let o = import(&s.st.db.conn, None, by, s.tenant, &good, true)
        .await
        .unwrap();
    assert!(o.committed, "{:#?}", lines(&o));
    assert_eq!(o.created, 4);
    assert!(
        lines(&o)
            .iter()
            .any(|l| l
                .starts_with("Warning Maßnahmen:5 H: Keine Person mit dem Namen „Max Unbekannt“")),
        "{:#?}",
        lines(&o)
    );
    assert_eq!(counts(&s).await, (5, 1));
    let all = measure::Entity::find().all(&s.st.db.conn).await.unwrap();
    let akte = all.iter().find(|m| m.title == "E-Akte im Bauamt").unwrap();
    assert_eq!(akte.department, "Bauamt");
    assert_eq!(akte.category, "internal_processes");
    assert_eq!(akte.size, "large");
    assert_eq!((akte.benefit, akte.effort), (4, 3));
    assert_eq!(akte.priority, rathaus_programme::domain::priority(4, 3));
    assert_eq!(akte.responsible_name, "Lea Leser");
    assert!(akte.responsible_id.is_some());
    assert_eq!(akte.planned_start.unwrap().to_string(), "2027-04-03");
    assert_eq!(akte.due.unwrap().to_string(), "2027-12-31");
    assert_eq!(akte.funding, "Haushalt 2027");
    assert_eq!(akte.tags, "E-Akte, Bau");
    let termin = all
        .iter()
        .find(|m| m.title == "Online-Terminvergabe")
        .unwrap();
    assert_eq!(termin.responsible_id, None, "an unknown name stays empty");
    assert_eq!(termin.size, "small");
    assert_eq!(termin.category, "citizen_services");
    // New measures are in the first phase, after the one there was.
    let first = all.iter().map(|m| m.phase_id).min().unwrap();
    assert!(all.iter().all(|m| m.phase_id == first));
    let wlan = all.iter().find(|m| m.title == "WLAN im Rathaus").unwrap();
    assert!(
        all.iter()
            .all(|m| m.id == wlan.id || m.position > wlan.position)
    );
    assert!(
        rathaus_store::audit::verify(&s.st.db.conn)
            .await
            .unwrap()
            .is_ok()
    );

    // Without the edit permission: refused.
    let reader = user_with(
        &s.st.db,
        s.tenant,
        "nur-lesen@a.example",
        "Nur Lesen",
        &["programme.read"],
    )
    .await;
    let err = import(
        &s.st.db.conn,
        None,
        Actor::User(&reader),
        s.tenant,
        &good,
        false,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, rathaus_core::Error::Forbidden), "{err:?}");
}

#[tokio::test]
async fn a_csv_from_german_excel_and_files_that_are_no_list() {
    let s = setup().await;
    let by = Actor::User(&s.admin);
    // Windows-1252 with semicolons, as Excel saves "CSV (Trennzeichen-getrennt)".
    let text = "Titel;Fachbereich;Gr\u{f6}\u{df}e;Nutzen;Aufwand;f\u{e4}llig\r\n\
                Stra\u{df}enbeleuchtung smart;Tiefbau;gro\u{df};4;4;01.06.2027\r\n\
                M\u{fc}llabfuhr-App;Umweltamt;klein;3;1;\r\n\
                M\u{fc}llabfuhr-App;Bauhof;;2;2;\r\n";
    let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    let o = import(&s.st.db.conn, None, by, s.tenant, &bytes, true)
        .await
        .unwrap();
    assert!(o.committed, "{:#?}", lines(&o));
    assert_eq!(o.created, 3);
    assert_eq!(
        lines(&o),
        ["Warning :4 A: Dieser Titel steht schon in Zeile 3 der Datei."]
    );
    let titles: Vec<String> = measure::Entity::find()
        .all(&s.st.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.title)
        .collect();
    assert!(titles.contains(&"Müllabfuhr-App".to_string()), "{titles:?}");
    assert!(titles.contains(&"Straßenbeleuchtung smart".to_string()));

    for (bytes, key) in [
        (
            &b"\x89PNG\r\n\x1a\n\0\0\0binary"[..],
            "import.err.not_spreadsheet",
        ),
        (&b"   "[..], "import.err.empty_file"),
    ] {
        match import(&s.st.db.conn, None, by, s.tenant, bytes, true).await {
            Err(rathaus_core::Error::Invalid(f)) => assert_eq!(f.0[0].key, key),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(counts(&s).await, (4, 1));
}

#[tokio::test]
async fn the_pages_upload_check_and_commit_without_javascript() {
    let s = setup().await;
    let base = s.app.url(HOST, "");
    let c = s.app.client(&[HOST]);
    login(&c, &base, "admin@a.example", PASSWORD).await;
    // The catalogue links to the form.
    let html = c
        .get(format!("{base}/programm/massnahmen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("href=\"/programm/massnahmen/import\""),
        "{html}"
    );
    let r = c
        .get(format!("{base}/programm/massnahmen/import"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let csrf = csrf_of(&html);
    let upload = |bytes: Vec<u8>, name: &'static str| {
        c.post(format!("{base}/programm/massnahmen/import?_csrf={csrf}"))
            .multipart(Form::new().part("file", Part::bytes(bytes).file_name(name)))
            .send()
    };

    // A list with errors: 422, the report with rows, no commit button.
    let r = upload(list(7.0, E), "liste.xlsx").await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Bitte geben Sie eine Zahl von 1 bis 5 ein."),
        "{html}"
    );
    assert!(html.contains("Pflichtangabe fehlt."));
    assert!(!html.contains("Jetzt übernehmen"));

    // Not a spreadsheet, or empty: a clear German error, 422, nothing kept.
    let r = upload(b"\x89PNG\r\n\x1a\n\0\0\0binary".to_vec(), "bild.xlsx")
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Die Datei ist keine Tabelle.")
    );
    let r = upload(Vec::new(), "leer.csv").await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Die Datei ist leer."));
    assert_eq!(counts(&s).await, (1, 0));

    // The fixed list: report, then "Jetzt übernehmen".
    let r = upload(list(5.0, S("Gewerbeanmeldung online")), "liste.xlsx")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Jetzt übernehmen"), "{html}");
    assert!(
        html.contains("Keine Person mit dem Namen"),
        "warnings are shown"
    );
    assert_eq!(counts(&s).await, (1, 0), "the dry run writes nothing");
    let fid = html
        .split("name=\"file_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    // Without the CSRF token: refused.
    let r = c
        .post(format!("{base}/programm/massnahmen/import/uebernehmen"))
        .form(&[("file_id", fid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(format!("{base}/programm/massnahmen/import/uebernehmen"))
        .form(&[("_csrf", csrf.as_str()), ("file_id", fid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("wurden übernommen"), "{html}");
    assert_eq!(counts(&s).await, (5, 1));
    // The upload is gone: a second click imports nothing twice.
    let r = c
        .post(format!("{base}/programm/massnahmen/import/uebernehmen"))
        .form(&[("_csrf", csrf.as_str()), ("file_id", fid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(counts(&s).await, (5, 1));
}

#[tokio::test]
async fn the_command_line_imports_only_a_clean_list_and_says_so_by_exit_code() {
    use rathaus_programme::cli;
    use std::process::ExitCode;
    let s = setup().await;
    let dir = std::env::temp_dir().join(format!("programme-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = async |bytes: Vec<u8>, dry: bool| {
        let path = dir.join("liste.xlsx");
        std::fs::write(&path, bytes).unwrap();
        let mut argv = vec![
            "programme".to_string(),
            "import".into(),
            path.display().to_string(),
            "--tenant".into(),
            "a".into(),
        ];
        if dry {
            argv.push("--dry-run".into());
        }
        let m = cli::command().try_get_matches_from(argv).unwrap();
        cli::run(&s.st.db, &m).await.unwrap()
    };
    let refused = ExitCode::from(cli::EXIT_REFUSED);
    assert_eq!(run(list(7.0, E), false).await, refused);
    assert_eq!(run(b"\x89PNG\r\n\x1a\n\0\0".to_vec(), false).await, refused);
    let good = list(5.0, S("Gewerbeanmeldung online"));
    assert_eq!(
        run(good.clone(), true).await,
        ExitCode::from(cli::EXIT_DRY_RUN)
    );
    assert_eq!(counts(&s).await, (1, 0), "nothing written so far");
    assert_eq!(run(good, false).await, ExitCode::SUCCESS);
    assert_eq!(counts(&s).await, (5, 1));
    std::fs::remove_dir_all(&dir).unwrap();
}
