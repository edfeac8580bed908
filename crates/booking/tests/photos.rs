//! Photos of a resource through the real app: uploads are told by their content, decoded
//! within limits and re-encoded (no EXIF/GPS survives), at most six per resource, each with a
//! required text alternative; only `booking.manage` changes them; the pictures are visible
//! where the resource is, another tenant's answer 404.

use crate::common;

use common::*;
use rathaus_booking::domain::ResourceId;
use rathaus_booking::service::{self, MANAGE, ResourceInput};
use rathaus_booking::store::entity::photo;
use rathaus_store::images::{Bounds, decoded_size, jpeg_from_rgb};
use rathaus_store::uow::Actor;
use rathaus_testkit::{TestApp, csrf_of, post_form};
use rathaus_web::WebConfig;
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const HOST: &str = "rathaus.a.test";
const HOST_B: &str = "rathaus.b.test";

const ANY: Bounds = Bounds {
    max_bytes: usize::MAX,
    max_pixels: 20_000,
};

struct App {
    app: TestApp,
    s: Setup,
    base: String,
    base_b: String,
    b: Setup,
}

async fn app() -> App {
    let mut s = setup().await;
    let b = tenant(&s.db, "b", HOST_B).await;
    let app = spawn_app(&mut s, WebConfig::default()).await;
    App {
        base: app.url(HOST, ""),
        base_b: app.url(HOST_B, ""),
        app,
        s,
        b,
    }
}

impl App {
    async fn client(&self, email: &str) -> Client {
        signed_in(&self.app, HOST, &self.base, email).await
    }
    fn anonymous(&self) -> Client {
        self.app.client(&[HOST, HOST_B])
    }
    async fn count(&self, resource_id: i64) -> u64 {
        photo::Entity::find()
            .filter(photo::Column::ResourceId.eq(resource_id))
            .count(&self.s.db.conn)
            .await
            .unwrap()
    }
}

/// The bytes of a stored file of tenant a.
async fn file_bytes(s: &Setup, id: i64) -> Vec<u8> {
    let dl = s
        .files
        .get(
            &s.db.conn,
            s.f.tenant,
            Actor::system("test"),
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

/// A colourful JPEG of `w` × `h` made with the image crate's encoder.
fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            px.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 90]);
        }
    }
    jpeg_from_rgb(&px, w, h, 90).unwrap()
}

const SECRET_PLACE: &[u8] = b"Standort Rathausplatz 1, 52.5200 N 13.4050 E";

/// The JPEG with an EXIF block after SOI: orientation 6 (turn 90° clockwise), a description
/// naming a place and a GPS IFD (latitude reference "N").
fn with_exif_gps(jpeg: &[u8]) -> Vec<u8> {
    let be16 = |v: u16| v.to_be_bytes().to_vec();
    let be32 = |v: u32| v.to_be_bytes().to_vec();
    let entry = |tag: u16, typ: u16, count: u32, value: Vec<u8>| {
        let mut e = be16(tag);
        e.extend(be16(typ));
        e.extend(be32(count));
        let mut v = value;
        v.resize(4, 0);
        e.extend(v);
        e
    };
    let ifd0_at = 8u32;
    let gps_at = ifd0_at + 2 + 3 * 12 + 4;
    let desc_at = gps_at + 2 + 12 + 4;
    let mut tiff = b"MM".to_vec();
    tiff.extend(be16(42));
    tiff.extend(be32(ifd0_at));
    tiff.extend(be16(3));
    tiff.extend(entry(
        0x010E,
        2,
        SECRET_PLACE.len() as u32 + 1,
        be32(desc_at),
    ));
    tiff.extend(entry(0x0112, 3, 1, be16(6)));
    tiff.extend(entry(0x8825, 4, 1, be32(gps_at)));
    tiff.extend(be32(0));
    tiff.extend(be16(1));
    tiff.extend(entry(0x0001, 2, 2, b"N\0".to_vec()));
    tiff.extend(be32(0));
    tiff.extend_from_slice(SECRET_PLACE);
    tiff.push(0);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend(be16(payload.len() as u16 + 2));
    out.extend(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Only a PNG signature and an IHDR chunk claiming 20,000 × 20,000 RGBA pixels (1.6 GB).
fn png_bomb_header() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = b"IHDR".to_vec();
    chunk.extend(20_000u32.to_be_bytes());
    chunk.extend(20_000u32.to_be_bytes());
    chunk.extend([8, 6, 0, 0, 0]);
    png.extend(13u32.to_be_bytes());
    png.extend(&chunk);
    png.extend(crc32fast::hash(&chunk).to_be_bytes());
    png
}

async fn page_csrf(c: &Client, base: &str, path: &str) -> String {
    let html = c
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    csrf_of(&html)
}

/// POSTs a multipart upload to `/buchung/{rid}/fotos` with the CSRF token of `csrf_from`.
async fn upload_with(
    c: &Client,
    base: &str,
    csrf_from: &str,
    rid: i64,
    bytes: Vec<u8>,
    name: &str,
    alt: &str,
) -> reqwest::Response {
    let csrf = page_csrf(c, base, csrf_from).await;
    let form = Form::new()
        .text("alt", alt.to_string())
        .part("foto", Part::bytes(bytes).file_name(name.to_string()));
    c.post(format!("{base}/buchung/{rid}/fotos?_csrf={csrf}"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn upload(
    c: &Client,
    base: &str,
    rid: i64,
    bytes: Vec<u8>,
    name: &str,
    alt: &str,
) -> reqwest::Response {
    upload_with(
        c,
        base,
        &format!("/buchung/{rid}/fotos"),
        rid,
        bytes,
        name,
        alt,
    )
    .await
}

async fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn ids_of(a: &App, rid: i64) -> Vec<i64> {
    let mut ids: Vec<i64> = photo::Entity::find()
        .filter(photo::Column::ResourceId.eq(rid))
        .all(&a.s.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    ids.sort();
    ids
}

async fn get_status(c: &Client, url: String) -> u16 {
    c.get(url).send().await.unwrap().status().as_u16()
}

/// Tags open and close in order (void elements aside): the page is well-formed HTML.
fn assert_balanced(html: &str) {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr",
    ];
    let mut stack: Vec<String> = vec![];
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with('!') {
            continue;
        }
        let end = rest.find('>').expect("unclosed tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        if name.is_empty() || VOID.contains(&name.as_str()) {
            continue;
        }
        if name == "script" || name == "style" {
            if !closing {
                let close = format!("</{name}>");
                let j = rest.find(&close).expect("closed script");
                rest = &rest[j + close.len()..];
            }
            continue;
        }
        if closing {
            assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "tag order");
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

#[tokio::test]
async fn photos_upload_serve_and_refuse() {
    let a = app().await;
    let mut inp = ResourceInput::new("Sporthalle Süd", service::HALL);
    inp.bookable_by = "public".into();
    let hall = resource_with(&a.s, inp).await.id;
    let room = resource(&a.s, "Besprechungsraum 2", "room", None).await.id; // staff only
    let manager = user_with(&a.s.db, a.s.f.tenant, "verwaltung@a.example", &[MANAGE]).await;
    let _ = manager;
    let admin = a.client(&a.s.f.admin_email).await;
    let mgr = a.client("verwaltung@a.example").await;
    let page = format!("/buchung/{hall}/fotos");

    // The page: headings, the upload form, well-formed; linked from the resource page.
    let r = admin.get(format!("{}{page}", a.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("<h1>Fotos – Sporthalle Süd</h1>"), "{html}");
    assert!(html.contains(">Fotos der Ressource</h2>"));
    assert!(html.contains(">Foto hochladen</h2>"));
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains("Noch keine Fotos") || html.contains("noch keine Fotos"));
    assert_balanced(&html);
    let res_page = admin
        .get(format!("{}/buchung/{hall}", a.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(res_page.contains(&format!("href=\"/buchung/{hall}/fotos\">Fotos</a>")));

    // A real JPEG with EXIF (orientation, GPS, a place) from a manager: re-encoded, upright,
    // bounded to 1600 px, no EXIF left.
    let original = with_exif_gps(&jpeg(2000, 1200));
    assert!(original.windows(4).any(|w| w == b"Exif"));
    let r = upload(
        &mgr,
        &a.base,
        hall,
        original.clone(),
        "halle.jpg",
        "Blick in die Halle mit Basketballkörben",
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(
        location(&r).await,
        format!("/buchung/{hall}/fotos?notice=booking_photos.added")
    );
    let ids = ids_of(&a, hall).await;
    assert_eq!(ids.len(), 1);
    let id = ids[0];
    let anon = a.anonymous();
    let r = anon
        .get(format!("{}/buchung/fotos/{id}.jpg", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let served = r.bytes().await.unwrap().to_vec();
    assert_ne!(served, original, "never the original");
    assert!(!served.windows(4).any(|w| w == b"Exif"), "no EXIF");
    assert!(
        !served
            .windows(SECRET_PLACE.len())
            .any(|w| w == SECRET_PLACE)
    );
    // Turned upright (portrait) and bounded to 1600 px.
    assert_eq!(decoded_size(&served, &ANY), Ok((960, 1600)));
    // The stored row holds the same bytes and size; the upload itself is nowhere.
    let row = photo::Entity::find_by_id(id)
        .one(&a.s.db.conn)
        .await
        .unwrap()
        .unwrap();
    // On the file service (ADR 0016): no BLOB, the file holds the served bytes.
    assert_eq!(row.image, None);
    assert_eq!(file_bytes(&a.s, row.image_file_id.unwrap()).await, served);
    assert_eq!((row.width, row.height), (960, 1600));
    assert_eq!(row.alt_text, "Blick in die Halle mit Basketballkörben");
    // The thumbnail.
    let r = anon
        .get(format!("{}/buchung/fotos/{id}/klein.jpg", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let small = r.bytes().await.unwrap();
    assert_eq!(decoded_size(&small, &ANY), Ok((240, 400)));
    assert!(!small.windows(4).any(|w| w == b"Exif"));
    // Revalidation answers 304 without the bytes.
    let r = anon
        .get(format!("{}/buchung/fotos/{id}.jpg", a.base))
        .header("if-none-match", etag.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert!(r.bytes().await.unwrap().is_empty());
    // The gallery shows it with its text alternative.
    let html = admin
        .get(format!("{}{page}", a.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!(
        "<img src=\"/buchung/fotos/{id}/klein.jpg\" alt=\"Blick in die Halle mit Basketballkörben\" width=\"240\" height=\"400\""
    )));
    assert_balanced(&html);

    // Bad files: a German message beside the field, 422, nothing stored.
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF".to_vec(),
            "hallenplan.jpg",
            "JPEG, PNG oder WebP",
        ),
        (
            {
                let mut j = jpeg(300, 200);
                j.truncate(j.len() / 2);
                j
            },
            "abgeschnitten.jpg",
            "beschädigt oder unvollständig",
        ),
        (png_bomb_header(), "bombe.png", "zu groß"),
        (vec![], "leer.jpg", "Bitte wählen Sie eine Bilddatei"),
    ];
    for (bytes, name, msg) in cases {
        let started = std::time::Instant::now();
        let r = upload(&admin, &a.base, hall, bytes, name, "Ein Bild").await;
        assert_eq!(r.status(), 422, "{name}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("class=\"field-error\" id=\"f-foto-error\""),
            "{name}: {html}"
        );
        assert!(html.contains(msg), "{name}: {html}");
        // The typed text alternative is kept.
        assert!(html.contains("value=\"Ein Bild\""), "{name}");
        assert!(started.elapsed().as_secs() < 10, "{name} took long");
        assert_eq!(a.count(hall).await, 1, "{name}: nothing stored");
    }
    // 11 MB: over the route's body limit (or the 10 MB picture limit).
    let mut big = jpeg(64, 64);
    big.resize(11 * 1024 * 1024, 0);
    let r = upload(&admin, &a.base, hall, big, "riesig.jpg", "Zu groß").await;
    let status = r.status().as_u16();
    assert!(status == 413 || status == 422, "{status}");
    if status == 422 {
        assert!(r.text().await.unwrap().contains("höchstens 10 MB"));
    }
    assert_eq!(a.count(hall).await, 1);
    // Missing or too long text alternative.
    for alt in ["", "   ", &"x".repeat(301)] {
        let r = upload(&admin, &a.base, hall, jpeg(200, 150), "ok.jpg", alt).await;
        assert_eq!(r.status(), 422, "{alt:?}");
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"f-alt-error\""), "{html}");
        assert!(
            html.contains("Bitte geben Sie einen Alternativtext ein")
                || html.contains("höchstens 300 Zeichen"),
            "{html}"
        );
    }
    assert_eq!(a.count(hall).await, 1);

    // A form that is no multipart body: no file.
    let r = post_form(&admin, &a.base, &page, &page, &[("alt", "Ohne Datei")]).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Bitte wählen Sie eine Bilddatei")
    );

    // Without the CSRF token: 403.
    let r = admin
        .post(format!("{}/buchung/{hall}/fotos", a.base))
        .multipart(
            Form::new()
                .text("alt", "x")
                .part("foto", Part::bytes(jpeg(50, 50)).file_name("x.jpg")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Up to six photos; the seventh is refused.
    for n in 2..=6 {
        let r = upload(
            &admin,
            &a.base,
            hall,
            jpeg(320, 200),
            "x.png",
            &format!("Foto Nummer {n}"),
        )
        .await;
        assert_eq!(r.status(), 303, "photo {n}");
    }
    assert_eq!(a.count(hall).await, 6);
    let r = upload(&admin, &a.base, hall, jpeg(320, 200), "7.jpg", "Siebtes").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("höchstens 6 Fotos"));
    assert_eq!(a.count(hall).await, 6);
    let html = admin
        .get(format!("{}{page}", a.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("6 von höchstens 6 Fotos"));
    assert!(
        !html.contains("enctype=\"multipart/form-data\""),
        "no upload form when full"
    );
    assert_balanced(&html);

    // Anonymous: upload, delete and alt text send to the login; nothing changes.
    let r = anon
        .post(format!("{}/buchung/{hall}/fotos?_csrf=x", a.base))
        .multipart(Form::new().part("foto", Part::bytes(jpeg(50, 50)).file_name("x.jpg")))
        .send()
        .await
        .unwrap();
    assert!(matches!(r.status().as_u16(), 303 | 403), "{}", r.status());
    let r = post_form(
        &anon,
        &a.base,
        "/login",
        &format!("/buchung/fotos/{id}/loeschen"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r).await, "/login");
    // Signed in without booking.manage (a booker, a clerk): 403 (the booker may look).
    let booker = a.client("verein@a.example").await;
    let (status, html) = {
        let r = booker
            .get(format!("{}{page}", a.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(status, 200);
    assert!(!html.contains("Foto hochladen") && !html.contains("löschen</button>"));
    let clerk = a.client(&a.s.f.clerk_email).await;
    for c in [&booker, &clerk] {
        let r = upload_with(c, &a.base, "/buchung", hall, jpeg(50, 50), "x.jpg", "x").await;
        assert_eq!(r.status(), 403);
        // Not even a multipart body: refused for the missing permission first.
        let r = post_form(
            c,
            &a.base,
            "/buchung",
            &format!("/buchung/{hall}/fotos"),
            &[("alt", "x")],
        )
        .await;
        assert_eq!(r.status(), 403);
        let r = post_form(
            c,
            &a.base,
            "/buchung",
            &format!("/buchung/fotos/{id}/loeschen"),
            &[],
        )
        .await;
        assert_eq!(r.status(), 403);
        let r = post_form(
            c,
            &a.base,
            "/buchung",
            &format!("/buchung/fotos/{id}/alt"),
            &[("alt", "Übernommen")],
        )
        .await;
        assert_eq!(r.status(), 403);
    }
    assert_eq!(a.count(hall).await, 6);

    // Changing the text alternative: required, kept on error, audited.
    let r = post_form(
        &mgr,
        &a.base,
        &page,
        &format!("/buchung/fotos/{id}/alt"),
        &[("alt", "  ")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("id=\"f-alt_{id}-error\"")), "{html}");
    assert!(html.contains("Bitte geben Sie einen Alternativtext ein"));
    let r = post_form(
        &mgr,
        &a.base,
        &page,
        &format!("/buchung/fotos/{id}/alt"),
        &[("alt", "Halle von der Tribüne aus")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let row = photo::Entity::find_by_id(id)
        .one(&a.s.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.alt_text, "Halle von der Tribüne aus");

    // Deleting by a manager.
    let r = post_form(
        &mgr,
        &a.base,
        &page,
        &format!("/buchung/fotos/{id}/loeschen"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(a.count(hall).await, 5);
    assert_eq!(
        get_status(&anon, format!("{}/buchung/fotos/{id}.jpg", a.base)).await,
        404
    );
    let actions = rathaus_store::audit::actions(&a.s.db.conn, a.s.f.tenant)
        .await
        .unwrap();
    for want in [
        "booking.photo.added",
        "booking.photo.alt_changed",
        "booking.photo.deleted",
    ] {
        assert!(actions.iter().any(|x| x == want), "{want} in {actions:?}");
    }

    // A staff-only resource: its photos need a login with booking.book or booking.manage.
    let r = upload(
        &admin,
        &a.base,
        room,
        jpeg(400, 300),
        "raum.jpg",
        "Tische in U-Form",
    )
    .await;
    assert_eq!(r.status(), 303);
    let room_photo = ids_of(&a, room).await[0];
    let url = format!("{}/buchung/fotos/{room_photo}.jpg", a.base);
    let small_url = format!("{}/buchung/fotos/{room_photo}/klein.jpg", a.base);
    assert_eq!(get_status(&anon, url.clone()).await, 404);
    assert_eq!(get_status(&anon, small_url.clone()).await, 404);
    assert_eq!(get_status(&clerk, url.clone()).await, 404);
    assert_eq!(get_status(&booker, url.clone()).await, 200);
    let r = booker.get(small_url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private")
    );

    // Another tenant's photo: 404 everywhere, even for tenant a's administrator.
    let foreign_res = resource_with(&a.b, {
        let mut i = ResourceInput::new("Fremde Halle", service::HALL);
        i.bookable_by = "public".into();
        i
    })
    .await;
    let foreign = rathaus_booking::service::photos::add(
        &a.s.db,
        &a.s.files,
        Actor::User(&a.b.admin),
        ResourceId(foreign_res.id),
        jpeg(100, 80),
        "Fremdes Foto",
    )
    .await
    .unwrap()
    .id;
    assert_eq!(
        get_status(&anon, format!("{}/buchung/fotos/{foreign}.jpg", a.base_b)).await,
        200,
        "on its own tenant's host"
    );
    for path in [
        format!("/buchung/fotos/{foreign}.jpg"),
        format!("/buchung/fotos/{foreign}/klein.jpg"),
        format!("/buchung/{}/fotos", foreign_res.id),
    ] {
        assert_eq!(
            get_status(&admin, format!("{}{path}", a.base)).await,
            404,
            "{path}"
        );
    }
    for action in [
        format!("/buchung/fotos/{foreign}/loeschen"),
        format!("/buchung/fotos/{foreign}/alt"),
    ] {
        let r = post_form(&admin, &a.base, "/buchung", &action, &[("alt", "Gekapert")]).await;
        assert_eq!(r.status(), 404, "{action}");
    }
    let r = upload_with(
        &admin,
        &a.base,
        "/buchung",
        foreign_res.id,
        jpeg(50, 50),
        "x.jpg",
        "x",
    )
    .await;
    assert_eq!(r.status(), 404);
    let still = photo::Entity::find_by_id(foreign)
        .one(&a.s.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.alt_text, "Fremdes Foto");
    assert_eq!(a.count(foreign_res.id).await, 1);
    for bad in ["abc.jpg", "999999.jpg", "1.png"] {
        assert_eq!(
            get_status(&anon, format!("{}/buchung/fotos/{bad}", a.base)).await,
            404,
            "{bad}"
        );
    }
}
