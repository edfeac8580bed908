//! The file service against both backends (the local disk and an S3-compatible server, which
//! `scripts/test` starts; see `rathaus_testkit::s3`), on the database `RATHAUS_TEST_DATABASE_URL`
//! selects. Every test runs its body once per backend, each on a fresh database.

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use rathaus_core::{Error, TenantId};
use rathaus_store::entity::{audit_event, file, file_content};
use rathaus_store::files::{
    ByteRange, FileId, FileStore, FilesConfig, GC_JOB, Limits, Location, NewFile, S3Config,
};
use rathaus_store::uow::{Actor, Tx};
use rathaus_testkit::TestDb;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use sha2::{Digest, Sha256};
use std::time::Duration;

const BY: Actor<'static> = Actor::system("test");
const PHOTO: NewFile<'static> = NewFile {
    module: "reports",
    kind: "photo",
    original_name: "C:\\Fotos\\Schlagloch.jpg",
};
const GENEROUS: Limits = Limits {
    max_size: 100_000_000,
    quota: None,
};

/// One backend on a fresh database with two tenants.
struct Cx {
    name: &'static str,
    tdb: TestDb,
    files: FileStore,
    s3: Option<S3Config>,
    a: TenantId,
    b: TenantId,
    b_admin: rathaus_core::UserId,
}

async fn setups() -> Vec<Cx> {
    let mut out = vec![];
    let tdb = TestDb::new().await;
    let files = FileStore::disk(tdb.dir.path()).unwrap();
    out.push(cx("disk", tdb, files, None).await);
    if let Some(cfg) = rathaus_testkit::s3::bucket().await {
        let tdb = TestDb::new().await;
        let files = FileStore::from_config(&FilesConfig::S3(cfg.clone())).unwrap();
        out.push(cx("s3", tdb, files, Some(cfg)).await);
    }
    out
}

async fn cx(name: &'static str, tdb: TestDb, files: FileStore, s3: Option<S3Config>) -> Cx {
    let a = rathaus_testkit::tenant_fixture(&tdb.db, "musterhausen", "musterhausen.example")
        .await
        .tenant;
    let fb =
        rathaus_testkit::tenant_fixture(&tdb.db, "beispielstadt", "beispielstadt.example").await;
    Cx {
        name,
        tdb,
        files,
        s3,
        a,
        b: fb.tenant,
        b_admin: fb.admin,
    }
}

impl Cx {
    async fn put(
        &self,
        tenant: TenantId,
        data: &[u8],
    ) -> rathaus_core::Result<rathaus_store::files::FileMeta> {
        self.files
            .put(&self.tdb.db, tenant, BY, PHOTO, GENEROUS, data)
            .await
    }

    async fn read(&self, tenant: TenantId, id: FileId, range: Option<ByteRange>) -> Vec<u8> {
        let d = self
            .files
            .get(&self.tdb.db.conn, tenant, BY, id, range)
            .await
            .unwrap();
        let chunks: Vec<Bytes> = d.body.try_collect().await.unwrap();
        chunks.concat()
    }

    async fn delete(&self, tenant: TenantId, id: FileId) -> rathaus_core::Result<()> {
        let tx = Tx::begin(&self.tdb.db.conn, tenant, BY).await?;
        self.files.delete(&tx, id).await?;
        tx.commit().await
    }

    /// Every object in the store (S3: the test's bucket; disk: every file below the root,
    /// including multipart staging files that listings hide).
    async fn objects(&self) -> Vec<String> {
        match self.files.location() {
            Location::Disk(root) => {
                let mut out = vec![];
                walk(root, root, &mut out);
                out.sort();
                out
            }
            Location::S3 { .. } | Location::Memory => {
                let mut keys: Vec<String> = self
                    .files
                    .object_store()
                    .list(None)
                    .map_ok(|m| m.location.to_string())
                    .try_collect()
                    .await
                    .unwrap();
                keys.sort();
                keys
            }
        }
    }

    async fn open_uploads(&self) -> usize {
        match &self.s3 {
            Some(cfg) => rathaus_testkit::s3::open_multipart_uploads(cfg).await,
            None => 0,
        }
    }

    async fn rows(&self, tenant: TenantId) -> (u64, u64) {
        let files = file::Entity::find()
            .filter(file::Column::TenantId.eq(tenant.0))
            .count(&self.tdb.db.conn)
            .await
            .unwrap();
        let contents = file_content::Entity::find()
            .filter(file_content::Column::TenantId.eq(tenant.0))
            .count(&self.tdb.db.conn)
            .await
            .unwrap();
        (files, contents)
    }

    /// Nothing of a failed upload may stay: no row, no object, no open multipart upload.
    async fn assert_nothing_left(&self, what: &str, before: &[String]) {
        // A dropped upload is cleaned up in the background: give it a moment.
        let mut objects = self.objects().await;
        for _ in 0..50 {
            if objects == before && self.open_uploads().await == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            objects = self.objects().await;
        }
        assert_eq!(
            objects, before,
            "{}: {what}: objects left behind",
            self.name
        );
        assert_eq!(
            self.open_uploads().await,
            0,
            "{}: {what}: open multipart upload",
            self.name
        );
        let (files, _) = self.rows(self.a).await;
        assert_eq!(files, 0, "{}: {what}: a file row was left", self.name);
    }
}

fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
        }
    }
}

/// Deterministic bytes that are not text (no magic number either).
fn data(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// `data` in chunks of `chunk` bytes.
fn chunks(data: Vec<u8>, chunk: usize) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    let b = Bytes::from(data);
    let n = b.len().div_ceil(chunk);
    futures_util::stream::iter(
        (0..n).map(move |i| Ok(b.slice(i * chunk..((i + 1) * chunk).min(b.len())))),
    )
}

fn key_of(e: &Error) -> String {
    match e {
        Error::Invalid(f) => f.0[0].key.clone(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";

#[tokio::test]
async fn put_get_metadata_and_ranges() {
    for cx in setups().await {
        let n = cx.name;
        let mut content = PNG.to_vec();
        content.extend(data(100_000, 1));
        // The client calls it a PDF; the content says PNG.
        let meta = cx
            .files
            .put(
                &cx.tdb.db,
                cx.a,
                BY,
                NewFile {
                    module: "records",
                    kind: "document",
                    original_name: "../../Bescheid 2026 (Größe).pdf",
                },
                GENEROUS,
                &content[..],
            )
            .await
            .unwrap();
        assert_eq!(meta.size, content.len() as u64, "{n}");
        assert_eq!(meta.sha256, sha256(&content), "{n}");
        assert_eq!(meta.media_type, "image/png", "{n}");
        assert_eq!(meta.original_name, "Bescheid 2026 (Größe).pdf", "{n}");
        assert_eq!(
            (meta.module.as_str(), meta.kind.as_str()),
            ("records", "document")
        );
        assert_eq!(
            cx.files
                .metadata(&cx.tdb.db.conn, cx.a, BY, meta.id)
                .await
                .unwrap(),
            meta,
            "{n}"
        );

        let sha = &meta.sha256;
        let key = format!("t/{}/sha256/{}/{}/{sha}", cx.a.0, &sha[..2], &sha[2..4]);
        assert_eq!(
            cx.objects().await,
            vec![key],
            "{n}: one object at its content address"
        );

        let d = cx
            .files
            .get(&cx.tdb.db.conn, cx.a, BY, meta.id, None)
            .await
            .unwrap();
        assert_eq!(
            (d.range.clone(), d.partial),
            (0..content.len() as u64, false)
        );
        assert_eq!(cx.read(cx.a, meta.id, None).await, content, "{n}");

        let r = ByteRange::parse("bytes=0-9").unwrap();
        assert_eq!(cx.read(cx.a, meta.id, Some(r)).await, &content[..10], "{n}");
        let r = ByteRange::parse("bytes=99990-").unwrap();
        assert_eq!(
            cx.read(cx.a, meta.id, Some(r)).await,
            &content[99_990..],
            "{n}"
        );
        let r = ByteRange::parse("bytes=-5").unwrap();
        assert_eq!(
            cx.read(cx.a, meta.id, Some(r)).await,
            &content[content.len() - 5..]
        );
        let r = ByteRange::parse("bytes=50000-50000").unwrap();
        let d = cx
            .files
            .get(&cx.tdb.db.conn, cx.a, BY, meta.id, Some(r))
            .await
            .unwrap();
        assert_eq!((d.range.clone(), d.partial), (50_000..50_001, true), "{n}");
        let r = ByteRange::parse("bytes=100100-").unwrap();
        let e = cx
            .files
            .get(&cx.tdb.db.conn, cx.a, BY, meta.id, Some(r))
            .await
            .unwrap_err();
        assert_eq!(key_of(&e), "files.err.range", "{n}");

        // The upload is on record.
        let events = audit_event::Entity::find()
            .filter(audit_event::Column::TenantId.eq(cx.a.0))
            .filter(audit_event::Column::Action.eq("file.stored"))
            .count(&cx.tdb.db.conn)
            .await
            .unwrap();
        assert_eq!(events, 1, "{n}");

        // Text and an empty file.
        let text = cx
            .put(cx.a, "Sehr geehrte Damen und Herren,\n".as_bytes())
            .await
            .unwrap();
        assert_eq!(text.media_type, "text/plain", "{n}");
        let empty = cx.put(cx.a, b"").await.unwrap();
        assert_eq!(
            (empty.size, empty.media_type.as_str()),
            (0, "application/octet-stream")
        );
        assert_eq!(empty.sha256, sha256(b""), "{n}");
        assert!(cx.read(cx.a, empty.id, None).await.is_empty(), "{n}");
        let e = cx
            .files
            .get(
                &cx.tdb.db.conn,
                cx.a,
                BY,
                empty.id,
                ByteRange::parse("bytes=0-0"),
            )
            .await
            .unwrap_err();
        assert_eq!(key_of(&e), "files.err.range", "{n}");
    }
}

#[tokio::test]
async fn a_large_upload_is_streamed_in_parts() {
    for cx in setups().await {
        let n = cx.name;
        // Larger than two S3 parts (5 MiB) and many disk parts (1 MiB), in odd chunks.
        let content = data(12 * 1024 * 1024 + 123, 7);
        let meta = cx
            .files
            .put_stream(
                &cx.tdb.db,
                cx.a,
                BY,
                PHOTO,
                GENEROUS,
                chunks(content.clone(), 65_537),
            )
            .await
            .unwrap();
        assert_eq!(meta.size, content.len() as u64, "{n}");
        assert_eq!(meta.sha256, sha256(&content), "{n}");
        assert_eq!(meta.media_type, "application/octet-stream", "{n}");
        assert_eq!(cx.read(cx.a, meta.id, None).await, content, "{n}");
        let r = ByteRange::parse("bytes=6000000-6000099").unwrap();
        assert_eq!(
            cx.read(cx.a, meta.id, Some(r)).await,
            &content[6_000_000..6_000_100]
        );
        assert_eq!(cx.objects().await.len(), 1, "{n}: no temporary object left");
        assert_eq!(cx.open_uploads().await, 0, "{n}");
    }
}

#[tokio::test]
async fn identical_uploads_are_stored_once_and_collected_after_their_last_reference() {
    for cx in setups().await {
        let n = cx.name;
        let content = data(300_000, 2);
        let one = cx.put(cx.a, &content).await.unwrap();
        let two = cx.put(cx.a, &content).await.unwrap();
        assert_ne!(one.id, two.id, "{n}: two references");
        assert_eq!(one.sha256, two.sha256);
        assert_eq!(cx.objects().await.len(), 1, "{n}: stored once");
        assert_eq!(cx.rows(cx.a).await, (2, 1), "{n}");
        assert_eq!(
            cx.files.usage(&cx.tdb.db.conn, cx.a).await.unwrap(),
            300_000
        );

        cx.delete(cx.a, one.id).await.unwrap();
        let e = cx
            .files
            .metadata(&cx.tdb.db.conn, cx.a, BY, one.id)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound), "{n}");
        assert!(
            matches!(cx.delete(cx.a, one.id).await, Err(Error::NotFound)),
            "{n}"
        );
        // The other reference still reads the content, even after a collection.
        let report = cx
            .files
            .gc(&cx.tdb.db, cx.a, chrono::Duration::zero())
            .await
            .unwrap();
        assert_eq!(report.contents, 0, "{n}");
        assert_eq!(cx.read(cx.a, two.id, None).await, content, "{n}");

        cx.delete(cx.a, two.id).await.unwrap();
        assert_eq!(
            cx.files.usage(&cx.tdb.db.conn, cx.a).await.unwrap(),
            0,
            "{n}"
        );
        // Within the grace period the content stays (an upload of it may be under way).
        let report = cx
            .files
            .gc(&cx.tdb.db, cx.a, chrono::Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(report.contents, 0, "{n}");
        assert_eq!(cx.objects().await.len(), 1, "{n}");
        // A new upload of the same content takes it back.
        let three = cx.put(cx.a, &content).await.unwrap();
        assert_eq!(cx.rows(cx.a).await, (1, 1), "{n}");
        cx.delete(cx.a, three.id).await.unwrap();
        // After the grace period it goes: row and object.
        let report = cx
            .files
            .gc(&cx.tdb.db, cx.a, chrono::Duration::zero())
            .await
            .unwrap();
        assert_eq!(report.contents, 1, "{n}");
        assert_eq!(cx.rows(cx.a).await, (0, 0), "{n}");
        assert!(
            cx.objects().await.is_empty(),
            "{n}: {:?}",
            cx.objects().await
        );
        // And can be stored again.
        let four = cx.put(cx.a, &content).await.unwrap();
        assert_eq!(cx.read(cx.a, four.id, None).await, content, "{n}");
    }
}

#[tokio::test]
async fn tenants_are_separate() {
    for cx in setups().await {
        let n = cx.name;
        let content = data(10_000, 3);
        let mine = cx.put(cx.a, &content).await.unwrap();
        let theirs = cx.put(cx.b, &content).await.unwrap();
        // Stored per tenant: the same content twice.
        assert_eq!(cx.objects().await.len(), 2, "{n}");
        let e = cx
            .files
            .metadata(&cx.tdb.db.conn, cx.b, BY, mine.id)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound), "{n}");
        let e = cx
            .files
            .get(&cx.tdb.db.conn, cx.b, BY, mine.id, None)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound), "{n}");
        assert!(
            matches!(cx.delete(cx.b, mine.id).await, Err(Error::NotFound)),
            "{n}"
        );
        // A user of tenant B cannot act in tenant A at all.
        let p = rathaus_testkit::principal(&cx.tdb.db, cx.b, cx.b_admin).await;
        let e = cx
            .files
            .metadata(&cx.tdb.db.conn, cx.a, Actor::User(&p), mine.id)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound), "{n}");
        // B's delete of its own reference leaves A's content alone.
        cx.delete(cx.b, theirs.id).await.unwrap();
        cx.files
            .gc(&cx.tdb.db, cx.b, chrono::Duration::zero())
            .await
            .unwrap();
        cx.files
            .gc(&cx.tdb.db, cx.a, chrono::Duration::zero())
            .await
            .unwrap();
        assert_eq!(cx.read(cx.a, mine.id, None).await, content, "{n}");
        assert_eq!(cx.objects().await.len(), 1, "{n}");
    }
}

#[tokio::test]
async fn an_upload_over_the_size_limit_stops_mid_stream_and_leaves_nothing() {
    for cx in setups().await {
        let before = cx.objects().await;
        // 6 MB allowed, 9 MB sent: on both backends the multipart upload has begun.
        let limits = Limits {
            max_size: 6_000_000,
            quota: None,
        };
        let e = cx
            .files
            .put_stream(
                &cx.tdb.db,
                cx.a,
                BY,
                PHOTO,
                limits,
                chunks(data(9_000_000, 4), 100_000),
            )
            .await
            .unwrap_err();
        assert_eq!(key_of(&e), "files.err.too_large", "{}", cx.name);
        let Error::Invalid(f) = &e else {
            unreachable!()
        };
        assert_eq!(
            (f.0[0].field.as_str(), f.0[0].arg.as_deref()),
            ("file", Some("6 MB"))
        );
        cx.assert_nothing_left("too large", &before).await;
        // Exactly at the limit is fine.
        let ok = Limits {
            max_size: 1000,
            quota: None,
        };
        cx.files
            .put(&cx.tdb.db, cx.a, BY, PHOTO, ok, &data(1000, 5)[..])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_quota_counts_distinct_contents_and_failing_leaves_nothing() {
    for cx in setups().await {
        let n = cx.name;
        let limits = Limits {
            max_size: 1_000_000,
            quota: Some(250_000),
        };
        let first = data(100_000, 6);
        cx.files
            .put(&cx.tdb.db, cx.a, BY, PHOTO, limits, &first[..])
            .await
            .unwrap();
        // The same content again costs nothing.
        for _ in 0..3 {
            cx.files
                .put(&cx.tdb.db, cx.a, BY, PHOTO, limits, &first[..])
                .await
                .unwrap();
        }
        cx.files
            .put(&cx.tdb.db, cx.a, BY, PHOTO, limits, &data(100_000, 7)[..])
            .await
            .unwrap();
        assert_eq!(
            cx.files.usage(&cx.tdb.db.conn, cx.a).await.unwrap(),
            200_000,
            "{n}"
        );
        let before = cx.objects().await;
        let rows = cx.rows(cx.a).await;
        let e = cx
            .files
            .put(&cx.tdb.db, cx.a, BY, PHOTO, limits, &data(60_000, 8)[..])
            .await
            .unwrap_err();
        assert_eq!(key_of(&e), "files.err.quota", "{n}");
        let Error::Invalid(f) = &e else {
            unreachable!()
        };
        assert_eq!(f.0[0].arg.as_deref(), Some("250 KB"), "{n}");
        assert_eq!(cx.objects().await, before, "{n}: no temporary object left");
        assert_eq!(cx.rows(cx.a).await, rows, "{n}: no row added");
        // Another tenant has its own quota.
        cx.files
            .put(&cx.tdb.db, cx.b, BY, PHOTO, limits, &data(200_000, 9)[..])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_upload_whose_stream_fails_half_way_leaves_nothing() {
    for cx in setups().await {
        let before = cx.objects().await;
        // 7 MB arrive (a multipart upload is running on both backends), then the stream breaks.
        let good = chunks(data(7_000_000, 10), 250_000);
        let broken = good.chain(futures_util::stream::once(async {
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset",
            ))
        }));
        let e = cx
            .files
            .put_stream(&cx.tdb.db, cx.a, BY, PHOTO, GENEROUS, broken)
            .await
            .unwrap_err();
        assert_eq!(key_of(&e), "files.err.incomplete", "{}", cx.name);
        cx.assert_nothing_left("stream error", &before).await;

        // A small one (still buffered when it fails).
        let broken = chunks(data(1000, 11), 100).chain(futures_util::stream::once(async {
            Err(std::io::Error::other("gone"))
        }));
        let e = cx
            .files
            .put_stream(&cx.tdb.db, cx.a, BY, PHOTO, GENEROUS, broken)
            .await
            .unwrap_err();
        assert_eq!(key_of(&e), "files.err.incomplete", "{}", cx.name);
        cx.assert_nothing_left("small stream error", &before).await;
    }
}

#[tokio::test]
async fn an_upload_whose_client_goes_away_leaves_nothing() {
    for cx in setups().await {
        let before = cx.objects().await;
        // 7 MB arrive, then the client stops sending; the request is dropped (what axum does
        // when the connection closes or the request times out).
        let stalled = chunks(data(7_000_000, 12), 250_000).chain(futures_util::stream::pending());
        let put = cx
            .files
            .put_stream(&cx.tdb.db, cx.a, BY, PHOTO, GENEROUS, stalled);
        let r = tokio::time::timeout(Duration::from_secs(3), put).await;
        assert!(r.is_err(), "{}: the upload cannot have finished", cx.name);
        cx.assert_nothing_left("client gone", &before).await;
    }
}

#[tokio::test]
async fn the_collector_removes_what_crashes_left_and_respects_the_grace_period() {
    for cx in setups().await {
        let n = cx.name;
        let kept = cx.put(cx.a, &data(5000, 13)).await.unwrap();
        let store = cx.files.object_store();
        // A crash after the temporary object was written, and one after the move into place
        // but before the commit (an object without a row).
        let tmp = object_store::path::Path::from(format!("t/{}/tmp/crashed", cx.a.0));
        store
            .put(&tmp, Bytes::from_static(b"half").into())
            .await
            .unwrap();
        let orphan_sha = sha256(b"orphan");
        let orphan = object_store::path::Path::from(format!(
            "t/{}/sha256/{}/{}/{orphan_sha}",
            cx.a.0,
            &orphan_sha[..2],
            &orphan_sha[2..4]
        ));
        store
            .put(&orphan, Bytes::from_static(b"orphan").into())
            .await
            .unwrap();
        if let Location::Disk(root) = cx.files.location() {
            // A multipart staging file of the disk backend (hidden from listings).
            std::fs::write(root.join(format!("t/{}/tmp/other#1", cx.a.0)), b"part").unwrap();
        }
        let before = cx.objects().await;

        // Young garbage stays.
        let report = cx
            .files
            .gc(&cx.tdb.db, cx.a, chrono::Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(report, Default::default(), "{n}");
        assert_eq!(cx.objects().await, before, "{n}");

        // Old garbage goes; the referenced content stays; another tenant is not touched.
        let report = cx
            .files
            .gc(&cx.tdb.db, cx.b, chrono::Duration::zero())
            .await
            .unwrap();
        assert_eq!(report, Default::default(), "{n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let report = cx
            .files
            .gc(&cx.tdb.db, cx.a, chrono::Duration::zero())
            .await
            .unwrap();
        let staged = u64::from(matches!(cx.files.location(), Location::Disk(_)));
        assert_eq!((report.temporary, report.orphans), (1 + staged, 1), "{n}");
        let sha = &kept.sha256;
        assert_eq!(
            cx.objects().await,
            vec![format!(
                "t/{}/sha256/{}/{}/{sha}",
                cx.a.0,
                &sha[..2],
                &sha[2..4]
            )],
            "{n}"
        );
        assert_eq!(cx.read(cx.a, kept.id, None).await, data(5000, 13), "{n}");
    }
}

#[tokio::test]
async fn deleting_the_last_reference_schedules_the_collector_job() {
    for cx in setups().await {
        let n = cx.name;
        let files = std::sync::Arc::new(
            FileStore::from_config(&match (&cx.s3, cx.files.location()) {
                (Some(s3), _) => FilesConfig::S3(s3.clone()),
                (None, Location::Disk(root)) => FilesConfig::Disk { root: root.clone() },
                _ => unreachable!(),
            })
            .unwrap()
            .with_grace(chrono::Duration::zero()),
        );
        let a = files
            .put(&cx.tdb.db, cx.a, BY, PHOTO, GENEROUS, &data(2000, 14)[..])
            .await
            .unwrap();
        let b = files
            .put(&cx.tdb.db, cx.a, BY, PHOTO, GENEROUS, &data(2000, 15)[..])
            .await
            .unwrap();
        for id in [a.id, b.id] {
            let tx = Tx::begin(&cx.tdb.db.conn, cx.a, BY).await.unwrap();
            files.delete(&tx, id).await.unwrap();
            tx.commit().await.unwrap();
        }
        // One job for both (runs are coalesced per hour), due at the next full hour.
        let queued: Vec<rathaus_store::jobs::Job> = rathaus_store::entity::job::Entity::find()
            .filter(rathaus_store::entity::job::Column::Kind.eq(GC_JOB))
            .all(&cx.tdb.db.conn)
            .await
            .unwrap();
        assert_eq!(queued.len(), 1, "{n}");
        assert_eq!(queued[0].tenant_id, cx.a.0);
        assert!(queued[0].run_at > chrono::Utc::now() - chrono::Duration::seconds(1));
        // Run it now, through the worker's registry.
        rathaus_store::entity::job::Entity::update_many()
            .col_expr(
                rathaus_store::entity::job::Column::RunAt,
                sea_orm::sea_query::Expr::value(chrono::Utc::now()),
            )
            .exec(&cx.tdb.db.conn)
            .await
            .unwrap();
        let mut registry = rathaus_store::jobs::Registry::default();
        for (kind, h) in rathaus_store::files::jobs(files.clone()) {
            registry.register(kind, h);
        }
        assert!(registry.run_one(&cx.tdb.db).await.unwrap(), "{n}");
        let job = rathaus_store::entity::job::Entity::find_by_id(queued[0].id)
            .one(&cx.tdb.db.conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            job.status,
            rathaus_store::jobs::DONE,
            "{n}: {:?}",
            job.last_error
        );
        assert!(cx.objects().await.is_empty(), "{n}");
        assert_eq!(cx.rows(cx.a).await, (0, 0), "{n}");
        // The daily sweep queues a run per tenant with contents.
        files
            .put(&cx.tdb.db, cx.b, BY, PHOTO, GENEROUS, &data(10, 16)[..])
            .await
            .unwrap();
        assert_eq!(files.schedule_all(&cx.tdb.db).await.unwrap(), 1, "{n}");
        assert_eq!(
            files.schedule_all(&cx.tdb.db).await.unwrap(),
            0,
            "{n}: already queued"
        );
    }
}

#[tokio::test]
async fn concurrent_uploads_of_the_same_content_store_it_once() {
    for cx in setups().await {
        let n = cx.name;
        let content = data(200_000, 17);
        let puts = (0..4).map(|_| cx.put(cx.a, &content));
        let metas = futures_util::future::join_all(puts).await;
        let metas: Vec<_> = metas.into_iter().map(|m| m.unwrap()).collect();
        assert!(metas.iter().all(|m| m.sha256 == metas[0].sha256), "{n}");
        assert_eq!(cx.rows(cx.a).await, (4, 1), "{n}");
        assert_eq!(cx.objects().await.len(), 1, "{n}");
        let refs = file_content::Entity::find()
            .one(&cx.tdb.db.conn)
            .await
            .unwrap()
            .unwrap()
            .refs;
        assert_eq!(refs, 4, "{n}");
    }
}

#[tokio::test]
async fn backup_and_restore_include_the_stored_files() {
    if rathaus_testkit::pg_url().is_some() {
        return; // `rathaus backup` covers SQLite installs (PostgreSQL: pg_dump)
    }
    let tdb = TestDb::new().await;
    let files = FileStore::disk(tdb.dir.path()).unwrap();
    let tenant = rathaus_testkit::tenant_fixture(&tdb.db, "musterhausen", "musterhausen.example")
        .await
        .tenant;
    let content = data(1_500_000, 18);
    let meta = files
        .put(&tdb.db, tenant, BY, PHOTO, GENEROUS, &content[..])
        .await
        .unwrap();
    // An upload in progress is not part of a backup.
    let tmp = tdb.dir.path().join(format!("files/t/{}/tmp", tenant.0));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("upload#1"), b"half").unwrap();

    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("sicherung.tar.gz");
    let note = rathaus_store::backup::backup_with_files(&tdb.db, tdb.dir.path(), &archive, &files)
        .await
        .unwrap();
    assert_eq!(note, None, "the disk backend is in the backup");
    let restored = out.path().join("wiederhergestellt");
    rathaus_store::backup::restore(&archive, &restored).unwrap();
    assert!(!restored.join(format!("files/t/{}/tmp", tenant.0)).exists());

    let db = rathaus_store::Db::connect(&rathaus_store::db::default_sqlite_url(&restored))
        .await
        .unwrap();
    let files = FileStore::disk(&restored).unwrap();
    let d = files
        .get(&db.conn, tenant, BY, meta.id, None)
        .await
        .unwrap();
    assert_eq!(d.meta, meta);
    let got: Vec<Bytes> = d.body.try_collect().await.unwrap();
    assert_eq!(got.concat(), content);

    // With S3 the backup says the bucket is not in it.
    if let Some(cfg) = rathaus_testkit::s3::bucket().await {
        let s3 = FileStore::from_config(&FilesConfig::S3(cfg.clone())).unwrap();
        let note = rathaus_store::backup::backup_with_files(
            &tdb.db,
            tdb.dir.path(),
            &out.path().join("zwei.tar.gz"),
            &s3,
        )
        .await
        .unwrap()
        .unwrap();
        assert!(
            note.contains(&cfg.bucket) && note.contains("docs/operations.md"),
            "{note}"
        );
    }
}
