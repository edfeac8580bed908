//! Addresses a tenant administrator configures (tile server, geocoder) cannot reach the
//! server's own network (security review, finding 4). This test binary keeps the default
//! operator policy: https only, no internal addresses, no allow-list.

#![allow(clippy::unwrap_used)] // a test (or data generator) fails loudly on a broken assumption

mod common;

use common::*;
use rathaus_reports::service::{self, Source};
use sea_orm::{ActiveModelTrait, Set};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn settings_input(tile_url: &str, geocoder_url: &str) -> service::SettingsInput {
    service::SettingsInput {
        tile_url: tile_url.into(),
        tile_attribution: String::new(),
        geocoder_url: geocoder_url.into(),
        duplicate_radius_m: 50,
        answer_days: 3,
        moderate_all: false,
    }
}

fn field_keys(e: rathaus_core::Error) -> Vec<(String, String)> {
    match e {
        rathaus_core::Error::Invalid(f) => f.0.into_iter().map(|e| (e.field, e.key)).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[tokio::test]
async fn settings_refuse_plain_http_and_internal_hosts() {
    let s = setup().await;
    for (tile, key) in [
        ("http://tile.example.org/{z}/{x}/{y}.png", "err.url_scheme"),
        ("https://127.0.0.1/{z}/{x}/{y}.png", "err.url_host"),
        ("https://[::1]:8080/{z}/{x}/{y}.png", "err.url_host"),
        ("https://169.254.169.254/{z}/{x}/{y}.png", "err.url_host"),
        ("https://10.0.0.7/{z}/{x}/{y}.png", "err.url_host"),
        ("https://100.64.1.1/{z}/{x}/{y}.png", "err.url_host"),
        ("https://localhost:9000/{z}/{x}/{y}.png", "err.url_host"),
    ] {
        let e = service::update_settings(
            &s.db.conn,
            rathaus_store::uow::Actor::User(&s.manager),
            s.manager.tenant_id,
            settings_input(tile, ""),
        )
        .await
        .unwrap_err();
        assert_eq!(
            field_keys(e),
            vec![("tile_url".into(), key.into())],
            "{tile}"
        );
    }
    let e = service::update_settings(
        &s.db.conn,
        rathaus_store::uow::Actor::User(&s.manager),
        s.manager.tenant_id,
        settings_input("", "http://192.168.0.10/search"),
    )
    .await
    .unwrap_err();
    assert_eq!(
        field_keys(e),
        vec![("geocoder_url".into(), "err.url_scheme".into())]
    );
    service::update_settings(
        &s.db.conn,
        rathaus_store::uow::Actor::User(&s.manager),
        s.manager.tenant_id,
        settings_input(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "https://nominatim.example.org/search",
        ),
    )
    .await
    .expect("public https addresses are fine");
}

/// A server on loopback that counts the requests it gets.
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            ([("content-type", "image/png")], vec![0u8; 16])
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), hits)
}

/// The slippy-map tile holding a point.
fn tile_of(lat: f64, lon: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

#[tokio::test]
async fn internal_addresses_stored_earlier_are_never_fetched() {
    let mut s = setup().await;
    let (base, hits) = counting_server().await;
    // As if saved before the check existed (or by a name that resolved outside then).
    let cur = service::ensure_settings(&s.db.conn, s.tenant())
        .await
        .unwrap();
    let mut am: rathaus_reports::store::entity::settings::ActiveModel = cur.into();
    am.tile_url = Set(format!("{base}/{{z}}/{{x}}/{{y}}.png"));
    am.geocoder_url = Set(Some(format!("{base}/search")));
    am.update(&s.db.conn).await.unwrap();

    // The geocoder is not asked: the address stays unknown.
    let mut inp = report(&s, "muell", INSIDE);
    inp.position = None;
    inp.address = "Feldweg 2".into();
    let e = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap_err();
    assert_eq!(field_keys(e)[0].1, "reports.err.address_unknown");

    // The tile proxy answers 502 instead of fetching from loopback.
    let app = spawn_app(&mut s, rathaus_web::WebConfig::default()).await;
    let (x, y) = tile_of(INSIDE.0, INSIDE.1, 15);
    let c = app.client(&["rathaus.a.test"]);
    let r = c
        .get(app.url(
            "rathaus.a.test",
            &format!("/maengel/kacheln/15/{x}/{y}.png"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "no request reached the server"
    );
}
