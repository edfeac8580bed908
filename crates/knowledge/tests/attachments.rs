//! Attachments on pages (issue 14, item 1) through the pages, on both databases: upload by
//! an editor (multipart, CSRF in the query), the list on the page, the download for readers
//! of the page only (attachment disposition, nosniff), refused for anonymous callers, staff
//! who may not read the page, staff without the edit right and another tenant; a bad type
//! and an oversize file refused with a German error; pictures re-encoded without their
//! EXIF data and embeddable in the page's Markdown; deletion; the audit trail.

use rathaus_core::{Principal, TenantId};
use rathaus_knowledge::Knowledge;
use rathaus_knowledge::permissions::{EDIT, READ};
use rathaus_knowledge::service::{self, HandbookInput, PageInput, SaveInput};
use rathaus_store::entity::audit_event;
use rathaus_store::uow::Actor;
use rathaus_store::{Db, accounts};
use rathaus_testkit::{PASSWORD, TestApp, TestDb, csrf_of, login, tenant_fixture, user_with};
use rathaus_web::Module;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;

const HOST_A: &str = "anhang.a.test";
const HOST_B: &str = "anhang.b.test";

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Knowledge)]
}

async fn put_in_department(db: &Db, p: &Principal, dept: i64) {
    use sea_orm::{ActiveModelTrait, Set};
    let u = rathaus_store::entity::user::Entity::find_by_id(p.user_id.0)
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    let mut am: rathaus_store::entity::user::ActiveModel = u.into();
    am.department_id = Set(Some(dept));
    am.update(&db.conn).await.unwrap();
}

async fn audit_count(db: &Db, tenant: TenantId, action: &str) -> usize {
    audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(tenant.0))
        .filter(audit_event::Column::Action.eq(action))
        .all(&db.conn)
        .await
        .unwrap()
        .len()
}

/// A handbook only the department `dept` reads.
async fn department_handbook(db: &Db, admin: &Principal, dept: i64) -> i64 {
    service::create_handbook(
        &db.conn,
        Actor::User(admin),
        HandbookInput {
            title: "Handmappe Bürgerbüro".into(),
            description: String::new(),
            department_id: Some(dept),
            visibility: "department".into(),
            role_ids: vec![],
        },
    )
    .await
    .unwrap()
    .id
}

async fn new_page(
    db: &Db,
    editor: &Principal,
    handbook: i64,
    title: &str,
    body: &str,
) -> service::Page {
    service::create_page(
        &db.conn,
        Actor::User(editor),
        PageInput {
            handbook_id: handbook,
            title: title.into(),
            body: body.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// A small JPEG with an EXIF segment that names a place.
fn jpeg_with_exif() -> Vec<u8> {
    let rgb: Vec<u8> = (0..16 * 16).flat_map(|i| [i as u8, 80, 160]).collect();
    let plain = rathaus_store::images::jpeg_from_rgb(&rgb, 16, 16, 90).unwrap();
    let payload = b"Exif\0\0GPS-GEHEIM 51.2N 7.1E";
    let len = (payload.len() + 2) as u16;
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[tokio::test]
async fn upload_download_embed_delete_and_refusals() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let b = tenant_fixture(&db, "b", HOST_B).await;
    let t = a.tenant;
    let admin = rathaus_testkit::principal(&db, t, a.admin).await;
    let editor = user_with(&db, t, "autor@a.example", "Otto Autor", &[READ, EDIT]).await;
    let reader = user_with(&db, t, "leser@a.example", "Lea Leser", &[READ]).await;
    let outsider = user_with(&db, t, "bauhof@a.example", "Bea Bauhof", &[READ, EDIT]).await;
    let buero = accounts::create_department(&db.conn, t, Actor::system("test"), "Bürgerbüro")
        .await
        .unwrap()
        .id;
    let bau = accounts::create_department(&db.conn, t, Actor::system("test"), "Bauhof")
        .await
        .unwrap()
        .id;
    put_in_department(&db, &editor, buero).await;
    put_in_department(&db, &reader, buero).await;
    put_in_department(&db, &outsider, bau).await;
    let handbook = department_handbook(&db, &admin, buero).await;
    let page = new_page(
        &db,
        &editor,
        handbook,
        "Meldebescheinigung",
        "Ausstellen am Schalter.",
    )
    .await;

    let app = TestApp::spawn_state(tdb, st).await;
    let base = app.url(HOST_A, "");
    let page_path = format!("/wissen/seiten/{}", page.id);
    let c = app.client(&[HOST_A]);
    login(&c, &base, &editor.email, PASSWORD).await;
    let html = c
        .get(format!("{base}{page_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    let csrf = csrf_of(&html);
    let upload = |c: reqwest::Client, csrf: String, name: &'static str, data: Vec<u8>| {
        let url = format!("{base}{page_path}/anhaenge?_csrf={csrf}");
        async move {
            c.post(url)
                .multipart(Form::new().part("file", Part::bytes(data).file_name(name)))
                .send()
                .await
                .unwrap()
        }
    };

    // A PDF: stored, listed, downloadable as an attachment.
    let r = upload(c.clone(), csrf.clone(), "Antrag.pdf", PDF.to_vec()).await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.contains("notice=knowledge_attached#anhang-"), "{loc}");
    let pdf_id: i64 = loc.rsplit('-').next().unwrap().parse().unwrap();
    let html = c
        .get(format!("{base}{page_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("href=\"/dateien/wissen/{pdf_id}\"")) && html.contains("Antrag.pdf"),
        "{html}"
    );
    let file_url = format!("{base}/dateien/wissen/{pdf_id}");
    let r = c.get(&file_url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"Antrag.pdf\""),
        "{:?}",
        r.headers()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

    // A colleague who may read the page downloads it too.
    let rc = app.client(&[HOST_A]);
    login(&rc, &base, &reader.email, PASSWORD).await;
    assert_eq!(rc.get(&file_url).send().await.unwrap().status(), 200);
    // …but may not upload or delete (no edit right).
    let rhtml = rc
        .get(format!("{base}{page_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!rhtml.contains("multipart/form-data"), "{rhtml}");
    let r = upload(rc.clone(), csrf_of(&rhtml), "x.pdf", PDF.to_vec()).await;
    assert_eq!(r.status(), 403);
    let r = rc
        .post(format!("{base}/wissen/anhaenge/{pdf_id}/loeschen"))
        .form(&[("_csrf", csrf_of(&rhtml))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Staff of another department may not read the page: not found, not even to an editor.
    let oc = app.client(&[HOST_A]);
    login(&oc, &base, &outsider.email, PASSWORD).await;
    assert_eq!(oc.get(&file_url).send().await.unwrap().status(), 404);
    let ohtml = oc
        .get(format!("{base}/wissen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = upload(oc.clone(), csrf_of(&ohtml), "x.pdf", PDF.to_vec()).await;
    assert_eq!(r.status(), 404);

    // Anonymous: sent to the login, no content.
    let anon = app.client(&[HOST_A]);
    let r = anon.get(&file_url).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(r.headers()["location"].to_str().unwrap().contains("login"));

    // Another tenant's admin: not found.
    let bc = app.client(&[HOST_B]);
    let base_b = app.url(HOST_B, "");
    login(&bc, &base_b, &b.admin_email, PASSWORD).await;
    let r = bc
        .get(format!("{base_b}/dateien/wissen/{pdf_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // A type off the allow-list (a ZIP named like a PDF) and an oversize file: German errors.
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest of a zip".to_vec();
    let r = upload(c.clone(), csrf.clone(), "getarnt.pdf", zip).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Dieser Dateityp ist nicht erlaubt."),
        "{body}"
    );
    assert!(body.contains("aria-invalid=\"true\""), "{body}");
    let big = vec![b'a'; 10_000_001];
    let r = upload(c.clone(), csrf.clone(), "gross.txt", big).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Die Datei ist zu groß. Erlaubt sind höchstens 10 MB."),
        "{body}"
    );
    // Beyond the route's body limit too: the same message.
    let r = upload(
        c.clone(),
        csrf.clone(),
        "riesig.txt",
        vec![b'a'; 10_200_000],
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("Erlaubt sind höchstens 10 MB."), "{body}");
    let r = upload(c.clone(), csrf.clone(), "leer.txt", vec![]).await;
    assert_eq!(r.status(), 422);

    // A picture: re-encoded, its EXIF gone; embeddable in the page by its stable address.
    let r = upload(c.clone(), csrf.clone(), "Lageplan.jpeg", jpeg_with_exif()).await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let img_id: i64 = loc.rsplit('-').next().unwrap().parse().unwrap();
    let r = c
        .get(format!("{base}/dateien/wissen/{img_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]));
    assert!(
        !bytes.windows(10).any(|w| w == b"GPS-GEHEIM"),
        "EXIF survived"
    );
    let html = c
        .get(format!("{base}{page_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let snippet = format!("![Lageplan.jpg](/dateien/wissen/{img_id})");
    assert!(html.contains(&snippet), "{html}");
    service::save_page(
        &db.conn,
        Actor::User(&editor),
        page.id,
        SaveInput {
            base_version: 1,
            title: "Meldebescheinigung".into(),
            body: format!("Ausstellen am Schalter.\n\n{snippet}\n"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let html = c
        .get(format!("{base}{page_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("<img src=\"/dateien/wissen/{img_id}\"")),
        "{html}"
    );

    // Deleting: gone from the page and the download; audited.
    let r = c
        .post(format!("{base}/wissen/anhaenge/{pdf_id}/loeschen"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(c.get(&file_url).send().await.unwrap().status(), 404);
    assert_eq!(audit_count(&db, t, "knowledge.attachment_added").await, 2);
    assert_eq!(audit_count(&db, t, "knowledge.attachment_deleted").await, 1);
    assert_eq!(audit_count(&db, t, "file.deleted").await, 1);
    let left = service::attachments::list(&db, Actor::User(&reader), page.id)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].name, "Lageplan.jpg");
    // The other tenant's service sees nothing of it.
    let b_admin = rathaus_testkit::principal(&db, b.tenant, b.admin).await;
    assert!(
        service::attachments::list(&db, Actor::User(&b_admin), page.id)
            .await
            .is_err()
    );
}

/// The text of an attached document is extracted in the background and the page is found by
/// it, by readers of the page only; a picture is not sent to the extraction (no OCR of
/// photos).
#[tokio::test]
async fn a_page_is_found_by_the_text_of_its_attached_document() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", HOST_A).await;
    let t = a.tenant;
    let admin = rathaus_testkit::principal(&db, t, a.admin).await;
    let editor = user_with(&db, t, "autor@a.example", "Otto Autor", &[READ, EDIT]).await;
    let outsider = user_with(&db, t, "bauhof@a.example", "Bea Bauhof", &[READ]).await;
    let buero = accounts::create_department(&db.conn, t, Actor::system("test"), "Bürgerbüro")
        .await
        .unwrap()
        .id;
    put_in_department(&db, &editor, buero).await;
    let handbook = department_handbook(&db, &admin, buero).await;
    let page = new_page(
        &db,
        &editor,
        handbook,
        "Verpflichtung neuer Kräfte",
        "Siehe Anhang.",
    )
    .await;
    let limits = rathaus_store::files::Limits {
        max_size: 10_000_000,
        quota: None,
    };
    service::attachments::add(
        &db,
        &st.files,
        Actor::User(&editor),
        page.id,
        "Dienstanweisung.txt",
        "Die Niederschrift über die Verpflichtungserklärung liegt im Personalamt.".as_bytes(),
        limits,
    )
    .await
    .unwrap();
    service::attachments::add(
        &db,
        &st.files,
        Actor::User(&editor),
        page.id,
        "Lageplan.jpeg",
        &jpeg_with_exif(),
        limits,
    )
    .await
    .unwrap();
    // Only the document waits for extraction.
    let waiting = rathaus_store::entity::job::Entity::find()
        .filter(rathaus_store::entity::job::Column::Kind.eq(rathaus_extract::KIND))
        .all(&db.conn)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);

    let find = |who: Principal, q: &'static str| {
        let (db, index) = (db.clone(), st.search.clone());
        async move {
            service::search::search(&db.conn, index, Actor::User(&who), q, 10)
                .await
                .unwrap()
                .total
        }
    };
    // Before the extraction only the page's own words are known.
    st.search.apply_outbox(&db).await.unwrap();
    assert_eq!(find(editor.clone(), "Anhang").await, 1);
    assert_eq!(find(editor.clone(), "Niederschrift").await, 0);
    let mut jobs = rathaus_store::jobs::Registry::default();
    for (kind, h) in rathaus_extract::jobs(st.files.clone()) {
        jobs.register(kind, h);
    }
    while jobs.run_one(&db).await.unwrap() {}
    st.search.apply_outbox(&db).await.unwrap();
    assert_eq!(find(editor.clone(), "Niederschrift").await, 1);
    assert_eq!(find(editor.clone(), "Personalamt").await, 1);
    // Someone outside the department does not find the page by its attachment either.
    assert_eq!(find(outsider, "Niederschrift").await, 0);
}
