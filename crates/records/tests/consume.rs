//! The consume folder on both databases: files dropped into a department's folder land in
//! that department's inbox (recorded in the audit chain as the system), refused files move
//! aside with a note, hidden files, links and folders without a department are left alone,
//! a file still being written waits, a claimed file is never stored twice, and with several
//! tenants each has its own folder.

use rathaus_records::Records;
use rathaus_records::service::consume::{ACTOR, Consumer, Scan, WORK_DIR};
use rathaus_records::service::inbox;
use rathaus_records::store::entity::inbox_item;
use rathaus_store::accounts;
use rathaus_store::entity::audit_event;
use rathaus_store::files::{FileId, Limits};
use rathaus_store::uow::{Actor, scoped};
use rathaus_testkit::{TestDb, tenant_fixture};
use rathaus_web::Module;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(Records)]
}

const LIMITS: Limits = Limits {
    max_size: 1000,
    quota: None,
};

async fn department(db: &rathaus_store::Db, t: rathaus_core::TenantId, name: &str) -> i64 {
    accounts::create_department(&db.conn, t, Actor::system("test"), name)
        .await
        .unwrap()
        .id
}

async fn inbox_of(
    db: &rathaus_store::Db,
    t: rathaus_core::TenantId,
    d: i64,
) -> Vec<inbox_item::Model> {
    inbox::list(db, ACTOR, t, Some(d)).await.unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn files_dropped_into_a_department_folder_land_in_its_inbox() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let t = tenant_fixture(&db, "a", "consume.a.test").await.tenant;
    let bau = department(&db, t, "Bauamt").await;
    let buero = department(&db, t, "Bürgerbüro / Service").await;
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let mut c = Consumer::new(root.path().into(), LIMITS, Duration::ZERO);

    // The first scan makes a folder per department.
    assert_eq!(c.scan(&db, &st.files).await.unwrap(), Scan::default());
    let bau_dir = root.path().join("Bauamt");
    assert!(bau_dir.is_dir());
    assert!(root.path().join("Bürgerbüro - Service").is_dir());

    std::fs::write(
        bau_dir.join("Bauantrag Müller.pdf"),
        "Bauantrag Musterstraße 1",
    )
    .unwrap();
    std::fs::write(bau_dir.join("leer.pdf"), "").unwrap();
    std::fs::write(bau_dir.join("gross.pdf"), vec![b'x'; 2000]).unwrap();
    std::fs::write(bau_dir.join(".versteckt"), "x").unwrap();
    std::fs::write(bau_dir.join("Thumbs.db"), "x").unwrap();
    std::fs::create_dir(bau_dir.join("Unterordner")).unwrap();
    std::fs::write(bau_dir.join("Unterordner").join("tief.pdf"), "tief").unwrap();
    // A link to a file elsewhere on the server is never read into the inbox.
    let secret = outside.path().join("geheim.txt");
    std::fs::write(&secret, "geheim").unwrap();
    std::os::unix::fs::symlink(&secret, bau_dir.join("link.pdf")).unwrap();
    // A folder that matches no department is left alone.
    std::fs::create_dir(root.path().join("Unbekannt")).unwrap();
    std::fs::write(root.path().join("Unbekannt").join("x.pdf"), "x").unwrap();
    let buero_dir = root.path().join("Bürgerbüro - Service");
    std::fs::write(buero_dir.join("Antrag.txt"), "Anmeldung").unwrap();

    let s = c.scan(&db, &st.files).await.unwrap();
    assert_eq!((s.stored, s.rejected, s.retry), (2, 2, 0), "{s:?}");

    let items = inbox_of(&db, t, bau).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].name, "Bauantrag Müller.pdf");
    let content = st
        .files
        .read_all(&db.conn, t, ACTOR, FileId(items[0].file_ref), 1000)
        .await
        .unwrap();
    assert_eq!(content, "Bauantrag Musterstraße 1".as_bytes());
    assert_eq!(inbox_of(&db, t, buero).await.len(), 1);

    // Taken files are gone; the rest stays where it was.
    assert_eq!(
        names_in(&bau_dir),
        vec![
            ".rathaus",
            ".versteckt",
            "Abgelehnt",
            "Thumbs.db",
            "Unterordner",
            "link.pdf"
        ]
    );
    assert!(names_in(&bau_dir.join(WORK_DIR)).is_empty());
    assert!(root.path().join("Unbekannt").join("x.pdf").exists());
    assert!(bau_dir.join("Unterordner").join("tief.pdf").exists());
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "geheim");

    // Refused files wait in "Abgelehnt" with a note saying why.
    let rejected = bau_dir.join("Abgelehnt");
    assert_eq!(
        names_in(&rejected),
        vec!["gross.pdf", "gross.pdf.txt", "leer.pdf", "leer.pdf.txt"]
    );
    let note = std::fs::read_to_string(rejected.join("leer.pdf.txt")).unwrap();
    assert!(note.contains("Die Datei ist leer (0 Bytes)."), "{note}");
    let note = std::fs::read_to_string(rejected.join("gross.pdf.txt")).unwrap();
    assert!(note.contains("zu groß"), "{note}");

    // The audit chain says the consume folder added them.
    let added = scoped::<audit_event::Entity>(t)
        .filter(audit_event::Column::Action.eq("records.inbox.added"))
        .filter(audit_event::Column::ActorLabel.eq(rathaus_records::service::actor_label(ACTOR)))
        .count(&db.conn)
        .await
        .unwrap();
    assert_eq!(added, 2);

    // Nothing is taken twice; a refused file left in "Abgelehnt" is not tried again.
    assert_eq!(c.scan(&db, &st.files).await.unwrap(), Scan::default());
    assert_eq!(inbox_of(&db, t, bau).await.len(), 1);
}

#[tokio::test]
async fn a_file_being_written_waits_and_a_claimed_file_is_stored_once() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let t = tenant_fixture(&db, "a", "consume.a.test").await.tenant;
    let bau = department(&db, t, "Bauamt").await;
    let root = tempfile::tempdir().unwrap();
    let bau_dir = root.path().join("Bauamt");
    std::fs::create_dir(&bau_dir).unwrap();

    // Not unchanged for long enough yet: it waits where it is.
    std::fs::write(bau_dir.join("scan.pdf"), "Seite 1").unwrap();
    let mut slow = Consumer::new(root.path().into(), LIMITS, Duration::from_secs(3600));
    let s = slow.scan(&db, &st.files).await.unwrap();
    assert_eq!((s.stored, s.waiting), (0, 1));
    assert!(bau_dir.join("scan.pdf").exists());
    assert!(inbox_of(&db, t, bau).await.is_empty());

    // A server stopped between the commit and the removal left a claimed file behind: the
    // next scan removes it without a second inbox entry. Another claimed file that was not
    // stored yet is stored.
    let work = bau_dir.join(WORK_DIR);
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("schon.pdf"), "schon gespeichert").unwrap();
    inbox::upload(
        &db,
        &st.files,
        ACTOR,
        t,
        Some(bau),
        LIMITS,
        "schon.pdf",
        futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(
            b"schon gespeichert",
        ))]),
    )
    .await
    .unwrap();
    std::fs::write(work.join("offen.pdf"), "noch nicht gespeichert").unwrap();
    let mut c = Consumer::new(root.path().into(), LIMITS, Duration::ZERO);
    let s = c.scan(&db, &st.files).await.unwrap();
    // offen.pdf from the claimed folder and scan.pdf, now taken at once.
    assert_eq!(s.stored, 2, "{s:?}");
    let mut names: Vec<String> = inbox_of(&db, t, bau)
        .await
        .into_iter()
        .map(|i| i.name)
        .collect();
    names.sort();
    assert_eq!(names, vec!["offen.pdf", "scan.pdf", "schon.pdf"]);
    assert!(names_in(&work).is_empty());
}

#[tokio::test]
async fn with_several_tenants_each_has_its_own_folder() {
    let (tdb, st) = TestDb::with_modules(modules()).await;
    let db = tdb.db.clone();
    let a = tenant_fixture(&db, "a", "consume.a.test").await.tenant;
    let b = tenant_fixture(&db, "b", "consume.b.test").await.tenant;
    let bau_a = department(&db, a, "Bauamt").await;
    let bau_b = department(&db, b, "Bauamt").await;
    let root = tempfile::tempdir().unwrap();
    let mut c = Consumer::new(root.path().into(), LIMITS, Duration::ZERO);
    c.scan(&db, &st.files).await.unwrap();
    assert_eq!(names_in(root.path()), vec!["a", "b"]);
    std::fs::write(root.path().join("b").join("Bauamt").join("b.pdf"), "für B").unwrap();
    let s = c.scan(&db, &st.files).await.unwrap();
    assert_eq!(s.stored, 1);
    assert!(inbox_of(&db, a, bau_a).await.is_empty());
    assert_eq!(inbox_of(&db, b, bau_b).await[0].name, "b.pdf");
}
