//! The citizens' side through the real app (issue 3, items 1–7): the report form without
//! JavaScript (moderation) and with a solved ALTCHA (published), every bad input of the issue
//! that applies to the form (German message, nothing stored), honeypot, replayed ALTCHA, rate
//! limit, the duplicate hint, the status page, following with real mails, the public list,
//! GeoJSON and Atom, photo visibility, and that no personal data reaches a public page.

use crate::common;

use common::*;
use rathaus_reports::domain::altcha::{self, Challenge};
use rathaus_reports::http::pages::public::list::viewport_references;
use rathaus_reports::service::{self, PhotoId, ReportId};
use rathaus_reports::store::entity::{follower, photo, pow_spent, report};
use rathaus_store::images::jpeg_from_rgb;
use rathaus_testkit::TestApp;
use rathaus_testkit::smtp::Smtpd;
use rathaus_web::WebConfig;
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::sync::atomic::{AtomicU32, Ordering};

const HOST: &str = "rathaus.a.test";

struct App {
    app: TestApp,
    s: Setup,
    base: String,
}

/// A distinct client address per test: the rate limit is per process and address.
fn next_ip() -> String {
    static N: AtomicU32 = AtomicU32::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("198.51.{}.{}", n / 250, n % 250 + 1)
}

async fn app() -> App {
    let mut s = setup().await;
    let cfg = WebConfig {
        trust_forwarded: true,
        ..WebConfig::default()
    };
    let app = spawn_app(&mut s, cfg).await;
    App {
        base: app.url(HOST, ""),
        app,
        s,
    }
}

impl App {
    /// An anonymous browser from its own address.
    fn client(&self) -> Client {
        self.client_from(&next_ip())
    }

    fn client_from(&self, ip: &str) -> Client {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-forwarded-for", ip.parse().unwrap());
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .resolve(HOST, self.app.addr)
            .default_headers(h)
            .build()
            .unwrap()
    }

    async fn reports(&self) -> u64 {
        report::Entity::find()
            .filter(report::Column::TenantId.eq(self.s.tenant().0))
            .count(&self.s.db.conn)
            .await
            .unwrap()
    }

    async fn photos(&self) -> u64 {
        photo::Entity::find().count(&self.s.db.conn).await.unwrap()
    }

    async fn get(&self, c: &Client, path: &str) -> (u16, String) {
        let r = c.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    async fn report_by_token(&self, token: &str) -> service::Report {
        service::by_status_token(&self.s.db.conn, self.s.tenant(), token)
            .await
            .unwrap()
    }
}

/// The CSRF token of the form page (it travels in the form's action: `?_csrf=`).
async fn form_csrf(a: &App, c: &Client) -> String {
    let (status, html) = a.get(c, "/maengel/melden").await;
    assert_eq!(status, 200);
    let marker = "/maengel/melden?_csrf=";
    let start = html.find(marker).expect("form action with CSRF") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// What the form sends: text fields and photos (bytes, file name).
struct Post {
    fields: Vec<(String, String)>,
    photos: Vec<(Vec<u8>, String)>,
}

impl Post {
    /// A complete report at `pos` in `code`, consent given, "report anyway" ticked.
    fn new(a: &App, code: &str, pos: (f64, f64)) -> Post {
        Post {
            fields: vec![
                ("category".into(), a.s.category(code).id.to_string()),
                ("lat".into(), pos.0.to_string()),
                ("lon".into(), pos.1.to_string()),
                ("address".into(), String::new()),
                (
                    "description".into(),
                    "Tiefes Schlagloch auf der rechten Fahrspur".into(),
                ),
                ("consent".into(), "1".into()),
                ("trotzdem".into(), "1".into()),
                ("webseite".into(), String::new()),
            ],
            photos: vec![],
        }
    }

    fn set(mut self, k: &str, v: &str) -> Post {
        self.fields.retain(|(x, _)| x != k);
        self.fields.push((k.into(), v.into()));
        self
    }

    fn without(mut self, k: &str) -> Post {
        self.fields.retain(|(x, _)| x != k);
        self
    }

    fn photo(mut self, bytes: Vec<u8>, name: &str) -> Post {
        self.photos.push((bytes, name.into()));
        self
    }
}

async fn send(a: &App, c: &Client, p: Post) -> reqwest::Response {
    let csrf = form_csrf(a, c).await;
    let mut form = Form::new();
    for (k, v) in p.fields {
        form = form.text(k, v);
    }
    for (bytes, name) in p.photos {
        form = form.part(
            "fotos",
            Part::bytes(bytes)
                .file_name(name)
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    c.post(format!("{}/maengel/melden?_csrf={csrf}", a.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The status token of a successful submission (303 to `/maengel/status/{token}?neu=1`).
fn token_of(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 303, "report stored and redirected");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let rest = loc
        .strip_prefix("/maengel/status/")
        .expect("status page location");
    rest.strip_suffix("?neu=1").expect("new flag").to_string()
}

async fn solved_payload(a: &App, c: &Client) -> String {
    let (status, json) = a.get(c, "/maengel/altcha").await;
    assert_eq!(status, 200);
    let ch: Challenge = serde_json::from_str(&json).unwrap();
    let n = altcha::solve(&ch).expect("solvable");
    altcha::payload_for(&ch, n)
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            px.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 90]);
        }
    }
    jpeg_from_rgb(&px, w, h, 90).unwrap()
}

/// Only a PNG signature and an IHDR chunk claiming 20,000 × 20,000 RGBA pixels.
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

#[tokio::test]
async fn without_javascript_a_report_waits_for_moderation() {
    let a = app().await;
    let c = a.client();
    let (status, html) = a.get(&c, "/maengel/melden").await;
    assert_eq!(status, 200);
    for needle in [
        "<optgroup label=\"Straße und Verkehr\">",
        "Art des Schadens",
        "name=\"webseite\"",
        "tabindex=\"-1\"",
        "href=\"/datenschutz\"",
        "<altcha-widget",
        "enctype=\"multipart/form-data\"",
        // The map starts at the centre of the demo boundary.
        "data-lat=\"51.",
        "data-lon=\"7.",
        // Tiles through our own server, never from a third party.
        "data-tiles=\"/maengel/kacheln/{z}/{x}/{y}.png\"",
    ] {
        assert!(html.contains(needle), "form has {needle}");
    }
    let before = a.reports().await;
    let r = send(
        &a,
        &c,
        Post::new(&a, "strassenschaden", INSIDE)
            .set(
                &format!("attr_{}_art", a.s.category("strassenschaden").id),
                "riss",
            )
            // Another category's attribute is ignored.
            .set(
                &format!("attr_{}_mast", a.s.category("beleuchtung").id),
                "<b>M 12</b>",
            ),
    )
    .await;
    let token = token_of(&r);
    assert_eq!(a.reports().await, before + 1);
    let rep = a.report_by_token(&token).await;
    assert_eq!(rep.moderation, service::PENDING);
    assert_eq!(rep.source, "web_nojs");
    assert_eq!(rep.attributes, r#"{"art":"riss"}"#);

    let (status, html) = a.get(&c, &format!("/maengel/status/{token}?neu=1")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&rep.reference));
    assert!(html.contains("Wir prüfen Ihre Meldung, bevor sie öffentlich erscheint."));
    assert!(html.contains("Lesezeichen"));
    assert!(html.contains("Straßenschaden/Schlagloch"));
    assert!(html.contains("Tiefes Schlagloch auf der rechten Fahrspur"));
    assert!(!html.contains("Bestätigungslink"), "no e-mail was given");

    // Not public while it waits.
    let (_, list) = a.get(&c, "/maengel").await;
    assert!(!list.contains(&rep.reference));
    assert_eq!(
        a.get(&c, &format!("/maengel/{}", rep.reference)).await.0,
        404
    );
    assert_eq!(a.get(&c, "/maengel/status/falsch").await.0, 404);
}

#[tokio::test]
async fn with_a_solved_altcha_a_report_is_published_and_a_payload_counts_once() {
    let a = app().await;
    let c = a.client();
    let payload = solved_payload(&a, &c).await;
    let r = send(
        &a,
        &c,
        Post::new(&a, "beleuchtung", INSIDE)
            .set("altcha", &payload)
            .set("email", "erika@example.org")
            .photo(jpeg(64, 48), "laterne.jpg"),
    )
    .await;
    let token = token_of(&r);
    let rep = a.report_by_token(&token).await;
    assert_eq!(rep.moderation, service::PUBLISHED);
    assert_eq!(rep.source, "web");
    assert_eq!(a.photos().await, 1);
    // The photo is shown once it has been re-encoded in the background.
    let (_, html) = a.get(&c, &format!("/maengel/status/{token}?neu=1")).await;
    assert!(html.contains("Fotos in Prüfung: 1"), "{html}");
    assert!(!html.contains(&format!("/maengel/status/{token}/fotos/")));
    assert_eq!(a.s.clean_photos().await, 1);
    let (_, html) = a.get(&c, &format!("/maengel/status/{token}?neu=1")).await;
    assert!(!html.contains("Fotos in Prüfung"));
    assert!(html.contains("Bestätigungslink"), "an e-mail was given");
    assert!(html.contains(&format!("/maengel/status/{token}/fotos/")));

    let (status, list) = a.get(&c, "/maengel").await;
    assert_eq!(status, 200);
    assert!(list.contains(&rep.reference));
    let (status, detail) = a.get(&c, &format!("/maengel/{}", rep.reference)).await;
    assert_eq!(status, 200);
    assert!(detail.contains("Straßenbeleuchtung"));

    // The same payload again: refused next to the widget, nothing stored.
    let before = a.reports().await;
    let r = send(
        &a,
        &c,
        Post::new(&a, "beleuchtung", INSIDE).set("altcha", &payload),
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("schon für eine Meldung verwendet"), "{html}");
    assert!(html.contains("id=\"f-altcha-error\""));
    assert_eq!(a.reports().await, before);

    // A forged one.
    let r = send(
        &a,
        &c,
        Post::new(&a, "beleuchtung", INSIDE).set("altcha", "eyJhbGdvcml0aG0iOiJTSEEtMjU2In0="),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Spam"));
    assert_eq!(a.reports().await, before);
    assert_eq!(
        pow_spent::Entity::find().count(&a.s.db.conn).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn bad_input_gets_a_german_message_and_stores_nothing() {
    let a = app().await;
    let c = a.client();
    let reports = a.reports().await;
    let photos = a.photos().await;
    let long = "a".repeat(5_000);
    let mut pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    pdf.extend(vec![b' '; 500]);
    let good = jpeg(80, 60);
    let truncated = good[..good.len() / 2].to_vec();
    let mut huge = jpeg(64, 64);
    huge.resize(11 * 1024 * 1024, 0);
    let cases: Vec<(&str, Post, &str)> = vec![
        (
            "outside the boundary",
            Post::new(&a, "strassenschaden", OUTSIDE),
            "außerhalb des Gemeindegebiets",
        ),
        (
            "no category",
            Post::new(&a, "strassenschaden", INSIDE).set("category", ""),
            "Bitte wählen Sie eine Kategorie.",
        ),
        (
            "a PDF renamed to .jpg",
            Post::new(&a, "strassenschaden", INSIDE).photo(pdf, "foto.jpg"),
            "Foto 1: Bitte ein Foto im Format JPEG, PNG oder WebP",
        ),
        (
            "a truncated JPEG",
            Post::new(&a, "strassenschaden", INSIDE)
                .photo(good.clone(), "a.jpg")
                .photo(truncated, "b.jpg"),
            "Foto 2: Die Datei ist beschädigt oder unvollständig.",
        ),
        (
            "a 20,000 × 20,000 PNG",
            Post::new(&a, "strassenschaden", INSIDE).photo(png_bomb_header(), "bombe.png"),
            "Foto 1: Das Foto ist zu groß",
        ),
        (
            "an 11 MB photo",
            Post::new(&a, "strassenschaden", INSIDE).photo(huge, "gross.jpg"),
            "Foto 1: Das Foto ist zu groß",
        ),
        (
            "four photos",
            Post::new(&a, "strassenschaden", INSIDE)
                .photo(good.clone(), "1.jpg")
                .photo(good.clone(), "2.jpg")
                .photo(good.clone(), "3.jpg")
                .photo(good.clone(), "4.jpg"),
            "Bitte höchstens 3 Fotos.",
        ),
        (
            "5,000 characters",
            Post::new(&a, "strassenschaden", INSIDE).set("description", &long),
            "Bitte höchstens 4000 Zeichen.",
        ),
        (
            "HTML in the description",
            Post::new(&a, "strassenschaden", INSIDE)
                .set("description", "Loch <script>alert(1)</script>"),
            "ohne HTML-Auszeichnungen",
        ),
        (
            "latitude 91",
            Post::new(&a, "strassenschaden", (91.0, 7.191)),
            "zwischen -90 und 90",
        ),
        (
            "coordinates that are no numbers",
            Post::new(&a, "strassenschaden", INSIDE).set("lat", "abc"),
            "Die Koordinaten sind ungültig.",
        ),
        (
            "an unknown address and no map point",
            Post::new(&a, "strassenschaden", INSIDE)
                .set("lat", "")
                .set("lon", "")
                .set("address", "Nirgendwostraße 999"),
            "Diese Adresse kennen wir nicht.",
        ),
        (
            "no location at all",
            Post::new(&a, "strassenschaden", INSIDE)
                .set("lat", "")
                .set("lon", ""),
            "Bitte markieren Sie den Ort auf der Karte oder geben Sie eine Adresse ein.",
        ),
        (
            "no consent",
            Post::new(&a, "strassenschaden", INSIDE).without("consent"),
            "Bitte stimmen Sie der Verarbeitung Ihrer Angaben zu",
        ),
        (
            "a wrong e-mail address",
            Post::new(&a, "strassenschaden", INSIDE).set("email", "erika@"),
            "field-error",
        ),
        (
            "a wrong attribute value",
            Post::new(&a, "strassenschaden", INSIDE).set(
                &format!("attr_{}_art", a.s.category("strassenschaden").id),
                "vulkan",
            ),
            "Bitte wählen Sie einen der angebotenen Werte.",
        ),
    ];
    for (what, post, message) in cases {
        let had_photos = !post.photos.is_empty();
        let r = send(&a, &c, post.set("name", "Erika Beispiel")).await;
        assert_eq!(r.status(), 422, "{what}");
        let html = r.text().await.unwrap();
        assert!(html.contains(message), "{what}: {message} missing");
        assert!(
            html.contains("field-error"),
            "{what}: message next to a field"
        );
        assert!(
            html.contains("value=\"Erika Beispiel\""),
            "{what}: typed values are kept"
        );
        if had_photos {
            assert!(
                html.contains("Bitte wählen Sie die Fotos erneut aus"),
                "{what}"
            );
        }
        assert_eq!(a.reports().await, reports, "{what}: nothing stored");
        assert_eq!(a.photos().await, photos, "{what}: no photo stored");
    }
    // The typed description comes back (escaped).
    let r = send(
        &a,
        &c,
        Post::new(&a, "strassenschaden", INSIDE).set("description", "Loch <b>tief</b> & breit"),
    )
    .await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Loch &#60;b&#62;tief&#60;/b&#62; &#38; breit")
            || html.contains("Loch &lt;b&gt;tief&lt;/b&gt; &amp; breit")
    );
    assert!(!html.contains("<b>tief</b>"));
}

#[tokio::test]
async fn the_address_alone_is_enough_and_suggestions_come_from_the_directory() {
    let a = app().await;
    let c = a.client();
    let (status, json) = a.get(&c, "/maengel/adressen?q=Marktstr").await;
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = list[0]["label"].as_str().expect("a suggestion");
    assert!(first.starts_with("Marktstraße"), "{first}");
    let (_, empty) = a.get(&c, "/maengel/adressen?q=").await;
    assert_eq!(empty, "[]");

    let r = send(
        &a,
        &c,
        Post::new(&a, "gully", INSIDE)
            .set("lat", "")
            .set("lon", "")
            .set("address", "Marktstraße 10"),
    )
    .await;
    let rep = a.report_by_token(&token_of(&r)).await;
    assert!((rep.lat - INSIDE.0).abs() < 0.01 && (rep.lon - INSIDE.1).abs() < 0.01);
    assert_eq!(rep.address, "Marktstraße 10");

    // Without a tile server configured there is no map at all; the address field remains.
    let before = service::settings(&a.s.db.conn, a.s.tenant()).await.unwrap();
    service::update_settings(
        &a.s.db.conn,
        rathaus_store::uow::Actor::User(&a.s.manager),
        a.s.manager.tenant_id,
        service::SettingsInput {
            tile_url: String::new(),
            tile_attribution: before.tile_attribution,
            geocoder_url: String::new(),
            duplicate_radius_m: before.duplicate_radius_m,
            answer_days: before.answer_days,
            moderate_all: before.moderate_all,
        },
    )
    .await
    .unwrap();
    for path in ["/maengel/melden", "/maengel"] {
        let (status, html) = a.get(&c, path).await;
        assert_eq!(status, 200);
        assert!(!html.contains("id=\"report-map\""), "{path} without a map");
    }
    let (_, html) = a.get(&c, "/maengel/melden").await;
    assert!(html.contains("id=\"f-address\""));
}

#[tokio::test]
async fn a_filled_honeypot_stores_nothing_and_the_rate_limit_holds() {
    let a = app().await;
    let c = a.client();
    let before = a.reports().await;
    let r = send(
        &a,
        &c,
        Post::new(&a, "sonstiges", INSIDE).set("webseite", "http://spam.example"),
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/maengel/danke");
    assert_eq!(a.reports().await, before);
    assert_eq!(a.get(&c, "/maengel/danke").await.0, 200);

    // The honeypot hit counted: nine more reports fit, then the address waits.
    for i in 0..(rathaus_reports::http::pages::public::RATE_LIMIT - 1) {
        let r = send(&a, &c, Post::new(&a, "sonstiges", INSIDE)).await;
        assert_eq!(r.status(), 303, "report {i}");
    }
    let r = send(&a, &c, Post::new(&a, "sonstiges", INSIDE)).await;
    assert_eq!(r.status(), 429);
    let html = r.text().await.unwrap();
    assert!(html.contains("in zehn Minuten noch einmal"));
    assert!(html.contains("Tiefes Schlagloch"), "typed values kept");
    assert_eq!(
        a.reports().await,
        before + rathaus_reports::http::pages::public::RATE_LIMIT as u64 - 1
    );
    // Another address is not affected.
    let other = a.client();
    assert_eq!(
        send(&a, &other, Post::new(&a, "sonstiges", INSIDE))
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn open_reports_nearby_are_shown_before_a_new_one_is_stored() {
    let a = app().await;
    let c = a.client();
    let first = submit(&a.s, "winterdienst", INSIDE).await.report;
    // 20 m further north: within the 50 m of the demo settings.
    let near = (INSIDE.0 + 0.00018, INSIDE.1);
    let q = format!(
        "category={}&lat={}&lon={}",
        a.s.category("winterdienst").id,
        near.0,
        near.1
    );
    let (status, fragment) = a
        .get(&c, &format!("/maengel/in-der-naehe?teil=1&{q}"))
        .await;
    assert_eq!(status, 200);
    assert!(fragment.contains(&first.reference));
    assert!(fragment.contains("Stattdessen folgen"));
    assert!(!fragment.contains("<html"), "a fragment for the script");
    let (status, page) = a.get(&c, &format!("/maengel/in-der-naehe?{q}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<html") && page.contains(&first.reference));
    // Another category has none there.
    let (_, none) = a
        .get(
            &c,
            &format!(
                "/maengel/in-der-naehe?category={}&lat={}&lon={}",
                a.s.category("spielplatz").id,
                near.0,
                near.1
            ),
        )
        .await;
    assert!(none.contains("keine offenen Meldungen"));

    // The form without "report anyway": the hint, nothing stored.
    let before = a.reports().await;
    let r = send(
        &a,
        &c,
        Post::new(&a, "winterdienst", near).without("trotzdem"),
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Schon gemeldet?"));
    assert!(html.contains(&format!("/maengel/{}/folgen", first.reference)));
    assert!(html.contains("Trotzdem neu melden"));
    assert!(html.contains("aria-describedby=\"f-trotzdem-error\""));
    assert!(html.contains("Folgen Sie einer davon"));
    assert_eq!(a.reports().await, before);
    // Ticked: stored.
    let r = send(&a, &c, Post::new(&a, "winterdienst", near)).await;
    token_of(&r);
    assert_eq!(a.reports().await, before + 1);
}

async fn post_with_csrf(
    a: &App,
    c: &Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    rathaus_testkit::post_form(c, &a.base, page, action, fields).await
}

fn link_in(body: &str, prefix: &str) -> String {
    let start = body.find(prefix).expect("link in mail");
    body[start..].split_whitespace().next().unwrap().to_string()
}

#[tokio::test]
async fn citizens_follow_confirm_and_unsubscribe_with_real_mail() {
    let smtpd = Smtpd::start();
    let a = app().await;
    let c = a.client();
    let r = submit(&a.s, "gully", INSIDE).await.report;
    let page = format!("/maengel/{}/folgen", r.reference);
    let (status, html) = a.get(&c, &page).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"email\""));

    // A wrong address: German message, nothing stored.
    let res = post_with_csrf(&a, &c, &page, &page, &[("email", "kein-at")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("field-error"));
    assert_eq!(
        follower::Entity::find()
            .filter(follower::Column::ReportId.eq(r.id))
            .count(&a.s.db.conn)
            .await
            .unwrap(),
        0
    );

    let res = post_with_csrf(&a, &c, &page, &page, &[("email", "max@example.org")]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Bestätigungslink"));
    assert!(smtpd.run_mail_jobs(&a.s.db).await >= 1);
    let mails = smtpd.messages();
    let mail = mails
        .iter()
        .find(|m| m.to.contains("max@example.org"))
        .expect("confirmation mail");
    let link = link_in(&mail.body, "http://");
    let path = link[link.find("/maengel/").expect("a Mängelmelder link")..].to_string();
    assert!(path.starts_with("/maengel/folgen/"), "{path}");
    let (status, html) = a.get(&c, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("Bestätigen"));
    let res = post_with_csrf(&a, &c, &path, &path, &[]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains(&r.reference));
    let f = follower::Entity::find()
        .filter(follower::Column::ReportId.eq(r.id))
        .one(&a.s.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert!(f.confirmed_at.is_some());

    let off = format!("{path}/abbestellen");
    assert_eq!(a.get(&c, &off).await.0, 200);
    let res = post_with_csrf(&a, &c, &off, &off, &[]).await;
    assert_eq!(res.status(), 200);
    let f = follower::Entity::find_by_id(f.id)
        .one(&a.s.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert!(f.unsubscribed_at.is_some());
    assert_eq!(a.get(&c, "/maengel/folgen/unbekannt").await.0, 404);

    // Follow requests from one address are limited (each may send a mail).
    let flood = a.client();
    for i in 0..rathaus_reports::http::pages::public::FOLLOW_LIMIT {
        let email = format!("flut{i}@example.org");
        let res = post_with_csrf(&a, &flood, &page, &page, &[("email", email.as_str())]).await;
        assert_eq!(res.status(), 200, "follow request {i}");
    }
    let res = post_with_csrf(&a, &flood, &page, &page, &[("email", "x@example.org")]).await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("sehr viele Anfragen"));
    // Without the CSRF token: refused.
    let res = c
        .post(format!("{}{off}", a.base))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn list_geojson_and_atom_show_published_reports_without_personal_data() {
    let a = app().await;
    let c = a.client();
    let payload = solved_payload(&a, &c).await;
    let r = send(
        &a,
        &c,
        Post::new(&a, "muell", INSIDE)
            .set("altcha", &payload)
            .set("name", "Erika Mustermann")
            .set("email", "erika.mustermann@example.org")
            .set("phone", "0201 555 1234"),
    )
    .await;
    let rep = a.report_by_token(&token_of(&r)).await;
    assert_eq!(rep.moderation, service::PUBLISHED);
    let pending = submit(&a.s, "muell", OUTSIDE_OK).await.report;
    service::moderate(
        &a.s.db.conn,
        a.s.st(),
        rathaus_store::uow::Actor::User(&a.s.moderator),
        a.s.moderator.tenant_id,
        ReportId(pending.id),
        service::Moderation {
            publish: Some(false),
            public_description: None,
        },
    )
    .await
    .unwrap();

    let bbox = "/maengel/karte.geojson?bbox=7.0,51.3,7.4,51.5";
    let mut pages = vec![];
    for path in [
        "/maengel".to_string(),
        format!(
            "/maengel?kategorie={}&status=offen",
            a.s.category("muell").id
        ),
        format!("/maengel/{}", rep.reference),
        bbox.to_string(),
        "/maengel/feed.atom".to_string(),
    ] {
        let (status, body) = a.get(&c, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(&rep.reference), "{path} shows the report");
        assert!(
            !body.contains(&pending.reference),
            "{path} hides the hidden report"
        );
        for secret in ["Mustermann", "erika.mustermann", "555 1234"] {
            assert!(!body.contains(secret), "{path} leaks {secret}");
        }
        pages.push(body);
    }
    // GeoJSON: a FeatureCollection of points with the documented properties.
    let gj: serde_json::Value = serde_json::from_str(&pages[3]).unwrap();
    assert_eq!(gj["type"], "FeatureCollection");
    let f = gj["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["reference"] == rep.reference.as_str())
        .unwrap();
    assert_eq!(f["geometry"]["type"], "Point");
    assert_eq!(f["properties"]["category"], "Illegale Müllablagerung");
    assert_eq!(f["properties"]["status_label"], "Neu");
    assert_eq!(
        f["properties"]["url"],
        format!("/maengel/{}", rep.reference)
    );
    // Outside the viewport: not there.
    let (_, far) = a
        .get(&c, "/maengel/karte.geojson?bbox=10.0,50.0,10.1,50.1")
        .await;
    assert!(!far.contains(&rep.reference));
    // Bad bboxes: 400 problem documents.
    for bad in [
        "",
        "?bbox=1,2,3",
        "?bbox=7,91,8,92",
        "?bbox=a,b,c,d",
        "?bbox=8,51,7,52",
    ] {
        let res = c
            .get(format!("{}/maengel/karte.geojson{bad}", a.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    // Atom: well-formed, with entries and GeoRSS points.
    let mut reader = quick_xml::Reader::from_str(&pages[4]);
    let mut entries = 0;
    loop {
        match reader.read_event().expect("well-formed Atom") {
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"entry" => entries += 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert!(entries >= 2, "demo reports and ours");
    assert!(pages[4].contains("<georss:point>"));
    let (_, by_cat) = a
        .get(
            &c,
            &format!(
                "/maengel/feed.atom?category={}",
                a.s.category("spielplatz").id
            ),
        )
        .await;
    assert!(!by_cat.contains(&rep.reference));

    // Filters: a bad date is a German message next to the field.
    let (status, html) = a.get(&c, "/maengel?von=gestern").await;
    assert_eq!(status, 422);
    assert!(html.contains("Bitte ein Datum im Format JJJJ-MM-TT."));
    let (_, closed) = a.get(&c, "/maengel?status=erledigt").await;
    assert!(!closed.contains(&rep.reference));
    let (_, future) = a.get(&c, "/maengel?von=2099-01-01").await;
    assert!(!future.contains(&rep.reference));
}

#[tokio::test]
async fn both_map_plans_find_the_same_newest_reports() {
    let a = app().await;
    for (code, pos) in [
        ("gully", INSIDE),
        ("muell", OUTSIDE_OK),
        ("gully", OUTSIDE_OK),
        ("spielplatz", INSIDE),
    ] {
        submit(&a.s, code, pos).await;
    }
    let conn = &a.s.db.conn;
    let t = a.s.tenant();
    let gully = Some(a.s.category("gully").id);
    for (bbox, category, status) in [
        ("7.0,51.3,7.4,51.5", None, ""),
        ("7.0,51.3,7.4,51.5", gully, "open"),
        ("7.0,51.3,7.4,51.5", None, "closed"),
        ("7.19,51.396,7.192,51.397", None, ""),
        ("10.0,50.0,10.1,50.1", None, ""),
    ] {
        let sparse = viewport_references(conn, t, bbox, category, status, 1_000_000)
            .await
            .unwrap();
        let dense = viewport_references(conn, t, bbox, category, status, 1)
            .await
            .unwrap();
        assert_eq!(sparse, dense, "{bbox} {category:?} {status}");
    }
    let all = viewport_references(conn, t, "7.0,51.3,7.4,51.5", None, "", 1)
        .await
        .unwrap();
    assert!(all.len() >= 9, "{all:?}");
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(all, sorted, "newest first");
}

#[tokio::test]
async fn map_cells_agree_in_rust_and_sql_and_lose_no_report_on_a_cell_border() {
    use sea_orm::{ConnectionTrait, Statement};
    let a = app().await;
    // Positions around `INSIDE`, some exactly on (or a rounding away from) cell borders.
    let border = |v: f64| (v / 0.002).round() * 0.002;
    let (lat0, lon0) = (border(INSIDE.0), border(INSIDE.1));
    let mut positions = vec![(lat0, lon0), (lat0, lon0 + 0.002), (lat0 - 0.002, lon0)];
    for i in -2..=2 {
        for j in -2..=2 {
            positions.push((
                INSIDE.0 + f64::from(i) * 0.0007,
                INSIDE.1 + f64::from(j) * 0.0011,
            ));
        }
    }
    for p in &positions {
        submit(&a.s, "gully", *p).await;
    }
    let conn = &a.s.db.conn;
    let backend = conn.get_database_backend();
    let differ = conn
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT COUNT(*) FROM reports_reports WHERE cell <> {}",
                rathaus_reports::store::migrations::cell_expr(backend)
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(differ, 0, "the migration computes the cells as Rust does");
    let rows = report::Entity::find().all(conn).await.unwrap();
    // Boxes whose edges lie on cell borders and inside cells: the map finds exactly the
    // reports inside (newest first), as a scan of every row does.
    for (dlat, dlon) in [(0.0, 0.0), (0.0004, -0.0003), (-0.0011, 0.0016)] {
        for size in [0.002, 0.0035, 0.006] {
            let b = (
                lon0 + dlon - size,
                lat0 + dlat - size,
                lon0 + dlon + size,
                lat0 + dlat + size,
            );
            let bbox = format!("{},{},{},{}", b.0, b.1, b.2, b.3);
            let found = viewport_references(conn, a.s.tenant(), &bbox, None, "", 1_000_000)
                .await
                .unwrap();
            let expected = newest_published_in(&rows, b);
            assert!(!expected.is_empty(), "{bbox}");
            assert_eq!(found, expected, "{bbox}");
        }
    }
}

#[tokio::test]
async fn a_crowded_cell_viewport_shows_the_newest_500_across_time_windows() {
    use sea_orm::{ActiveValue::NotSet, IntoActiveModel, Set};
    let a = app().await;
    let first = submit(&a.s, "gully", INSIDE).await.report;
    // 700 more reports in the same spot, received over four years: only some fall in the
    // newest window, so the map must look further back to fill its 500.
    let now = chrono::Utc::now();
    let many: Vec<report::ActiveModel> = (0..700i64)
        .map(|i| {
            let mut m = first.clone().into_active_model();
            m.id = NotSet;
            m.reference = Set(format!("M-T-{i:06}"));
            m.status_token_hash = Set(format!("{i:064}"));
            m.created_at = Set(now - chrono::Duration::days((i * 37) % 1460));
            m.lat = Set(INSIDE.0 + (i % 7) as f64 * 0.0001);
            m
        })
        .collect();
    for chunk in many.chunks(100) {
        report::Entity::insert_many(chunk.to_vec())
            .exec(&a.s.db.conn)
            .await
            .unwrap();
    }
    let conn = &a.s.db.conn;
    let rows = report::Entity::find().all(conn).await.unwrap();
    let b = (
        INSIDE.1 - 0.003,
        INSIDE.0 - 0.003,
        INSIDE.1 + 0.003,
        INSIDE.0 + 0.003,
    );
    let bbox = format!("{},{},{},{}", b.0, b.1, b.2, b.3);
    let found = viewport_references(conn, a.s.tenant(), &bbox, None, "", 1)
        .await
        .unwrap();
    let inside = newest_published_in(&rows, b);
    assert!(inside.len() > 600, "{}", inside.len());
    let expected: Vec<String> = inside.into_iter().take(500).collect();
    assert_eq!(found, expected);
}

/// The references of the published reports in box `b` (min lon, min lat, max lon, max lat),
/// newest first: what the map must show, computed without the database.
fn newest_published_in(rows: &[report::Model], b: (f64, f64, f64, f64)) -> Vec<String> {
    let mut inside: Vec<&report::Model> = rows
        .iter()
        .filter(|r| r.moderation == service::PUBLISHED)
        .filter(|r| (b.1..=b.3).contains(&r.lat) && (b.0..=b.2).contains(&r.lon))
        .collect();
    inside.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
    inside.iter().map(|r| r.reference.clone()).collect()
}

/// Inside the demo boundary, away from `INSIDE`.
const OUTSIDE_OK: (f64, f64) = (51.3975, 7.1925);

#[tokio::test]
async fn the_list_pages_by_keyset() {
    let a = app().await;
    let c = a.client();
    for _ in 0..30 {
        submit(&a.s, "sonstiges", INSIDE).await;
    }
    let (_, first) = a.get(&c, "/maengel").await;
    let next = first
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(next.starts_with("/maengel?nach="), "{next}");
    let (status, second) = a.get(&c, &next).await;
    assert_eq!(status, 200);
    let refs = |html: &str| -> Vec<String> {
        html.match_indices("<strong><a href=\"/maengel/M-")
            .map(|(i, _)| html[i + 26..i + 26 + 15].to_string())
            .collect()
    };
    let (a1, a2) = (refs(&first), refs(&second));
    assert_eq!(a1.len(), 25);
    assert!(!a2.is_empty());
    assert!(a1.iter().all(|r| !a2.contains(r)), "pages do not overlap");
    assert!(second.contains("Zur ersten Seite"));
}

#[tokio::test]
async fn photos_are_public_only_when_published_and_not_hidden() {
    let a = app().await;
    let c = a.client();
    let payload = solved_payload(&a, &c).await;
    let r = send(
        &a,
        &c,
        Post::new(&a, "spielplatz", INSIDE)
            .set("altcha", &payload)
            .photo(jpeg(120, 90), "a.jpg")
            .photo(jpeg(90, 120), "b.jpg"),
    )
    .await;
    let token = token_of(&r);
    let rep = a.report_by_token(&token).await;
    assert_eq!(a.s.clean_photos().await, 2);
    let ids: Vec<i64> = service::photos_of(&a.s.db.conn, a.s.tenant(), ReportId(rep.id), true)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids.len(), 2);
    let full = format!("/maengel/fotos/{}.jpg", ids[0]);
    let res = c.get(format!("{}{full}", a.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("public")
    );
    let res = c
        .get(format!("{}{full}", a.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(
        a.get(&c, &format!("/maengel/fotos/{}/klein.jpg", ids[0]))
            .await
            .0,
        200
    );

    // A moderator hides the second: 404 for the public, also through the status link.
    service::set_photo_hidden(
        &a.s.db.conn,
        a.s.st(),
        rathaus_store::uow::Actor::User(&a.s.moderator),
        a.s.moderator.tenant_id,
        PhotoId(ids[1]),
        true,
    )
    .await
    .unwrap();
    for path in [
        format!("/maengel/fotos/{}.jpg", ids[1]),
        format!("/maengel/fotos/{}/klein.jpg", ids[1]),
        format!("/maengel/status/{token}/fotos/{}.jpg", ids[1]),
        "/maengel/fotos/999999.jpg".to_string(),
        "/maengel/fotos/abc.jpg".to_string(),
    ] {
        assert_eq!(a.get(&c, &path).await.0, 404, "{path}");
    }
    let (_, detail) = a.get(&c, &format!("/maengel/{}", rep.reference)).await;
    assert!(detail.contains(&format!("/maengel/fotos/{}/klein.jpg", ids[0])));
    assert!(!detail.contains(&format!("/maengel/fotos/{}/klein.jpg", ids[1])));
    // Staff who moderate still see it.
    let staff = signed_in(&a.app, HOST, &a.base, &a.s.moderator.email).await;
    assert_eq!(
        staff
            .get(format!("{}/maengel/fotos/{}.jpg", a.base, ids[1]))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // A citizen without permissions (the clerk) does not.
    let clerk = signed_in(&a.app, HOST, &a.base, &a.s.f.clerk_email).await;
    assert_eq!(
        clerk
            .get(format!("{}/maengel/fotos/{}.jpg", a.base, ids[1]))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // A report waiting for moderation: photos only through its status link.
    let r = send(
        &a,
        &c,
        Post::new(&a, "spielplatz", OUTSIDE_OK).photo(jpeg(50, 50), "c.jpg"),
    )
    .await;
    let token = token_of(&r);
    let rep = a.report_by_token(&token).await;
    assert_eq!(rep.moderation, service::PENDING);
    assert_eq!(a.s.clean_photos().await, 1);
    let pid = service::photos_of(&a.s.db.conn, a.s.tenant(), ReportId(rep.id), true)
        .await
        .unwrap()[0]
        .id;
    assert_eq!(a.get(&c, &format!("/maengel/fotos/{pid}.jpg")).await.0, 404);
    assert_eq!(
        a.get(
            &c,
            &format!("/maengel/status/{token}/fotos/{pid}-klein.jpg")
        )
        .await
        .0,
        200
    );
    assert_eq!(
        a.get(&c, &format!("/maengel/status/falsch/fotos/{pid}.jpg"))
            .await
            .0,
        404
    );
}

/// Every route of the citizens' side answers anonymous visitors (no login redirect, no server
/// error); every POST needs the CSRF token.
#[tokio::test]
async fn route_inventory() {
    let a = app().await;
    let c = a.client();
    let r = submit(&a.s, "gully", INSIDE).await;
    let cat = a.s.category("gully").id;
    let gets = [
        "/maengel".to_string(),
        "/maengel/melden".into(),
        "/maengel/danke".into(),
        "/maengel/altcha".into(),
        "/maengel/adressen?q=Markt".into(),
        format!("/maengel/in-der-naehe?category={cat}&lat=51.3962&lon=7.191"),
        format!("/maengel/status/{}", r.status_token),
        format!("/maengel/{}", r.report.reference),
        format!("/maengel/{}/folgen", r.report.reference),
        "/maengel/karte.geojson?bbox=7,51,8,52".into(),
        "/maengel/feed.atom".into(),
    ];
    for path in &gets {
        let (status, _) = a.get(&c, path).await;
        assert_eq!(status, 200, "GET {path}");
    }
    for path in [
        "/maengel/M-1999-000001",
        "/maengel/M-1999-000001/folgen",
        "/maengel/folgen/xyz",
        "/maengel/folgen/xyz/abbestellen",
        "/maengel/status/xyz",
    ] {
        assert_eq!(a.get(&c, path).await.0, 404, "GET {path}");
    }
    for path in [
        "/maengel/melden".to_string(),
        format!("/maengel/{}/folgen", r.report.reference),
        "/maengel/folgen/xyz".into(),
        "/maengel/folgen/xyz/abbestellen".into(),
    ] {
        let res = c
            .post(format!("{}{path}", a.base))
            .form(&[("email", "a@example.org")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "POST {path} without CSRF");
    }
}
