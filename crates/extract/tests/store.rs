//! The `extract.file` job against a real database (SQLite, or PostgreSQL with
//! `RATHAUS_TEST_DATABASE_URL`) and the disk file service: results stored per file, failures
//! stored with their reason, re-runs replace, tenants kept apart.

use rathaus_core::TenantId;
use rathaus_extract::{Limits, Method, Status, reason, samples};
use rathaus_store::files::{FileId, FileStore, NewFile};
use rathaus_store::jobs::Registry;
use rathaus_store::uow::{Actor, Tx};
use rathaus_testkit::TestDb;
use std::sync::Arc;

const BY: Actor<'static> = Actor::system("test");

struct World {
    tdb: TestDb,
    files: Arc<FileStore>,
    jobs: Registry,
    a: TenantId,
    b: TenantId,
}

async fn world(limits: Limits) -> World {
    let tdb = TestDb::new().await;
    rathaus_search::migrate(&tdb.db).await.unwrap();
    rathaus_extract::migrate(&tdb.db).await.unwrap();
    // Twice is harmless (modules may each call it).
    rathaus_extract::migrate(&tdb.db).await.unwrap();
    let files = Arc::new(FileStore::disk(tdb.dir.path()).unwrap());
    let mut jobs = Registry::default();
    for (kind, h) in rathaus_extract::jobs_with(files.clone(), limits) {
        jobs.register(kind, h);
    }
    let a = rathaus_testkit::tenant_fixture(&tdb.db, "musterhausen", "musterhausen.example")
        .await
        .tenant;
    let b = rathaus_testkit::tenant_fixture(&tdb.db, "beispielstadt", "beispielstadt.example")
        .await
        .tenant;
    World {
        tdb,
        files,
        jobs,
        a,
        b,
    }
}

impl World {
    async fn upload(&self, tenant: TenantId, name: &str, bytes: Vec<u8>) -> FileId {
        let limits = rathaus_store::files::Limits {
            max_size: 1 << 30,
            quota: None,
        };
        let new = NewFile {
            module: "records",
            kind: "document",
            original_name: name,
        };
        let meta = self
            .files
            .put(&self.tdb.db, tenant, BY, new, limits, &bytes[..])
            .await
            .unwrap();
        let tx = Tx::begin(&self.tdb.db.conn, tenant, BY).await.unwrap();
        rathaus_extract::enqueue(&tx, meta.id).await.unwrap();
        tx.commit().await.unwrap();
        meta.id
    }

    async fn drain(&self) {
        while self.jobs.run_one(&self.tdb.db).await.unwrap() {}
    }

    async fn stored(&self, tenant: TenantId, f: FileId) -> Option<rathaus_extract::Stored> {
        rathaus_extract::text_of(&self.tdb.db.conn, tenant, f)
            .await
            .unwrap()
    }
}

fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

#[tokio::test]
async fn documents_are_extracted_and_stored() {
    let w = world(Limits::default()).await;
    let docx = w
        .upload(
            w.a,
            "antrag.docx",
            samples::docx(&["Antrag auf Wohngeld"]).unwrap(),
        )
        .await;
    let text = w
        .upload(w.a, "notiz.txt", b"Gr\xfc\xdfe aus M\xfcnchen".to_vec())
        .await;
    let odd = w.upload(w.a, "x.bin", vec![0, 1, 2, 3, 4]).await;
    assert!(w.stored(w.a, docx).await.is_none());
    w.drain().await;

    let s = w.stored(w.a, docx).await.unwrap();
    assert_eq!((s.status, s.method), (Status::Ok, Some(Method::Docx)));
    assert_eq!(s.text, "Antrag auf Wohngeld");
    assert_eq!(s.chars, 19);
    let s = w.stored(w.a, text).await.unwrap();
    assert_eq!(
        (s.status, s.text.as_str()),
        (Status::Ok, "Grüße aus München")
    );
    let s = w.stored(w.a, odd).await.unwrap();
    assert_eq!(s.status, Status::Unsupported);

    // Another tenant sees nothing of it.
    assert!(w.stored(w.b, docx).await.is_none());
}

#[tokio::test]
async fn pdfs_with_and_without_text_layer() {
    if !have("pdftotext") || !have("tesseract") {
        eprintln!(
            "SKIPPED: poppler-utils / tesseract-ocr not installed (scripts/test installs them)"
        );
        return;
    }
    let w = world(Limits::default()).await;
    let lines = vec!["Bebauungsplan Nr. 12 Am Mühlbach".to_string()];
    let pdf = w
        .upload(w.a, "plan.pdf", samples::text_pdf(&[lines], 12))
        .await;
    // A blank scan: OCR runs and finds no text, which is still a result.
    let blank = w
        .upload(
            w.a,
            "scan.pdf",
            samples::image_pdf(100, 141, &[255u8; 100 * 141]),
        )
        .await;
    w.drain().await;
    let s = w.stored(w.a, pdf).await.unwrap();
    assert_eq!((s.status, s.method), (Status::Ok, Some(Method::PdfText)));
    assert!(s.text.contains("Am Mühlbach"), "{}", s.text);
    let s = w.stored(w.a, blank).await.unwrap();
    assert_eq!((s.status, s.method), (Status::Ok, Some(Method::Ocr)));
}

#[tokio::test]
async fn bad_files_are_stored_as_failed_with_the_reason() {
    let w = world(Limits {
        max_chars: 1000,
        ..Limits::default()
    })
    .await;
    let bomb = w
        .upload(w.a, "bomb.docx", samples::docx_bomb(50 << 20).unwrap())
        .await;
    let huge = w
        .upload(w.a, "lang.txt", "Wohngeld ".repeat(1000).into_bytes())
        .await;
    let mut broken = samples::text_pdf(&[vec!["kaputt".into()]], 12);
    broken.truncate(broken.len() / 2);
    let pdf = w.upload(w.a, "kaputt.pdf", broken).await;
    w.drain().await;

    let s = w.stored(w.a, bomb).await.unwrap();
    assert_eq!(s.status, Status::Failed);
    assert_eq!(s.error.as_deref(), Some(reason::ZIP_BOMB));
    assert_eq!(s.text, "");
    let s = w.stored(w.a, huge).await.unwrap();
    assert_eq!(
        (s.status, s.method, s.error.as_deref()),
        (Status::Failed, Some(Method::Text), Some(reason::TOO_LONG))
    );
    if have("pdftotext") && have("pdftoppm") {
        let s = w.stored(w.a, pdf).await.unwrap();
        assert_eq!(
            (s.status, s.error.as_deref()),
            (Status::Failed, Some(reason::CORRUPT))
        );
    }
    // No job failed: a bad file is a result, not a retry.
    use rathaus_store::entity::job;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let not_done = job::Entity::find()
        .filter(job::Column::Status.ne(rathaus_store::jobs::DONE))
        .count(&w.tdb.db.conn)
        .await
        .unwrap();
    assert_eq!(not_done, 0);
}

#[tokio::test]
async fn a_rerun_replaces_the_result_and_a_deleted_file_is_skipped() {
    let w = world(Limits::default()).await;
    let f = w.upload(w.a, "a.txt", b"erste Fassung".to_vec()).await;
    w.drain().await;
    let first = w.stored(w.a, f).await.unwrap();
    let tx = Tx::begin(&w.tdb.db.conn, w.a, BY).await.unwrap();
    rathaus_extract::enqueue_and_reindex(&tx, f, "records.file", 7)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    w.drain().await;
    let second = w.stored(w.a, f).await.unwrap();
    assert_eq!(second.text, first.text);
    assert!(second.extracted_at >= first.extracted_at);
    // The search outbox got the module's document.
    let pending = rathaus_search::outbox::of_tenant(&w.tdb.db, w.a)
        .await
        .unwrap();
    assert!(
        pending
            .iter()
            .any(|r| r.kind == "records.file" && r.doc_id == 7),
        "{pending:?}"
    );

    // Deleted before the job ran: the job finishes without a result; deleting the file
    // removes its stored text.
    let g = w.upload(w.a, "b.txt", b"weg".to_vec()).await;
    let tx = Tx::begin(&w.tdb.db.conn, w.a, BY).await.unwrap();
    w.files.delete(&tx, g).await.unwrap();
    w.files.delete(&tx, f).await.unwrap();
    tx.commit().await.unwrap();
    w.drain().await;
    assert!(w.stored(w.a, g).await.is_none());
    assert!(w.stored(w.a, f).await.is_none());
}

#[tokio::test]
async fn the_table_is_declared_tenant_owned() {
    let w = world(Limits::default()).await;
    let mut registered = rathaus_store::entity::tenant_owned_tables();
    registered.extend(rathaus_search::outbox::tables::tenant_owned_tables());
    registered.extend(rathaus_extract::store::tables::tenant_owned_tables());
    let missing = rathaus_testkit::unregistered_tenant_tables(&w.tdb.db, &registered).await;
    assert!(missing.is_empty(), "{missing:?}");
}
