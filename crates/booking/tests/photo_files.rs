//! Resource photos on the file service (ADR 0016): new photos are stored there (no BLOB),
//! photos stored the old way are served from their BLOB until `booking.photos_to_files` moves
//! them, the same URL serves the same bytes and ETag before and after, and deleting a photo
//! removes its file references.

use crate::common;

use common::*;
use rathaus_booking::Booking;
use rathaus_booking::domain::{PhotoId, ResourceId};
use rathaus_booking::service::{self, ResourceInput, photo_files, photos};
use rathaus_booking::store::entity::photo;
use rathaus_store::entity::{file, file_content};
use rathaus_store::images::jpeg_from_rgb;
use rathaus_store::jobs::Registry;
use rathaus_store::uow::Actor;
use rathaus_web::{Module, WebConfig};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

const HOST: &str = "rathaus.a.test";

fn jpeg(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            px.extend_from_slice(&[(x * 255 / w) as u8, seed, (y * 255 / h) as u8]);
        }
    }
    jpeg_from_rgb(&px, w, h, 90).unwrap()
}

async fn blob_photo(s: &Setup, resource_id: i64, position: i32, seed: u8) -> photo::Model {
    let image = jpeg(80, 60, seed);
    let thumb = jpeg(40, 30, seed);
    photo::ActiveModel {
        tenant_id: Set(s.f.tenant.0),
        resource_id: Set(resource_id),
        alt_text: Set("Alte Aufnahme".into()),
        position: Set(position),
        sha256: Set(rathaus_store::sha256_hex_bytes(&image)),
        width: Set(80),
        height: Set(60),
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

async fn booking_files(s: &Setup) -> u64 {
    file::Entity::find()
        .filter(file::Column::TenantId.eq(s.f.tenant.0))
        .filter(file::Column::Module.eq("booking"))
        .count(&s.db.conn)
        .await
        .unwrap()
}

async fn run_jobs(s: &Setup) -> usize {
    let mut reg = Registry::default();
    for (kind, h) in Booking.file_jobs(s.files.clone()) {
        reg.register(kind, h);
    }
    let mut n = 0;
    while reg.run_one(&s.db).await.unwrap() {
        n += 1;
    }
    n
}

async fn get(c: &reqwest::Client, url: &str, etag: Option<&str>) -> (u16, String, Vec<u8>) {
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
async fn resource_photos_move_to_the_file_service_and_keep_their_urls() {
    let mut s = setup().await;
    let mut inp = ResourceInput::new("Sporthalle Nord", service::HALL);
    inp.bookable_by = "public".into();
    let hall = resource_with(&s, inp).await;

    // A new photo: on the file service, no BLOB.
    let new = photos::add(
        &s.db,
        &s.files,
        Actor::User(&s.admin),
        ResourceId(hall.id),
        jpeg(200, 150, 7),
        "Halle von innen",
    )
    .await
    .unwrap();
    let r = row(&s, new.id).await;
    assert_eq!((r.image.as_ref(), r.thumb.as_ref()), (None, None));
    assert!(r.image_file_id.is_some() && r.thumb_file_id.is_some());
    assert_eq!(booking_files(&s).await, 2);

    let old = blob_photo(&s, hall.id, 1, 120).await;
    assert_eq!(photo_files::enqueue_moves(&s.db).await.unwrap(), 1);
    assert_eq!(photo_files::enqueue_moves(&s.db).await.unwrap(), 0);

    let app = spawn_app(&mut s, WebConfig::default()).await;
    let anon = app.client(&[HOST]);
    let url = |id: i64, small: bool| {
        if small {
            app.url(HOST, &format!("/buchung/fotos/{id}/klein.jpg"))
        } else {
            app.url(HOST, &format!("/buchung/fotos/{id}.jpg"))
        }
    };

    // New photo: bytes, ETag (its sha256), 304.
    let (st, tag, bytes) = get(&anon, &url(new.id, false), None).await;
    assert_eq!(st, 200);
    assert_eq!(tag, format!("\"{}\"", new.sha256));
    assert_eq!(rathaus_store::sha256_hex_bytes(&bytes), new.sha256);
    assert_eq!(get(&anon, &url(new.id, false), Some(&tag)).await.0, 304);

    // Old photo from its BLOB.
    let mut before = Vec::new();
    for small in [false, true] {
        let (st, tag, b) = get(&anon, &url(old.id, small), None).await;
        assert_eq!(st, 200);
        before.push((tag, b));
    }
    assert_eq!(Some(&before[0].1), old.image.as_ref());
    assert_eq!(Some(&before[1].1), old.thumb.as_ref());

    // The move, then the same URLs serve identical bytes and ETags.
    assert!(run_jobs(&s).await >= 1);
    let moved = row(&s, old.id).await;
    assert_eq!((moved.image, moved.thumb), (None, None));
    assert!(moved.image_file_id.is_some() && moved.thumb_file_id.is_some());
    assert_eq!(booking_files(&s).await, 4);
    for (small, (tag, b)) in [false, true].into_iter().zip(&before) {
        let (st, t, bytes) = get(&anon, &url(old.id, small), None).await;
        assert_eq!((st, &t, &bytes), (200, tag, b));
        assert_eq!(get(&anon, &url(old.id, small), Some(tag)).await.0, 304);
    }
    // Idempotent.
    assert_eq!(photo_files::enqueue_moves(&s.db).await.unwrap(), 0);
    let again = photo_files::move_batch(&s.db, &s.files, s.f.tenant, 10)
        .await
        .unwrap();
    assert_eq!((again.moved, again.left), (0, false));
    assert_eq!(booking_files(&s).await, 4);

    // Deleting a photo removes its references; its content is left for the collector.
    let sha = moved.sha256.clone();
    photos::remove(&s.db.conn, &s.files, Actor::User(&s.admin), PhotoId(old.id))
        .await
        .unwrap();
    assert_eq!(booking_files(&s).await, 2);
    for id in [moved.image_file_id.unwrap(), moved.thumb_file_id.unwrap()] {
        assert!(
            file::Entity::find_by_id(id)
                .one(&s.db.conn)
                .await
                .unwrap()
                .is_none()
        );
    }
    let content = file_content::Entity::find()
        .filter(file_content::Column::TenantId.eq(s.f.tenant.0))
        .filter(file_content::Column::Sha256.eq(sha))
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(content.refs, 0);
    assert!(content.unreferenced_since.is_some());
    assert_eq!(get(&anon, &url(old.id, false), None).await.0, 404);
    // The other photo is untouched.
    assert_eq!(get(&anon, &url(new.id, false), None).await.0, 200);
}

/// The migration keeps photos stored before it (SQLite rebuilds the table).
#[tokio::test]
async fn the_migration_keeps_existing_photos() {
    use rathaus_booking::store::migrations::Migrator;
    use sea_orm::sea_query::Query;
    use sea_orm::{ConnectionTrait, Statement};
    use sea_orm_migration::MigratorTrait;

    let tdb = rathaus_testkit::TestDb::new().await;
    let db = tdb.db.clone();
    // The schema as it was before ADR 0016.
    Migrator::up(&db.conn, Some(7)).await.unwrap();
    rathaus_core::permissions::register(rathaus_booking::permissions::PERMISSIONS);
    let s = tenant(&db, "a", HOST).await;
    let hall = resource(&s, "Halle", service::HALL, None).await;
    let image = jpeg(80, 60, 1);
    let thumb = jpeg(40, 30, 1);
    let sha = rathaus_store::sha256_hex_bytes(&image);
    let insert = Query::insert()
        .into_table("booking_photos")
        .columns([
            "tenant_id",
            "resource_id",
            "alt_text",
            "position",
            "sha256",
            "width",
            "height",
            "image",
            "thumb",
            "created_at",
        ])
        .values_panic([
            s.f.tenant.0.into(),
            hall.id.into(),
            "Alt".into(),
            0.into(),
            sha.clone().into(),
            80.into(),
            60.into(),
            image.clone().into(),
            thumb.clone().into(),
            chrono::Utc::now().into(),
        ])
        .to_owned();
    db.conn.execute(&insert).await.unwrap();
    let backend = db.conn.get_database_backend();
    let id: i64 = db
        .conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT MAX(id) AS id FROM booking_photos".to_string(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();

    Migrator::up(&db.conn, None).await.unwrap();
    let r = row(&s, id).await;
    assert_eq!(
        (r.resource_id, r.alt_text.as_str(), r.sha256.as_str()),
        (hall.id, "Alt", sha.as_str())
    );
    assert_eq!((r.image, r.thumb), (Some(image), Some(thumb)));
    assert_eq!((r.image_file_id, r.thumb_file_id), (None, None));
    assert_eq!(photo_files::enqueue_moves(&db).await.unwrap(), 1);
    drop(tdb);
}
