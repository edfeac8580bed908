//! Open311 GeoReport v2 at /open311/v2 (issue 3, items 12–15): every endpoint in JSON and XML
//! over HTTP against the app as the binary mounts it, the spec's errors for bad input with
//! nothing stored, no personal data in any answer, moderation tokens, the rate limit, and an
//! outside client (the Python package `georeport`). SQLite by default; PostgreSQL with
//! RATHAUS_TEST_DATABASE_URL.

use crate::common;

use common::{INSIDE, OUTSIDE, Setup, setup, spawn_app};
use rathaus_reports::service::{self, ApiKeyId, Change, Moderation, ReportId, SettingsInput};
use rathaus_reports::store::entity::report;
use rathaus_testkit::TestApp;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

const HOST: &str = "rathaus.a.test";

struct Api {
    s: Setup,
    app: TestApp,
    c: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}/open311/v2/{path}", self.base)
    }

    async fn get(&self, path: &str) -> (u16, String, String) {
        let r = self.c.get(self.url(path)).send().await.expect("get");
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        (status, ct, r.text().await.expect("body"))
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .c
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("post");
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> (u16, String) {
        let r = self
            .c
            .post(self.url(path))
            .multipart(form)
            .send()
            .await
            .expect("post");
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    async fn count(&self) -> u64 {
        report::Entity::find()
            .count(&self.s.db.conn)
            .await
            .expect("count")
    }
}

async fn api_with_rate(rate: i32) -> Api {
    let mut s = setup().await;
    let (_, key) = rathaus_reports::service::keys::create(
        &s.db.conn,
        rathaus_store::uow::Actor::system("test"),
        s.tenant(),
        "Test-App",
        rate,
    )
    .await
    .expect("key");
    let app = spawn_app(&mut s, rathaus_web::WebConfig::default()).await;
    let c = app.client(&[HOST]);
    let base = app.url(HOST, "");
    Api {
        s,
        app,
        c,
        base,
        key,
    }
}

async fn api() -> Api {
    api_with_rate(10_000).await
}

/// Parses the whole document (well-formed or panic) and returns the root element's name.
fn xml_root(xml: &str) -> String {
    use quick_xml::events::Event;
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    let mut r = quick_xml::Reader::from_str(xml);
    r.config_mut().check_end_names = true;
    let mut root = None;
    let mut depth = 0i32;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    assert!(root.is_none(), "two root elements: {xml}");
                    root = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
                depth += 1;
            }
            Ok(Event::Empty(e)) => {
                if depth == 0 {
                    root = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Text(t)) => {
                t.decode().expect("text decodes");
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed ({e}): {xml}"),
        }
    }
    assert_eq!(depth, 0, "unclosed elements: {xml}");
    root.expect("a root element")
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn array(body: &str) -> Vec<Value> {
    match json(body) {
        Value::Array(a) => a,
        other => panic!("not a top-level array: {other}"),
    }
}

/// The spec's error list: (code, description) pairs, from JSON.
fn spec_errors(body: &str) -> Vec<(u64, String)> {
    array(body)
        .into_iter()
        .map(|e| {
            (
                e["code"].as_u64().expect("code"),
                e["description"].as_str().expect("description").to_string(),
            )
        })
        .collect()
}

fn valid_post<'a>(a: &'a Api, description: &'a str) -> Vec<(&'a str, String)> {
    vec![
        ("api_key", a.key.clone()),
        ("service_code", "strassenschaden".into()),
        ("lat", INSIDE.0.to_string()),
        ("long", INSIDE.1.to_string()),
        ("description", description.into()),
        ("attribute[art]", "schlagloch".into()),
    ]
}

fn as_refs<'a>(v: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// POSTs a valid request; returns its service_request_id.
async fn post_valid(a: &Api, description: &str) -> String {
    let form = valid_post(a, description);
    let (status, body) = a.post("requests.json", &as_refs(&form)).await;
    assert_eq!(status, 200, "{body}");
    let list = array(&body);
    assert_eq!(list.len(), 1);
    list[0]["service_request_id"]
        .as_str()
        .expect("service_request_id")
        .to_string()
}

fn small_jpeg() -> Vec<u8> {
    let rgb: Vec<u8> = (0..32 * 24)
        .flat_map(|i| [(i % 256) as u8, 120, 200])
        .collect();
    rathaus_store::images::jpeg_from_rgb(&rgb, 32, 24, 85).expect("jpeg")
}

// ---------------------------------------------------------------- every endpoint, both formats

#[tokio::test]
async fn every_endpoint_answers_in_json_and_xml() {
    let a = api().await;
    let id = post_valid(&a, "Tiefes Schlagloch am Marktplatz").await;
    let report = service::by_reference(&a.s.db.conn, a.s.tenant(), &id)
        .await
        .unwrap();
    service::change(
        &a.s.db.conn,
        a.s.st(),
        rathaus_store::uow::Actor::User(&a.s.handler),
        a.s.handler.tenant_id,
        ReportId(report.id),
        Change {
            status: Some(service::IN_PROGRESS.into()),
            public_reply: "Wird nächste Woche ausgebessert.".into(),
            base_url: a.base.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A held-back request for the tokens endpoint.
    service::update_settings(
        &a.s.db.conn,
        rathaus_store::uow::Actor::User(&a.s.manager),
        a.s.manager.tenant_id,
        SettingsInput {
            tile_url: String::new(),
            tile_attribution: String::new(),
            geocoder_url: String::new(),
            duplicate_radius_m: 50,
            answer_days: 3,
            moderate_all: true,
        },
    )
    .await
    .unwrap();
    let form = valid_post(&a, "Noch ein Schlagloch");
    let (status, body) = a.post("requests.xml", &as_refs(&form)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(xml_root(&body), "service_requests");
    assert!(body.contains("<token>"), "{body}");
    let token = body
        .split("<token>")
        .nth(1)
        .and_then(|t| t.split("</token>").next())
        .unwrap()
        .to_string();

    let cases: Vec<(String, &str, bool)> = vec![
        ("discovery".into(), "discovery", false),
        ("services".into(), "services", true),
        (
            "services/strassenschaden".into(),
            "service_definition",
            false,
        ),
        ("requests".into(), "service_requests", true),
        ("requests".into(), "service_requests", true),
        (format!("requests/{id}"), "service_requests", true),
        (format!("tokens/{token}"), "service_requests", true),
        (
            "servicerequestupdates".into(),
            "service_request_updates",
            true,
        ),
    ];
    for (path, root, list) in &cases {
        let (status, ct, body) = a.get(&format!("{path}.json")).await;
        assert_eq!(status, 200, "{path}.json: {body}");
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        let v = json(&body);
        assert_eq!(v.is_array(), *list, "{path}.json: {body}");
        let (status, ct, body) = a.get(&format!("{path}.xml")).await;
        assert_eq!(status, 200, "{path}.xml: {body}");
        assert!(ct.starts_with("text/xml"), "{path}: {ct}");
        assert_eq!(xml_root(&body), *root, "{path}.xml");
    }

    // Contents.
    let (_, _, body) = a.get("discovery.json").await;
    let d = json(&body);
    assert_eq!(
        d["endpoints"][0]["url"],
        format!("{}/open311/v2", a.base).as_str()
    );
    let (_, _, body) = a.get("services.json").await;
    let services = array(&body);
    assert_eq!(services.len(), 9, "{body}");
    let s = services
        .iter()
        .find(|s| s["service_code"] == "strassenschaden")
        .unwrap();
    assert_eq!(s["service_name"], "Straßenschaden/Schlagloch");
    assert_eq!(s["metadata"], true);
    assert_eq!(s["group"], "Straße und Verkehr");
    let (_, _, body) = a.get("services/strassenschaden.json").await;
    let def = json(&body);
    assert_eq!(def["attributes"][0]["code"], "art");
    assert_eq!(def["attributes"][0]["description"], "Art des Schadens");
    assert_eq!(def["attributes"][0]["datatype"], "singlevaluelist");
    assert_eq!(def["attributes"][0]["values"][0]["key"], "schlagloch");

    let (_, _, body) = a.get(&format!("requests/{id}.json")).await;
    let one = array(&body);
    assert_eq!(one.len(), 1);
    let r = &one[0];
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["status_notes"], "Wird nächste Woche ausgebessert.");
    assert_eq!(r["service_code"], "strassenschaden");
    assert_eq!(r["agency_responsible"], "Bauhof");
    assert_eq!(r["description"], "Tiefes Schlagloch am Marktplatz");
    assert_eq!(r["expected_datetime"], Value::Null);
    assert!((r["lat"].as_f64().unwrap() - INSIDE.0).abs() < 1e-9);
    let dt = r["requested_datetime"].as_str().unwrap();
    assert!(
        dt.ends_with("+01:00") || dt.ends_with("+02:00"),
        "ISO 8601 with offset: {dt}"
    );
    assert!(r.get("extended_attributes").is_none());

    let (_, _, body) = a.get("servicerequestupdates.json").await;
    let updates = array(&body);
    let u = updates
        .iter()
        .find(|u| u["service_request_id"] == id.as_str())
        .expect("the reply is in the feed");
    assert_eq!(u["status"], "IN_PROGRESS");
    assert_eq!(u["external_status_code"], "in_progress");
    assert_eq!(u["description"], "Wird nächste Woche ausgebessert.");
    // Newest last.
    let times: Vec<&str> = updates
        .iter()
        .map(|u| u["updated_datetime"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
}

#[tokio::test]
async fn post_accepts_the_key_in_the_query_and_photos_as_multipart() {
    let a = api().await;
    // api_key in the query string.
    let (status, body) = a
        .post(
            &format!("requests.json?api_key={}", a.key),
            &[
                ("service_code", "beleuchtung"),
                ("lat", &INSIDE.0.to_string()),
                ("long", &INSIDE.1.to_string()),
                ("description", "Laterne flackert"),
                ("attribute[mast]", "A-17"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = array(&body)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("M-"), "{id}");
    let r = service::by_reference(&a.s.db.conn, a.s.tenant(), &id)
        .await
        .unwrap();
    assert_eq!(r.source, "open311");
    assert!(r.api_key_id.is_some());
    assert!(r.attributes.contains("A-17"));

    // Address instead of coordinates (street directory).
    let (status, body) = a
        .post(
            "requests.json",
            &[
                ("api_key", &a.key),
                ("service_code", "muell"),
                ("address_string", "Marktstraße 10"),
                ("description", "Sperrmüll am Straßenrand"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Multipart with a photo: media_url is the first public photo.
    let form = reqwest::multipart::Form::new()
        .text("api_key", a.key.clone())
        .text("service_code", "gully")
        .text("lat", INSIDE.0.to_string())
        .text("long", INSIDE.1.to_string())
        .text("description", "Gully verstopft")
        .part(
            "media",
            reqwest::multipart::Part::bytes(small_jpeg())
                .file_name("gully.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let (status, body) = a.post_multipart("requests.xml", form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(xml_root(&body), "service_requests");
    let id = body
        .split("<service_request_id>")
        .nth(1)
        .and_then(|t| t.split("</service_request_id>").next())
        .unwrap()
        .to_string();
    // The photo is listed once it has been re-encoded in the background.
    let (_, _, body) = a.get(&format!("requests/{id}.json?extensions=true")).await;
    assert!(
        array(&body)[0].get("media_url").is_none_or(|m| m.is_null()),
        "{body}"
    );
    assert_eq!(a.s.clean_photos().await, 1);
    let (_, _, body) = a.get(&format!("requests/{id}.json?extensions=true")).await;
    let r = &array(&body)[0];
    let media = r["media_url"].as_str().expect("media_url");
    assert!(
        media.starts_with(&format!("{}/maengel/fotos/", a.base)) && media.ends_with(".jpg"),
        "{media}"
    );
    let x = &r["extended_attributes"];
    assert_eq!(x["reference"], id.as_str());
    assert_eq!(x["detailed_status"], "new");
    assert_eq!(x["detailed_status_name"], "Neu");
    assert_eq!(x["group"], "Sauberkeit und Umwelt");
    assert_eq!(x["media_urls"][0], media);
    let (_, _, xml) = a.get(&format!("requests/{id}.xml?extensions=true")).await;
    assert_eq!(xml_root(&xml), "service_requests");
    assert!(xml.contains("<extended_attributes><reference>"), "{xml}");

    // A photo of several megabytes passes the route's body limit (the platform's default
    // is 2 MB).
    let mut seed = 0x2545_f491_u32;
    let noise: Vec<u8> = (0..1600 * 1200 * 3)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed >> 24) as u8
        })
        .collect();
    let big = rathaus_store::images::jpeg_from_rgb(&noise, 1600, 1200, 95).unwrap();
    assert!(big.len() > 2_500_000, "{}", big.len());
    let form = reqwest::multipart::Form::new()
        .text("api_key", a.key.clone())
        .text("service_code", "gully")
        .text("lat", INSIDE.0.to_string())
        .text("long", INSIDE.1.to_string())
        .text("description", "Gully, großes Foto")
        .part(
            "media",
            reqwest::multipart::Part::bytes(big)
                .file_name("gross.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let (status, body) = a.post_multipart("requests.json", form).await;
    assert_eq!(status, 200, "{body}");
}

// ---------------------------------------------------------------- bad input

/// (what, fields replacing the valid ones, expected code, text the description contains)
type BadCase<'a> = (&'a str, Vec<(&'a str, String)>, u16, &'a str);

#[tokio::test]
async fn bad_input_gets_the_spec_error_and_stores_nothing() {
    let a = api().await;
    let (_, revoked) = rathaus_reports::service::keys::create(
        &a.s.db.conn,
        rathaus_store::uow::Actor::system("test"),
        a.s.tenant(),
        "Alt",
        100,
    )
    .await
    .unwrap();
    let keys = rathaus_reports::service::keys::list(
        &a.s.db.conn,
        rathaus_store::uow::Actor::User(&a.s.manager),
        a.s.tenant(),
    )
    .await
    .unwrap();
    let old = keys.iter().find(|k| k.name == "Alt").unwrap();
    rathaus_reports::service::keys::revoke(
        &a.s.db.conn,
        rathaus_store::uow::Actor::User(&a.s.manager),
        a.s.tenant(),
        ApiKeyId(old.id),
    )
    .await
    .unwrap();

    let long = "x".repeat(5_000);
    let cases: Vec<BadCase> = vec![
        (
            "unknown service_code",
            vec![("service_code", "gibtsnicht".into())],
            404,
            "service_code",
        ),
        (
            "wrong api_key",
            vec![("api_key", "r311_falsch".into())],
            403,
            "api_key",
        ),
        (
            "missing api_key",
            vec![("api_key", String::new())],
            403,
            "api_key",
        ),
        (
            "revoked api_key",
            vec![("api_key", revoked.clone())],
            403,
            "api_key",
        ),
        ("latitude 91", vec![("lat", "91".into())], 400, "lat"),
        (
            "outside the boundary",
            vec![
                ("lat", OUTSIDE.0.to_string()),
                ("long", OUTSIDE.1.to_string()),
            ],
            400,
            "außerhalb des Gemeindegebiets",
        ),
        (
            "5,000 characters of description",
            vec![("description", long.clone())],
            400,
            "description",
        ),
        (
            "HTML in the description",
            vec![("description", "<script>alert(1)</script> Loch".into())],
            400,
            "HTML",
        ),
        (
            "attribute value not in the list",
            vec![("attribute[art]", "vulkan".into())],
            400,
            "attribute[art]",
        ),
        (
            "unknown jurisdiction_id",
            vec![("jurisdiction_id", "andere-stadt".into())],
            404,
            "jurisdiction_id",
        ),
        (
            "no location",
            vec![("lat", String::new()), ("long", String::new())],
            400,
            "lat/long",
        ),
    ];
    let before = a.count().await;
    for (name, overrides, code, needle) in &cases {
        let mut form = valid_post(&a, "Schlagloch");
        for (k, v) in overrides {
            form.retain(|(fk, _)| fk != k);
            form.push((k, v.clone()));
        }
        for fmt in ["json", "xml"] {
            let (status, body) = a.post(&format!("requests.{fmt}"), &as_refs(&form)).await;
            assert_eq!(status, *code, "{name} ({fmt}): {body}");
            if fmt == "json" {
                let errs = spec_errors(&body);
                assert!(!errs.is_empty(), "{name}");
                assert!(
                    errs.iter()
                        .any(|(c, d)| *c == u64::from(*code) && d.contains(needle)),
                    "{name}: {body}"
                );
            } else {
                assert_eq!(xml_root(&body), "errors", "{name}");
                assert!(body.contains(&format!("<code>{code}</code>")), "{body}");
            }
        }
    }
    // All problems at once.
    let (status, body) = a
        .post(
            "requests.json",
            &[
                ("api_key", &a.key),
                ("service_code", "strassenschaden"),
                ("lat", "91"),
                ("long", "7"),
                ("description", &long),
            ],
        )
        .await;
    assert_eq!(status, 400);
    let errs = spec_errors(&body);
    assert!(errs.len() >= 2, "{body}");

    // A PDF as media.
    let form = reqwest::multipart::Form::new()
        .text("api_key", a.key.clone())
        .text("service_code", "gully")
        .text("lat", INSIDE.0.to_string())
        .text("long", INSIDE.1.to_string())
        .text("description", "Gully verstopft")
        .part(
            "media",
            reqwest::multipart::Part::bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n".to_vec())
                .file_name("foto.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let (status, body) = a.post_multipart("requests.json", form).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        spec_errors(&body)
            .iter()
            .any(|(_, d)| d.starts_with("media:")),
        "{body}"
    );
    assert_eq!(a.count().await, before, "nothing stored");

    // GET errors.
    let gets: Vec<(&str, u16, &str)> = vec![
        ("requests.json?start_date=gestern", 400, "start_date"),
        ("requests.json?start_date=2026-01-01", 400, "start_date"),
        ("requests.json?page_size=100000", 400, "page_size"),
        ("requests.json?status=kaputt", 400, "status"),
        ("requests.json?bbox=1,2,3", 400, "bbox"),
        ("requests.json?service_code=gibtsnicht", 404, "service_code"),
        (
            "requests.json?jurisdiction_id=andere",
            404,
            "jurisdiction_id",
        ),
        ("requests/M-2026-999999.json", 404, "service_request_id"),
        ("tokens/unbekannt.json", 404, "token"),
        ("services/gibtsnicht.json", 404, "service_code"),
        ("servicerequestupdates.json?start_date=x", 400, "start_date"),
        ("gibtsnicht.json", 404, "Ressource"),
        ("requests.csv", 400, "format"),
        ("requests", 400, "format"),
    ];
    for (path, code, needle) in gets {
        let (status, ct, body) = a.get(path).await;
        assert_eq!(status, code, "{path}: {body}");
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        assert!(
            spec_errors(&body).iter().any(|(_, d)| d.contains(needle)),
            "{path}: {body}"
        );
        let xml_path = path.replacen(".json", ".xml", 1);
        if xml_path != path {
            let (status, _, body) = a.get(&xml_path).await;
            assert_eq!(status, code, "{xml_path}");
            assert_eq!(xml_root(&body), "errors", "{xml_path}");
        }
    }
}

// ---------------------------------------------------------------- personal data

#[tokio::test]
async fn personal_data_never_appears() {
    let a = api().await;
    let mut form = valid_post(&a, "Loch vor Hausnummer 3, Erika Mustermann ruft an");
    form.extend([
        ("first_name", "Erika".to_string()),
        ("last_name", "Mustermann".to_string()),
        ("email", "erika.mustermann@example.org".to_string()),
        ("phone", "+49 2302 123456".to_string()),
    ]);
    let (status, body) = a.post("requests.json", &as_refs(&form)).await;
    assert_eq!(status, 200, "{body}");
    let id = array(&body)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = service::by_reference(&a.s.db.conn, a.s.tenant(), &id)
        .await
        .unwrap();
    assert_eq!(r.reporter_name, "Erika Mustermann");
    assert_eq!(r.reporter_email, "erika.mustermann@example.org");
    // Moderation removes the name from the public text; the original stays internal.
    service::moderate(
        &a.s.db.conn,
        a.s.st(),
        rathaus_store::uow::Actor::User(&a.s.moderator),
        a.s.moderator.tenant_id,
        ReportId(r.id),
        Moderation {
            publish: Some(true),
            public_description: Some("Loch vor Hausnummer 3".into()),
        },
    )
    .await
    .unwrap();
    service::change(
        &a.s.db.conn,
        a.s.st(),
        rathaus_store::uow::Actor::User(&a.s.handler),
        a.s.handler.tenant_id,
        ReportId(r.id),
        Change {
            status: Some(service::DONE.into()),
            public_reply: "Erledigt.".into(),
            internal_note: "Rückruf bei Frau Mustermann, 2302 123456".into(),
            base_url: a.base.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for path in [
        "requests",
        "requests",
        "servicerequestupdates",
        &format!("requests/{id}"),
    ] {
        for q in ["", "?extensions=true", "?status=closed&extensions=true"] {
            for fmt in ["json", "xml"] {
                let (status, _, body) = a.get(&format!("{path}.{fmt}{q}")).await;
                assert_eq!(status, 200, "{path}");
                for secret in ["Erika", "Mustermann", "example.org", "123456", "2302"] {
                    assert!(!body.contains(secret), "{path}.{fmt}{q} shows {secret}");
                }
            }
        }
    }
    let (_, _, body) = a.get(&format!("requests/{id}.json")).await;
    assert_eq!(array(&body)[0]["description"], "Loch vor Hausnummer 3");
    assert_eq!(array(&body)[0]["status"], "closed");
}

// ---------------------------------------------------------------- moderation and tokens

#[tokio::test]
async fn held_back_request_answers_a_token_that_resolves_after_publishing() {
    let a = api().await;
    service::update_settings(
        &a.s.db.conn,
        rathaus_store::uow::Actor::User(&a.s.manager),
        a.s.manager.tenant_id,
        SettingsInput {
            tile_url: String::new(),
            tile_attribution: String::new(),
            geocoder_url: String::new(),
            duplicate_radius_m: 50,
            answer_days: 3,
            moderate_all: true,
        },
    )
    .await
    .unwrap();
    let form = valid_post(&a, "Schlagloch, wartet auf Moderation");
    let (status, body) = a.post("requests.json", &as_refs(&form)).await;
    assert_eq!(status, 200, "{body}");
    let answer = &array(&body)[0];
    assert!(answer.get("service_request_id").is_none(), "{body}");
    let token = answer["token"].as_str().expect("token").to_string();
    assert!(answer["service_notice"].as_str().is_some());

    let (status, _, body) = a.get(&format!("tokens/{token}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(array(&body)[0]["token"], token.as_str());
    assert_eq!(array(&body)[0]["service_request_id"], Value::Null);

    let r = report::Entity::find()
        .all(&a.s.db.conn)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.open311_token.as_deref() == Some(token.as_str()))
        .unwrap();
    // Not public while held back.
    let (status, _, _) = a.get(&format!("requests/{}.json", r.reference)).await;
    assert_eq!(status, 404);
    let (_, _, body) = a.get("requests.json").await;
    assert!(!body.contains(&r.reference));

    service::moderate(
        &a.s.db.conn,
        a.s.st(),
        rathaus_store::uow::Actor::User(&a.s.moderator),
        a.s.moderator.tenant_id,
        ReportId(r.id),
        Moderation {
            publish: Some(true),
            public_description: None,
        },
    )
    .await
    .unwrap();
    let (_, _, body) = a.get(&format!("tokens/{token}.json")).await;
    assert_eq!(array(&body)[0]["service_request_id"], r.reference.as_str());
    let (_, _, xml) = a.get(&format!("tokens/{token}.xml")).await;
    assert_eq!(xml_root(&xml), "service_requests");
    assert!(xml.contains(&format!(
        "<service_request_id>{}</service_request_id>",
        r.reference
    )));
    // The cache saw the write: the list shows it now.
    let (_, _, body) = a.get("requests.json").await;
    assert!(body.contains(&r.reference));
}

// ---------------------------------------------------------------- filters

#[tokio::test]
async fn get_requests_filters() {
    let a = api().await;
    let id1 = post_valid(&a, "Erstes Schlagloch").await;
    let form = vec![
        ("api_key", a.key.clone()),
        ("service_code", "beleuchtung".to_string()),
        ("lat", "51.397".to_string()),
        ("long", "7.192".to_string()),
        ("description", "Laterne aus".to_string()),
    ];
    let (status, body) = a.post("requests.json", &as_refs(&form)).await;
    assert_eq!(status, 200, "{body}");
    let id2 = array(&body)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r2 = service::by_reference(&a.s.db.conn, a.s.tenant(), &id2)
        .await
        .unwrap();
    service::change(
        &a.s.db.conn,
        a.s.st(),
        rathaus_store::uow::Actor::User(&a.s.handler),
        a.s.handler.tenant_id,
        ReportId(r2.id),
        Change {
            status: Some(service::DONE.into()),
            base_url: a.base.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let ids = |body: &str| -> Vec<String> {
        array(body)
            .iter()
            .map(|r| r["service_request_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, _, all) = a.get("requests.json").await;
    let all = ids(&all);
    assert!(all.contains(&id1) && all.contains(&id2));
    assert_eq!(all[0], id2, "newest first");

    let (_, _, b) = a.get("requests.json?status=open").await;
    assert!(ids(&b).contains(&id1) && !ids(&b).contains(&id2));
    let (_, _, b) = a.get("requests.json?status=closed").await;
    assert!(!ids(&b).contains(&id1) && ids(&b).contains(&id2));
    let (_, _, b) = a.get("requests.json?status=open,closed").await;
    assert_eq!(ids(&b), all);
    let (_, _, b) = a.get("requests.json?service_code=beleuchtung").await;
    assert!(ids(&b).contains(&id2) && !ids(&b).contains(&id1));
    assert!(array(&b).iter().all(|r| r["service_code"] == "beleuchtung"));
    let (_, _, b) = a
        .get("requests.json?service_code=beleuchtung,strassenschaden")
        .await;
    assert!(ids(&b).contains(&id1) && ids(&b).contains(&id2));
    let (_, _, b) = a
        .get(&format!(
            "requests.json?service_request_id={id1},{id2}&status=open"
        ))
        .await;
    assert_eq!(ids(&b).len(), 2, "ids override the other filters");
    let (_, _, b) = a
        .get("requests.json?start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00%2B01:00")
        .await;
    assert!(ids(&b).is_empty());
    let (_, _, b) = a.get("requests.json?start_date=2020-01-01T00:00:00Z").await;
    assert!(ids(&b).contains(&id1));
    let (_, _, b) = a
        .get("requests.json?bbox=7.1915,51.3965,7.1925,51.3975")
        .await;
    assert!(ids(&b).contains(&id2) && !ids(&b).contains(&id1), "{b}");
    let (_, _, b) = a.get("requests.json?page_size=1").await;
    assert_eq!(ids(&b), vec![all[0].clone()]);
    let (_, _, b) = a.get("requests.json?page_size=1&page=2").await;
    assert_eq!(ids(&b), vec![all[1].clone()]);
    // jurisdiction_id: empty is absent, the tenant's slug is accepted.
    let (status, _, b) = a.get("requests.json?jurisdiction_id=").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&b), all);
    let (status, _, _) = a.get("services.json?jurisdiction_id=a").await;
    assert_eq!(status, 200);
    let (status, _, _) = a.get("services.json?jurisdiction_id=b").await;
    assert_eq!(status, 404);
}

// ---------------------------------------------------------------- rate limit

#[tokio::test]
async fn rate_limit_answers_429_in_the_spec_format() {
    let a = api_with_rate(2).await;
    post_valid(&a, "Eins").await;
    post_valid(&a, "Zwei").await;
    let before = a.count().await;
    let form = valid_post(&a, "Drei");
    let (status, body) = a.post("requests.json", &as_refs(&form)).await;
    assert_eq!(status, 429, "{body}");
    assert!(spec_errors(&body)[0].1.contains("pro Minute"), "{body}");
    let (status, body) = a.post("requests.xml", &as_refs(&form)).await;
    assert_eq!(status, 429);
    assert_eq!(xml_root(&body), "errors");
    assert_eq!(a.count().await, before);
}

// ---------------------------------------------------------------- route inventory

/// Every Open311 route: the GET endpoints are public by the spec (no session, no key), POST
/// needs a key; a signed-in staff member without a key gets no further.
#[tokio::test]
async fn route_inventory_anonymous_and_staff_without_key() {
    let a = api().await;
    let id = post_valid(&a, "Inventar").await;
    const GETS: &[&str] = &[
        "discovery",
        "services",
        "services/strassenschaden",
        "requests",
        "requests/{id}",
        "servicerequestupdates",
    ];
    let anon = a.app.client(&[HOST]);
    for path in GETS {
        for fmt in ["json", "xml"] {
            let url = a.url(&format!("{}.{fmt}", path.replace("{id}", &id)));
            let r = anon.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200, "{url}");
        }
    }
    // tokens/{token}: unknown token is 404 in the spec format.
    let r = anon.get(a.url("tokens/abc.json")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    let staff = common::signed_in(&a.app, HOST, &a.base, &a.s.f.admin_email).await;
    for c in [&anon, &staff] {
        let before = a.count().await;
        for fmt in ["json", "xml"] {
            let r = c
                .post(a.url(&format!("requests.{fmt}")))
                .form(&[
                    ("service_code", "strassenschaden"),
                    ("lat", &INSIDE.0.to_string()),
                    ("long", &INSIDE.1.to_string()),
                    ("description", "ohne Schlüssel"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403);
        }
        assert_eq!(a.count().await, before);
    }
    // Other methods and resources.
    let r = anon.post(a.url("services.json")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = anon.get(a.url("gibt/es/nicht.xml")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(xml_root(&r.text().await.unwrap()), "errors");
}

// ---------------------------------------------------------------- outside client

const GEOREPORT_SCRIPT: &str = r#"
import json, os, socket, sys
os.environ["NO_PROXY"] = "*"
# The test app answers every host name on 127.0.0.1; the tenant is chosen by the Host header.
host, port, key, rid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
_orig = socket.getaddrinfo
def _resolve(name, *args, **kw):
    if name == host:
        name = "127.0.0.1"
    return _orig(name, *args, **kw)
socket.getaddrinfo = _resolve

import georeport, requests
root = f"http://{host}:{port}/open311/v2"
out = {"version": georeport.__version__}
for fmt in ("json", "xml"):
    g = georeport.GeoReport(root, output_format=fmt)
    services = g.get_service_list()
    out[fmt + "_services"] = sorted(s["service_code"] for s in services)
    d = g.get_service_definition("strassenschaden")
    attrs = d["attributes"]
    if fmt == "xml":
        attrs = attrs["attribute"]
        attrs = attrs if isinstance(attrs, list) else [attrs]
    out[fmt + "_attribute"] = attrs[0]["code"]
    # With a jurisdiction (the tenant's slug) as the client sends it.
    gj = georeport.GeoReport(root, jurisdiction="a", output_format=fmt)
    out[fmt + "_jurisdiction_services"] = len(gj.get_service_list())
    reqs = g.get_service_requests(status="open", service_code="strassenschaden",
                                  start_date="2020-01-01T00:00:00Z")
    if fmt == "xml" and isinstance(reqs, dict):
        reqs = [reqs]
    out[fmt + "_open"] = [r["service_request_id"] for r in reqs]
    one = g.get_service_request(rid)
    out[fmt + "_one"] = {k: one[k] for k in ("service_request_id", "status", "service_code", "description")}
    many = g.get_service_requests(service_request_id=rid)
    if fmt == "xml" and isinstance(many, dict):
        many = [many]
    out[fmt + "_by_id"] = [r["service_request_id"] for r in many]

# georeport 0.3.1 has no method for POST requests: the same session library posts as a
# client would, form-encoded with the key in the body.
r = requests.post(root + "/requests.json", data={
    "api_key": key, "service_code": "beleuchtung", "lat": "51.3962", "long": "7.191",
    "description": "Laterne aus (georeport)", "attribute[mast]": "B-4"})
out["post_status"] = r.status_code
out["post"] = r.json()
r = requests.post(root + "/requests.json", data={"service_code": "beleuchtung"})
out["post_without_key"] = r.status_code
# Errors raise in the client (raise_for_status), as they should.
try:
    georeport.GeoReport(root).get_service_definition("gibtsnicht")
    out["unknown_raises"] = False
except requests.HTTPError as e:
    out["unknown_raises"] = e.response.status_code
print(json.dumps(out))
"#;

#[tokio::test]
async fn conformance_with_the_georeport_client() {
    let py = rathaus_testkit::smtp::python();
    let has = std::process::Command::new(&py)
        .args(["-c", "import georeport"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has {
        assert!(
            std::env::var("CI").is_err(),
            "georeport is missing in {py}; scripts/test installs it"
        );
        eprintln!("skipped: the Python package georeport is not installed in {py}");
        return;
    }
    let a = api().await;
    let id = post_valid(&a, "Schlagloch für den Client").await;
    let port = a.app.addr.port().to_string();
    let (py_host, py_port, py_key, py_id) = (HOST.to_string(), port, a.key.clone(), id.clone());
    let out = tokio::task::spawn_blocking(move || {
        rathaus_testkit::smtp::run_python(
            GEOREPORT_SCRIPT,
            &[
                py_host.as_ref(),
                py_port.as_ref(),
                py_key.as_ref(),
                py_id.as_ref(),
            ],
        )
    })
    .await
    .unwrap();
    let v: Value = serde_json::from_slice(&out).expect("script output");
    assert_eq!(v["version"], "0.3.1");
    for fmt in ["json", "xml"] {
        let services = v[format!("{fmt}_services")].as_array().unwrap();
        assert_eq!(services.len(), 9, "{v}");
        assert!(services.iter().any(|s| s == "strassenschaden"));
        assert_eq!(v[format!("{fmt}_attribute")], "art");
        assert_eq!(v[format!("{fmt}_jurisdiction_services")], 9);
        assert!(
            v[format!("{fmt}_open")]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == id.as_str()),
            "{v}"
        );
        let one = &v[format!("{fmt}_one")];
        assert_eq!(one["service_request_id"], id.as_str());
        assert_eq!(one["status"], "open");
        assert_eq!(one["service_code"], "strassenschaden");
        assert_eq!(one["description"], "Schlagloch für den Client");
        assert_eq!(v[format!("{fmt}_by_id")], serde_json::json!([id]));
    }
    assert_eq!(v["post_status"], 200, "{v}");
    let posted = v["post"][0]["service_request_id"].as_str().unwrap();
    let r = service::by_reference(&a.s.db.conn, a.s.tenant(), posted)
        .await
        .unwrap();
    assert_eq!(r.public_description, "Laterne aus (georeport)");
    assert_eq!(v["post_without_key"], 403);
    assert_eq!(v["unknown_raises"], 404);
}

#[tokio::test]
async fn machine_answers_set_no_cookie_and_an_unknown_host_gets_the_spec_error() {
    let a = api().await;
    let r =
        a.c.get(a.url("requests.json?status=open"))
            .send()
            .await
            .expect("get");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("set-cookie").is_none(),
        "an API answer sets no cookie"
    );
    // With two municipalities (one alone is the default for every host), a host that belongs
    // to neither gets Open311's error list, not an HTML page.
    common::tenant(&a.s.db, "b", "rathaus.b.test").await;
    let other = a.app.client(&["unbekannt.example"]);
    for (path, ct) in [
        ("services.json", "application/json"),
        ("services.xml", "text/xml"),
    ] {
        let r = other
            .get(
                a.app
                    .url("unbekannt.example", &format!("/open311/v2/{path}")),
            )
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 404, "{path}");
        let got = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(got.starts_with(ct) || got.contains("xml"), "{path}: {got}");
        let body = r.text().await.expect("body");
        assert!(
            body.contains("404") && body.contains("description"),
            "{body}"
        );
    }
}

/// A NUL (or any control character but TAB, CR, LF) is refused before any handler, as an
/// Open311 error list in the format asked for, and nothing is stored, on both databases.
#[tokio::test]
async fn control_characters_get_an_open311_error() {
    let a = api().await;
    let before = a.count().await;
    for (path, nul) in [("requests.json", "Loch\0"), ("requests.xml", "Loch\u{1b}")] {
        let form = valid_post(&a, nul);
        let (status, body) = a.post(path, &as_refs(&form)).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("Steuerzeichen"), "{body}");
        assert!(body.contains("description"), "{body}");
        if path.ends_with(".xml") {
            assert_eq!(xml_root(&body), "errors");
        } else {
            assert_eq!(array(&body)[0]["code"], 400);
        }
    }
    let form = reqwest::multipart::Form::new()
        .text("api_key", a.key.clone())
        .text("description", "Loch\0");
    let (status, body) = a.post_multipart("requests.json", form).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = a.get("requests/M-2026-%00.json").await.into_pair();
    assert_eq!(status, 400, "{body}");
    assert_eq!(a.count().await, before);
}

trait Pair {
    fn into_pair(self) -> (u16, String);
}

impl Pair for (u16, String, String) {
    fn into_pair(self) -> (u16, String) {
        (self.0, self.2)
    }
}
