//! The administration pages of the Mängelmelder (`reports.manage`): settings, boundary and
//! street directory uploads, categories with their attribute editor, and the Open311 API keys
//! (issue 3, item 14). Bad input gets a German message beside the field, keeps what was typed
//! and stores nothing.

use crate::common;

use common::*;
use rathaus_reports::http::pages::admin::parse_attributes;
use rathaus_reports::service::{self, CategoryId, directory, keys};
use rathaus_testkit::{TestApp, csrf_of, post_form};
use rathaus_web::WebConfig;
use reqwest::multipart::{Form, Part};

const HOST: &str = "rathaus.a.test";

struct App {
    app: TestApp,
    s: Setup,
    base: String,
}

async fn app() -> App {
    let mut s = setup().await;
    let app = spawn_app(&mut s, WebConfig::default()).await;
    App {
        base: app.url(HOST, ""),
        app,
        s,
    }
}

impl App {
    async fn manager(&self) -> reqwest::Client {
        signed_in(&self.app, HOST, &self.base, "verwaltung@a.example").await
    }
    async fn get(&self, c: &reqwest::Client, path: &str) -> (u16, String) {
        let r = c.get(format!("{}{path}", self.base)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn post(
        &self,
        c: &reqwest::Client,
        form: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, String) {
        let r = post_form(c, &self.base, form, action, fields).await;
        let status = r.status().as_u16();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, loc, r.text().await.unwrap())
    }
    /// A multipart upload with the CSRF token in the query string.
    async fn upload(
        &self,
        c: &reqwest::Client,
        action: &str,
        file: Option<(&str, Vec<u8>)>,
        text: &[(&str, &str)],
    ) -> (u16, String, String) {
        let (_, page) = self.get(c, "/maengel/einstellungen").await;
        let csrf = csrf_of(&page);
        let mut form = Form::new();
        for (k, v) in text {
            form = form.text(k.to_string(), v.to_string());
        }
        if let Some((name, bytes)) = file {
            form = form.part("datei", Part::bytes(bytes).file_name(name.to_string()));
        }
        let r = c
            .post(format!("{}{action}?_csrf={csrf}", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, loc, r.text().await.unwrap())
    }
}

const SETTINGS: &str = "/maengel/einstellungen";

#[tokio::test]
async fn settings_refuse_bad_input_and_keep_it() {
    let a = app().await;
    let s = &a.s;
    let c = a.manager().await;
    let (status, html) = a.get(&c, SETTINGS).await;
    assert_eq!(status, 200);
    assert!(html.contains("tile.openstreetmap.org"));
    let before = service::settings(&s.db.conn, s.tenant()).await.unwrap();

    let (status, _, html) = a
        .post(
            &c,
            SETTINGS,
            SETTINGS,
            &[
                ("tile_url", "ftp://kacheln.example/{z}/{x}/{y}.png"),
                ("tile_attribution", "© Kacheln"),
                ("geocoder_url", ""),
                ("duplicate_radius_m", "viele"),
                ("answer_days", "3"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-duplicate_radius_m-error\""));
    assert!(html.contains("Bitte eine ganze Zahl."));
    assert!(html.contains("value=\"viele\""), "input kept");
    // Now the number is fine: the service's messages.
    let (status, _, html) = a
        .post(
            &c,
            SETTINGS,
            SETTINGS,
            &[
                ("tile_url", "ftp://kacheln.example/{z}/{x}/{y}.png"),
                ("tile_attribution", "© Kacheln"),
                ("duplicate_radius_m", "2000"),
                ("answer_days", "0"),
                ("moderate_all", "1"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-tile_url-error\""));
    assert!(html.contains("https://"));
    assert!(html.contains("Bitte einen Umkreis von 5 bis 1.000 Metern."));
    assert!(html.contains("Bitte 1 bis 60 Arbeitstage."));
    assert!(html.contains(
        "id=\"f-moderate_all\" name=\"moderate_all\" type=\"checkbox\" value=\"1\" checked"
    ));
    let after = service::settings(&s.db.conn, s.tenant()).await.unwrap();
    assert_eq!(after.updated_at, before.updated_at, "nothing stored");

    let (status, loc, _) = a
        .post(
            &c,
            SETTINGS,
            SETTINGS,
            &[
                ("tile_url", "https://kacheln.example/{z}/{x}/{y}.png"),
                ("tile_attribution", "© Kacheln"),
                ("geocoder_url", ""),
                ("duplicate_radius_m", "80"),
                ("answer_days", "5"),
                ("moderate_all", "1"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert!(loc.contains("notice=reports_admin_saved"));
    let after = service::settings(&s.db.conn, s.tenant()).await.unwrap();
    assert_eq!(after.duplicate_radius_m, 80);
    assert_eq!(after.answer_days, 5);
    assert!(after.moderate_all);
    let (_, html) = a.get(&c, &loc).await;
    assert!(html.contains("Die Einstellungen wurden gespeichert."));
}

#[tokio::test]
async fn boundary_upload_and_text() {
    let a = app().await;
    let s = &a.s;
    let c = a.manager().await;
    // Not JSON: the geo error, German, beside the field; the text kept.
    let (status, _, html) = a
        .upload(
            &c,
            "/maengel/einstellungen/grenze",
            None,
            &[("geojson", "{kein json")],
        )
        .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"f-boundary-error\""));
    assert!(html.contains("Die Gemeindegrenze ist kein gültiges JSON."));
    assert!(html.contains("{kein json"));
    assert!(
        service::settings(&s.db.conn, s.tenant())
            .await
            .unwrap()
            .boundary
            .is_some()
    );
    // A point is no area.
    let (status, _, html) = a
        .upload(
            &c,
            "/maengel/einstellungen/grenze",
            Some((
                "grenze.geojson",
                br#"{"type":"Point","coordinates":[7.1,51.4]}"#.to_vec(),
            )),
            &[],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Polygon"));
    // Nothing given.
    let (status, _, html) = a
        .upload(&c, "/maengel/einstellungen/grenze", None, &[])
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Bitte wählen Sie eine Datei aus oder fügen Sie GeoJSON ein."));

    // A square as a file: inside accepted, outside refused.
    let square = r#"{"type":"Polygon","coordinates":[[[7.0,51.3],[7.4,51.3],[7.4,51.5],[7.0,51.5],[7.0,51.3]]]}"#;
    let (status, loc, _) = a
        .upload(
            &c,
            "/maengel/einstellungen/grenze",
            Some(("grenze.geojson", square.as_bytes().to_vec())),
            &[],
        )
        .await;
    assert_eq!(status, 303);
    assert!(loc.contains("notice=reports_admin_boundary"));
    let stored = service::settings(&s.db.conn, s.tenant()).await.unwrap();
    assert_eq!(stored.boundary.as_deref(), Some(square));
    // Removed.
    let (status, _, _) = a
        .upload(
            &c,
            "/maengel/einstellungen/grenze",
            None,
            &[("entfernen", "1")],
        )
        .await;
    assert_eq!(status, 303);
    assert!(
        service::settings(&s.db.conn, s.tenant())
            .await
            .unwrap()
            .boundary
            .is_none()
    );
}

#[tokio::test]
async fn street_directory_upload_replaces_all_or_nothing() {
    let a = app().await;
    let s = &a.s;
    let c = a.manager().await;
    let before = directory::count(&s.db.conn, s.tenant()).await.unwrap();
    assert!(before > 0);
    let bad = "Straße;Hausnummer;PLZ;lat;lon\nNeue Straße;1;12345;51.4;7.2\nNeue Straße;2;12345;abc;7.2\n";
    let (status, _, html) = a
        .upload(
            &c,
            "/maengel/einstellungen/strassen",
            Some(("strassen.csv", bad.as_bytes().to_vec())),
            &[],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-streets-error\""));
    assert!(html.contains("Zeile 3"), "{html}");
    assert_eq!(
        directory::count(&s.db.conn, s.tenant()).await.unwrap(),
        before
    );
    // Not a CSV at all.
    let (status, _, html) = a
        .upload(
            &c,
            "/maengel/einstellungen/strassen",
            Some(("strassen.csv", b"%PDF-1.7\n\x00\x01binary".to_vec())),
            &[],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("keine CSV-Datei"));
    // No file.
    let (status, _, html) = a
        .upload(&c, "/maengel/einstellungen/strassen", None, &[])
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Bitte wählen Sie eine Datei aus."));

    let good = "Straße;Hausnummer;PLZ;lat;lon\nNeue Straße;1;12345;51.4;7.2\nNeue Straße;2;12345;51.4001;7.2001\n";
    let (status, loc, _) = a
        .upload(
            &c,
            "/maengel/einstellungen/strassen",
            Some(("strassen.csv", good.as_bytes().to_vec())),
            &[],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(directory::count(&s.db.conn, s.tenant()).await.unwrap(), 2);
    let (_, html) = a.get(&c, &loc).await;
    assert!(html.contains("2 Adressen wurden übernommen."));
}

#[test]
fn attribute_lines_parse_with_line_errors() {
    let ok = parse_attributes(
        "art | Art des Schadens | singlevaluelist | pflicht | schlagloch=Schlagloch;riss=Riss\n\n\
         mast | Mastnummer | string",
    )
    .unwrap();
    assert_eq!(ok.len(), 2);
    assert!(ok[0].required);
    assert_eq!(ok[0].values[1], ("riss".into(), "Riss".into()));
    assert!(!ok[1].required);
    assert_eq!(
        parse_attributes("a | Frage | liste").unwrap_err(),
        (1, "reports.admin.err.attr_type")
    );
    assert_eq!(
        parse_attributes("a | F | string\nb | F | singlevaluelist | optional").unwrap_err(),
        (2, "reports.admin.err.attr_list_values")
    );
    assert_eq!(
        parse_attributes("a | F | string\na | G | string")
            .unwrap_err()
            .0,
        2
    );
    assert_eq!(parse_attributes("nur code").unwrap_err().0, 1);
    assert_eq!(
        parse_attributes("a b | F | string").unwrap_err().1,
        "reports.admin.err.attr_code"
    );
    // The editor's text round-trips.
    let text = rathaus_reports::http::pages::admin::attributes_text(&ok);
    assert_eq!(parse_attributes(&text).unwrap(), ok);
}

#[tokio::test]
async fn categories_form_with_bad_input_stores_nothing() {
    let a = app().await;
    let s = &a.s;
    let c = a.manager().await;
    let (status, html) = a.get(&c, "/maengel/einstellungen/kategorien").await;
    assert_eq!(status, 200);
    assert!(html.contains("Straßenbeleuchtung"));
    let count = service::list_categories(&s.db.conn, s.tenant(), false)
        .await
        .unwrap()
        .len();
    let new = "/maengel/einstellungen/kategorien/neu";
    let (status, _, html) = a
        .post(
            &c,
            new,
            new,
            &[
                ("code", "baum fällt"),
                ("name", "Baumschaden"),
                ("position", "x"),
                (
                    "attributes",
                    "art | Art | singlevaluelist | pflicht | a=A\nhoehe | Höhe | zahl",
                ),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-attributes-error\""));
    assert!(html.contains("Zeile 2: Unbekannter Typ"), "{html}");
    assert!(html.contains("id=\"f-position-error\""));
    assert!(html.contains("hoehe | Höhe | zahl"), "input kept");
    // Attributes fine: the code is the service's complaint.
    let (status, _, html) = a
        .post(
            &c,
            new,
            new,
            &[
                ("code", "baum fällt"),
                ("name", "Baumschaden"),
                ("position", "3"),
                ("attributes", "art | Art | singlevaluelist | pflicht | a=A"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-code-error\""));
    assert!(html.contains("value=\"baum fällt\""));
    let (status, _, html) = a
        .post(
            &c,
            new,
            new,
            &[("code", "gully"), ("name", ""), ("position", "1")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Diesen Code hat schon eine andere Kategorie."));
    assert!(html.contains("id=\"f-name-error\""));
    assert_eq!(
        service::list_categories(&s.db.conn, s.tenant(), false)
            .await
            .unwrap()
            .len(),
        count,
        "nothing stored"
    );

    let bauhof = rathaus_store::accounts::list_departments(&s.db.conn, s.tenant())
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name == "Bauhof")
        .unwrap()
        .id
        .to_string();
    let (status, loc, _) = a
        .post(
            &c,
            new,
            new,
            &[
                ("code", "baum"),
                ("name", "Baumschaden"),
                ("group_name", "Grün und Spielplätze"),
                ("department_id", &bauhof),
                ("position", "3"),
                ("active", "1"),
                (
                    "attributes",
                    "art | Art des Schadens | singlevaluelist | pflicht | ast=Ast abgebrochen;sturz=Umgestürzt",
                ),
            ],
        )
        .await;
    assert_eq!(status, 303, "{loc}");
    let cat = service::category_by_code(&s.db.conn, s.tenant(), "baum")
        .await
        .unwrap()
        .expect("created");
    assert_eq!(cat.department_id.map(|d| d.to_string()), Some(bauhof));
    let attrs = service::attributes_of(&cat);
    assert_eq!(attrs[0].values.len(), 2);
    assert!(cat.active);

    // Edit: deactivate; the form shows the attributes as lines.
    let edit = format!("/maengel/einstellungen/kategorien/{}", cat.id);
    let (status, html) = a.get(&c, &edit).await;
    assert_eq!(status, 200);
    assert!(html.contains("ast=Ast abgebrochen;sturz=Umgestürzt"));
    let (status, _, _) = a
        .post(
            &c,
            &edit,
            &edit,
            &[
                ("code", "baum"),
                ("name", "Baumschaden"),
                ("position", "3"),
                ("attributes", ""),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let cat = service::category(&s.db.conn, s.tenant(), CategoryId(cat.id))
        .await
        .unwrap();
    assert!(!cat.active);
    assert!(service::attributes_of(&cat).is_empty());
    assert_eq!(
        a.get(&c, "/maengel/einstellungen/kategorien/999999")
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn api_keys_are_shown_once_rate_limited_and_revoked() {
    let a = app().await;
    let s = &a.s;
    let c = a.manager().await;
    let path = "/maengel/einstellungen/api-schluessel";
    let (status, html) = a.get(&c, path).await;
    assert_eq!(status, 200);
    assert!(html.contains("Noch keine Schlüssel."));

    let (status, _, html) = a
        .post(
            &c,
            path,
            path,
            &[("name", ""), ("rate_limit", "sehr viele")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-rate_limit-error\""));
    assert!(html.contains("Bitte 1 bis 100.000 Anfragen pro Minute."));
    assert!(html.contains("id=\"f-name-error\""));
    assert!(html.contains("value=\"sehr viele\""));
    let (status, _, _) = a
        .post(
            &c,
            path,
            path,
            &[("name", "Stadt-App"), ("rate_limit", "0")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        keys::list(
            &s.db.conn,
            rathaus_store::uow::Actor::User(&s.manager),
            s.tenant()
        )
        .await
        .unwrap()
        .is_empty()
    );

    let (status, _, html) = a
        .post(
            &c,
            path,
            path,
            &[("name", "Stadt-App"), ("rate_limit", "120")],
        )
        .await;
    assert_eq!(status, 200);
    let secret = html
        .split("id=\"new-key\"")
        .nth(1)
        .and_then(|x| x.split("value=\"").nth(1))
        .and_then(|x| x.split('"').next())
        .expect("the key on the page")
        .to_string();
    assert!(secret.starts_with("r311_"));
    let k = keys::authenticate(&s.db.conn, s.tenant(), &secret)
        .await
        .unwrap()
        .expect("the key works");
    assert_eq!(k.rate_limit, 120);
    // Shown once: the list has only the prefix.
    let (_, html) = a.get(&c, path).await;
    assert!(!html.contains(&secret));
    assert!(html.contains(&k.prefix));

    let one = format!("{path}/{}", k.id);
    let (status, _, html) = a.post(&c, path, &one, &[("rate_limit", "-5")]).await;
    assert_eq!(status, 422);
    assert!(html.contains(&format!("id=\"rate-{}-error\"", k.id)));
    assert!(html.contains("value=\"-5\""));
    let (status, _, _) = a.post(&c, path, &one, &[("rate_limit", "900")]).await;
    assert_eq!(status, 303);
    assert_eq!(
        keys::list(
            &s.db.conn,
            rathaus_store::uow::Actor::User(&s.manager),
            s.tenant()
        )
        .await
        .unwrap()[0]
            .rate_limit,
        900
    );
    let (status, _, _) = a.post(&c, path, &format!("{one}/widerrufen"), &[]).await;
    assert_eq!(status, 303);
    assert!(
        keys::authenticate(&s.db.conn, s.tenant(), &secret)
            .await
            .unwrap()
            .is_none()
    );
    let (_, html) = a.get(&c, path).await;
    assert!(html.contains("widerrufen am"));

    // A handler may not.
    let h = signed_in(&a.app, HOST, &a.base, "bauhof@a.example").await;
    assert_eq!(a.get(&h, path).await.0, 403);
    let (status, _, _) = a
        .post(
            &h,
            "/maengel/verwaltung",
            path,
            &[("name", "X"), ("rate_limit", "5")],
        )
        .await;
    assert_eq!(status, 403);
}
