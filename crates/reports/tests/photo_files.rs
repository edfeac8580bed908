//! Report photos on the file service (ADR 0016): new photos are stored there (no BLOB), photos
//! stored the old way are served from their BLOB until `reports.photos_to_files` moves them,
//! and every URL serves the same bytes with the same ETag before and after the move.

use crate::common;

use common::*;
use rathaus_reports::service::{self, PhotoId, ReportId, Source, photo_files};
use rathaus_reports::store::entity::photo;
use rathaus_store::entity::file;
use rathaus_store::images::jpeg_from_rgb;
use rathaus_store::jobs::Registry;
use rathaus_web::{Module, WebConfig};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

const HOST: &str = "rathaus.a.test";

fn jpeg(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            px.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, seed]);
        }
    }
    jpeg_from_rgb(&px, w, h, 90).unwrap()
}

fn sha256_hex(b: &[u8]) -> String {
    rathaus_store::sha256_hex_bytes(b)
}

/// A photo inserted as the module stored them before ADR 0016: bytes in the row.
async fn blob_photo(s: &Setup, report_id: i64, position: i32, seed: u8) -> photo::Model {
    let image = jpeg(64, 48, seed);
    let thumb = jpeg(32, 24, seed);
    photo::ActiveModel {
        tenant_id: Set(s.tenant().0),
        report_id: Set(report_id),
        position: Set(position),
        hidden: Set(false),
        sha256: Set(sha256_hex(&image)),
        width: Set(64),
        height: Set(48),
        image: Set(Some(image)),
        thumb: Set(Some(thumb)),
        image_file_id: Set(None),
        thumb_file_id: Set(None),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&s.db.conn)
    .await
    .unwrap()
}

async fn row(s: &Setup, id: i64) -> photo::Model {
    photo::Entity::find_by_id(id)
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap()
}

async fn report_files(s: &Setup) -> u64 {
    file::Entity::find()
        .filter(file::Column::TenantId.eq(s.tenant().0))
        .filter(file::Column::Module.eq("reports"))
        .count(&s.db.conn)
        .await
        .unwrap()
}

/// Runs the queued jobs of the module's file jobs until none is due.
async fn run_jobs(s: &Setup) -> usize {
    let mut reg = Registry::default();
    for (kind, h) in s.module.file_jobs(s.files.clone()) {
        reg.register(kind, h);
    }
    let mut n = 0;
    while reg.run_one(&s.db).await.unwrap() {
        n += 1;
    }
    n
}

/// GET `path`: status, ETag and body.
async fn get(c: &reqwest::Client, url: String, etag: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut req = c.get(url);
    if let Some(e) = etag {
        req = req.header("if-none-match", e);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let tag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, tag, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn photos_live_on_the_file_service_and_old_urls_keep_working() {
    let mut s = setup().await;
    // A new report with a photo: on the file service, no BLOB.
    let mut inp = report(&s, "gully", INSIDE);
    inp.photos = vec![jpeg(120, 90, 10)];
    let new = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap();
    assert_eq!(s.clean_photos().await, 1);
    let photos = service::photos_of(&s.db.conn, s.tenant(), ReportId(new.report.id), true)
        .await
        .unwrap();
    assert_eq!(photos.len(), 1);
    let new_id = photos[0].id;
    let r = row(&s, new_id).await;
    assert_eq!((r.image.as_ref(), r.thumb.as_ref()), (None, None));
    assert!(r.image_file_id.is_some() && r.thumb_file_id.is_some());
    assert_eq!(report_files(&s).await, 2);

    // Photos from before: one public, one hidden by moderation.
    let old = blob_photo(&s, new.report.id, 1, 50).await;
    let hidden = blob_photo(&s, new.report.id, 2, 90).await;
    service::set_photo_hidden(
        &s.db.conn,
        s.st(),
        rathaus_store::uow::Actor::User(&s.moderator),
        s.moderator.tenant_id,
        PhotoId(hidden.id),
        true,
    )
    .await
    .unwrap();
    assert_eq!(photo_files::enqueue_moves(&s.db).await.unwrap(), 1);
    assert_eq!(
        photo_files::enqueue_moves(&s.db).await.unwrap(),
        0,
        "queued once"
    );

    let app = spawn_app(&mut s, WebConfig::default()).await;
    let base = app.url(HOST, "");
    let anon = app.client(&[HOST]);
    let handler = signed_in(&app, HOST, &base, "bauhof@a.example").await;
    let urls = |id: i64| {
        [
            format!("{base}/maengel/fotos/{id}.jpg"),
            format!("{base}/maengel/fotos/{id}/klein.jpg"),
        ]
    };

    // The new photo: the re-encoded bytes, ETag = its sha256, 304 on revalidation.
    let (st, tag, bytes) = get(&anon, urls(new_id)[0].clone(), None).await;
    assert_eq!(st, 200);
    assert_eq!(tag, format!("\"{}\"", photos[0].sha256));
    assert_eq!(sha256_hex(&bytes), photos[0].sha256);
    assert_eq!(get(&anon, urls(new_id)[0].clone(), Some(&tag)).await.0, 304);
    let (st, _, thumb) = get(&anon, urls(new_id)[1].clone(), None).await;
    assert_eq!(st, 200);
    assert!(!thumb.is_empty());

    // The old photo from its BLOB; the hidden one refused to the public, shown to staff.
    let mut before = Vec::new();
    for u in urls(old.id) {
        let (st, tag, b) = get(&anon, u, None).await;
        assert_eq!(st, 200);
        before.push((tag, b));
    }
    assert_eq!(before[0].0, format!("\"{}\"", old.sha256));
    assert_eq!(Some(&before[0].1), old.image.as_ref());
    assert_eq!(Some(&before[1].1), old.thumb.as_ref());
    for u in urls(hidden.id) {
        assert_eq!(get(&anon, u, None).await.0, 404);
    }
    let staff_url = format!("{base}/maengel/verwaltung/fotos/{}.jpg", hidden.id);
    let (st, _, staff_before) = get(&handler, staff_url.clone(), None).await;
    assert_eq!(st, 200);
    assert_eq!(Some(&staff_before), hidden.image.as_ref());

    // The move: both photos onto the file service, BLOBs cleared.
    let s2 = &s;
    assert!(run_jobs(s2).await >= 1);
    for id in [old.id, hidden.id] {
        let r = row(s2, id).await;
        assert_eq!((r.image, r.thumb), (None, None), "photo {id} moved");
        assert!(r.image_file_id.is_some() && r.thumb_file_id.is_some());
    }
    assert_eq!(report_files(s2).await, 6);

    // The same URLs serve identical bytes with the same ETag (and 304).
    for (u, (tag, b)) in urls(old.id).into_iter().zip(&before) {
        let (st, t, bytes) = get(&anon, u.clone(), None).await;
        assert_eq!((st, &t, &bytes), (200, tag, b));
        assert_eq!(get(&anon, u, Some(tag)).await.0, 304);
    }
    for u in urls(hidden.id) {
        assert_eq!(get(&anon, u, None).await.0, 404, "hidden stays hidden");
    }
    let (st, _, staff_after) = get(&handler, staff_url, None).await;
    assert_eq!((st, staff_after), (200, staff_before));

    // Idempotent: nothing left to queue or move, no new references.
    assert_eq!(photo_files::enqueue_moves(&s2.db).await.unwrap(), 0);
    let again = photo_files::move_batch(&s2.db, &s2.files, s2.tenant(), 100)
        .await
        .unwrap();
    assert_eq!((again.moved, again.left), (0, false));
    assert_eq!(report_files(s2).await, 6);
}

#[tokio::test]
async fn the_move_resumes_in_batches_and_keeps_the_bytes() {
    let s = setup().await;
    let rep = submit(&s, "gully", INSIDE).await.report;
    let mut olds = Vec::new();
    for i in 0..5 {
        olds.push(blob_photo(&s, rep.id, i, 20 + i as u8 * 30).await);
    }
    // Stopped after two: those are moved, the rest still in their BLOBs.
    let first = photo_files::move_batch(&s.db, &s.files, s.tenant(), 2)
        .await
        .unwrap();
    assert_eq!((first.moved, first.left), (2, true));
    let moved = moved_count(&s, &olds).await;
    assert_eq!(moved, 2);
    // The job finishes the rest (queued at start only while some remain).
    assert_eq!(photo_files::enqueue_moves(&s.db).await.unwrap(), 1);
    assert!(run_jobs(&s).await >= 1);
    assert_eq!(moved_count(&s, &olds).await, 5);
    assert_eq!(photo_files::enqueue_moves(&s.db).await.unwrap(), 0);
    assert_eq!(report_files(&s).await, 10);
    // Each file holds the bytes the BLOB had.
    for o in &olds {
        let r = row(&s, o.id).await;
        for (fid, want) in [(r.image_file_id, &o.image), (r.thumb_file_id, &o.thumb)] {
            let got = read_file(&s, fid.unwrap()).await;
            assert_eq!(Some(&got), want.as_ref());
        }
    }
}

async fn moved_count(s: &Setup, olds: &[photo::Model]) -> usize {
    let mut n = 0;
    for o in olds {
        if row(s, o.id).await.image_file_id.is_some() {
            n += 1;
        }
    }
    n
}

async fn read_file(s: &Setup, id: i64) -> Vec<u8> {
    let dl = s
        .files
        .get(
            &s.db.conn,
            s.tenant(),
            rathaus_store::uow::Actor::system("test"),
            rathaus_store::files::FileId(id),
            None,
        )
        .await
        .unwrap();
    axum::body::to_bytes(axum::body::Body::from_stream(dl.body), usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

/// The migration keeps photos stored before it (SQLite rebuilds the table): bytes, ids and
/// moderation state survive, the file ids are empty, and the move is queued.
#[tokio::test]
async fn the_migration_keeps_existing_photos() {
    use rathaus_reports::store::migrations::Migrator;
    use sea_orm::sea_query::Query;
    use sea_orm::{ConnectionTrait, Statement};
    use sea_orm_migration::MigratorTrait;

    let tdb = rathaus_testkit::TestDb::new().await;
    let db = tdb.db.clone();
    rathaus_search::migrate(&db).await.unwrap();
    // The schema as it was before ADR 0016.
    Migrator::up(&db.conn, Some(2)).await.unwrap();
    // Reports are written with today's entity, which has the map cell of m0005: the column is
    // there while they are written and gone again before the later migrations run.
    let cell = |sql: &str| {
        db.conn
            .execute_raw(Statement::from_string(db.conn.get_database_backend(), sql))
    };
    cell("ALTER TABLE reports_reports ADD COLUMN cell BIGINT NOT NULL DEFAULT 0")
        .await
        .unwrap();
    rathaus_core::permissions::register(rathaus_reports::permissions::PERMISSIONS);
    let s = tenant(&db, "a", HOST).await;
    let rep = submit(&s, "gully", INSIDE).await.report;
    cell("ALTER TABLE reports_reports DROP COLUMN cell")
        .await
        .unwrap();
    let image = jpeg(64, 48, 3);
    let thumb = jpeg(32, 24, 3);
    let sha = sha256_hex(&image);
    let insert = Query::insert()
        .into_table("reports_photos")
        .columns([
            "tenant_id",
            "report_id",
            "position",
            "hidden",
            "sha256",
            "width",
            "height",
            "image",
            "thumb",
            "created_at",
        ])
        .values_panic([
            s.tenant().0.into(),
            rep.id.into(),
            0.into(),
            true.into(),
            sha.clone().into(),
            64.into(),
            48.into(),
            image.clone().into(),
            thumb.clone().into(),
            chrono::Utc::now().into(),
        ])
        .to_owned();
    db.conn.execute(&insert).await.unwrap();
    let id: i64 = {
        let backend = db.conn.get_database_backend();
        let row = db
            .conn
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT MAX(id) AS id FROM reports_photos".to_string(),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "id").unwrap()
    };

    Migrator::up(&db.conn, None).await.unwrap();
    // m0005 gave the report written before it its map cell.
    let moved = rathaus_reports::store::entity::report::Entity::find_by_id(rep.id)
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    let p = rathaus_reports::domain::geo::Point::new(moved.lat, moved.lon).unwrap();
    assert_eq!(moved.cell, rathaus_reports::domain::geo::cell_of(p));
    let r = row(&s, id).await;
    assert_eq!(
        (r.report_id, r.hidden, r.sha256.as_str()),
        (rep.id, true, sha.as_str())
    );
    assert_eq!((r.image, r.thumb), (Some(image), Some(thumb)));
    assert_eq!((r.image_file_id, r.thumb_file_id), (None, None));
    assert_eq!(photo_files::enqueue_moves(&db).await.unwrap(), 1);
    // New photos can be stored after it (the id sequence continues).
    let mut inp = report(&s, "gully", INSIDE);
    inp.photos = vec![jpeg(50, 40, 9)];
    let new = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap();
    assert_eq!(s.clean_photos().await, 1);
    let photos = service::photos_of(&db.conn, s.tenant(), ReportId(new.report.id), true)
        .await
        .unwrap();
    assert!(photos[0].id > id);
    drop(tdb);
}

/// A JPEG with an APP1 (EXIF) segment carrying `secret`, as a phone writes the place a photo
/// was taken.
fn jpeg_with_exif(secret: &str) -> Vec<u8> {
    let plain = jpeg(120, 90, 7);
    let mut payload = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    payload.extend(secret.as_bytes());
    let len = u16::try_from(payload.len() + 2).unwrap();
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(len.to_be_bytes());
    out.extend(payload);
    out.extend(&plain[2..]);
    out
}

/// A PNG whose header is fine (100 × 100 RGB) but whose pixel data is not zlib: passes the
/// checks at submission, fails to decode.
fn png_with_broken_pixels() -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = kind.to_vec();
        c.extend(data);
        let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        out.extend(&c);
        out.extend(crc32fast::hash(&c).to_be_bytes());
        out
    };
    let mut ihdr = 100u32.to_be_bytes().to_vec();
    ihdr.extend(100u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", b"this is not deflate data at all"));
    png.extend(chunk(b"IEND", b""));
    png
}

async fn upload_files(s: &Setup) -> u64 {
    file::Entity::find()
        .filter(file::Column::TenantId.eq(s.tenant().0))
        .filter(file::Column::Kind.eq("photo-upload"))
        .count(&s.db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_photo_is_served_only_after_the_background_job_cleaned_it() {
    let mut s = setup().await;
    let secret = "GEHEIM-GPS-51.4556N-7.0116E";
    let upload = jpeg_with_exif(secret);
    let mut inp = report(&s, "gully", INSIDE);
    inp.photos = vec![upload.clone(), png_with_broken_pixels()];
    let new = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap();
    let rows = photo::Entity::find()
        .filter(photo::Column::ReportId.eq(new.report.id))
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let (good, bad) = (rows[0].id, rows[1].id);
    // In quarantine: the upload as sent on the file service, nothing else; both queued.
    assert!(
        rows.iter()
            .all(|r| r.quarantine_file_id.is_some() && r.image_file_id.is_none())
    );
    assert_eq!(upload_files(&s).await, 2);
    let kept = s
        .files
        .read_all(
            &s.db.conn,
            s.tenant(),
            rathaus_store::uow::Actor::system("test"),
            rathaus_store::files::FileId(rows[0].quarantine_file_id.unwrap()),
            u64::MAX,
        )
        .await
        .unwrap();
    assert_eq!(kept, upload);
    let queued = rathaus_store::entity::job::Entity::find()
        .filter(rathaus_store::entity::job::Column::Kind.eq(service::photo_clean::JOB))
        .count(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(queued, 2);
    let listed = service::photos_of(&s.db.conn, s.tenant(), ReportId(new.report.id), true)
        .await
        .unwrap();
    assert!(listed.is_empty(), "not listed, not even to staff");

    let app = spawn_app(&mut s, WebConfig::default()).await;
    let base = app.url(HOST, "");
    let anon = app.client(&[HOST]);
    let handler = signed_in(&app, HOST, &base, "bauhof@a.example").await;
    let token = &new.status_token;
    let urls = |id: i64| {
        [
            (&anon, format!("{base}/maengel/fotos/{id}.jpg")),
            (&anon, format!("{base}/maengel/fotos/{id}/klein.jpg")),
            (
                &anon,
                format!("{base}/maengel/status/{token}/fotos/{id}.jpg"),
            ),
            (
                &handler,
                format!("{base}/maengel/verwaltung/fotos/{id}.jpg"),
            ),
            (
                &handler,
                format!("{base}/maengel/verwaltung/fotos/{id}-klein.jpg"),
            ),
        ]
    };
    for (c, u) in urls(good).into_iter().chain(urls(bad)) {
        assert_eq!(get(c, u.clone(), None).await.0, 404, "{u} before cleaning");
        // Not even with a guessed ETag of the empty digest.
        assert_eq!(get(c, u.clone(), Some("\"\"")).await.0, 404, "{u}");
    }
    let (_, _, page) = get(
        &handler,
        format!("{base}/maengel/verwaltung/{}", new.report.id),
        None,
    )
    .await;
    assert!(String::from_utf8_lossy(&page).contains("Fotos in Prüfung: 2"));

    // The job runner: the good one is re-encoded, the broken one removed with an audit event.
    assert!(run_jobs(&s).await >= 2);
    let r = row(&s, good).await;
    assert_eq!(r.quarantine_file_id, None);
    assert!(r.image_file_id.is_some() && r.thumb_file_id.is_some());
    assert_eq!((r.width, r.height), (120, 90));
    assert!(
        photo::Entity::find_by_id(bad)
            .one(&s.db.conn)
            .await
            .unwrap()
            .is_none(),
        "the undecodable upload is gone"
    );
    assert_eq!(upload_files(&s).await, 0, "no upload as sent is kept");
    let rejected = rathaus_store::entity::audit_event::Entity::find()
        .filter(rathaus_store::entity::audit_event::Column::Action.eq("reports.photo.rejected"))
        .filter(rathaus_store::entity::audit_event::Column::ObjectId.eq(new.report.id.to_string()))
        .count(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(rejected, 1);

    for (c, u) in urls(good) {
        let (st, tag, bytes) = get(c, u.clone(), None).await;
        assert_eq!(st, 200, "{u}");
        assert_eq!(&bytes[..2], &[0xFF, 0xD8], "{u}: a JPEG");
        assert_ne!(tag, "\"\"", "{u}: an ETag of the picture, if any");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("GEHEIM") && !text.contains("Exif"),
            "{u}: metadata dropped"
        );
    }
    for (c, u) in urls(bad) {
        assert_eq!(get(c, u.clone(), None).await.0, 404, "{u}");
    }
    let (_, _, page) = get(
        &handler,
        format!("{base}/maengel/verwaltung/{}", new.report.id),
        None,
    )
    .await;
    assert!(!String::from_utf8_lossy(&page).contains("Fotos in Prüfung"));
    // A second run of the same job finds nothing to do.
    assert_eq!(
        service::photo_clean::clean(&s.db, &s.files, s.st(), s.tenant(), PhotoId(good))
            .await
            .unwrap(),
        service::photo_clean::Outcome::Gone
    );
}
