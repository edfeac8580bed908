//! The module's HTTP surface: pages (public form and views, staff inbox, settings, map
//! tiles) and machine routes (Open311 GeoReport v2), all listed in one route table with who
//! may call each route. Handlers are thin: they read the request, call the service and
//! render; the platform checks the access rule before they run, the services check again.

pub mod machine;
pub mod pages;

use crate::permissions::{HANDLE, MANAGE, MODERATE};
use crate::service::ReportsState;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use pages::{admin, public, staff, tiles};
use rathaus_web::{Access, Routes};
use std::sync::Arc;

/// The staff pages: either staff permission (each handler narrows further where needed,
/// e.g. the workflow form needs `reports.handle`).
const STAFF: Access = Access::AnyOf(&[HANDLE, MODERATE]);
const HANDLERS: Access = Access::AnyOf(&[HANDLE]);
const MODERATORS: Access = Access::AnyOf(&[MODERATE]);
const MANAGERS: Access = Access::AnyOf(&[MANAGE]);

/// Every route of the module, with the module's state.
pub fn routes(state: Arc<ReportsState>) -> Routes {
    Routes::new()
        .merge(citizens())
        .merge(staff_pages())
        .merge(settings())
        .merge(open311())
        .with_state(state)
}

/// The citizens' pages: public by design; the status page and the follower links carry a
/// secret token in the URL that the handler checks (404 without it).
fn citizens() -> Routes {
    use public::list;
    Routes::new()
        .get("/maengel", Access::Public, list::list_page)
        .get("/maengel/karte.geojson", Access::Public, list::geojson)
        .get("/maengel/feed.atom", Access::Public, list::feed)
        // Staff with `reports.handle`/`reports.moderate` may also see hidden photos here;
        // the handler decides per photo.
        .get("/maengel/fotos/{file}", Access::Public, list::photo_full)
        .get(
            "/maengel/fotos/{id}/klein.jpg",
            Access::Public,
            list::photo_thumb,
        )
        .get("/maengel/{reference}", Access::Public, list::detail)
        .get("/maengel/melden", Access::Public, public::form_page)
        .post(
            "/maengel/melden",
            Access::Public,
            public::submit_form.layer(DefaultBodyLimit::max(public::BODY_LIMIT)),
        )
        .get("/maengel/danke", Access::Public, public::thanks)
        .get("/maengel/altcha", Access::Public, public::challenge)
        .get("/maengel/adressen", Access::Public, public::addresses)
        .get("/maengel/in-der-naehe", Access::Public, public::nearby_page)
        .get(
            "/maengel/status/{token}",
            Access::Secret,
            public::status_page,
        )
        .get(
            "/maengel/status/{token}/fotos/{file}",
            Access::Secret,
            public::status_photo,
        )
        .get(
            "/maengel/{reference}/folgen",
            Access::Public,
            public::follow_page,
        )
        .post(
            "/maengel/{reference}/folgen",
            Access::Public,
            public::follow,
        )
        .get(
            "/maengel/folgen/{token}",
            Access::Secret,
            public::confirm_page,
        )
        .post(
            "/maengel/folgen/{token}",
            Access::Secret,
            public::confirm_follow,
        )
        .get(
            "/maengel/folgen/{token}/abbestellen",
            Access::Secret,
            public::unsubscribe_page,
        )
        .post(
            "/maengel/folgen/{token}/abbestellen",
            Access::Secret,
            public::unsubscribe,
        )
        .get("/maengel/kacheln/{z}/{x}/{y}", Access::Public, tiles::tile)
}

/// The staff inbox, detail, map, exports and statistics.
fn staff_pages() -> Routes {
    use staff::{data, detail};
    Routes::new()
        .get(staff::INBOX, STAFF, staff::inbox)
        .get(
            "/maengel/verwaltung/moderation",
            MODERATORS,
            staff::moderation_queue,
        )
        .get("/maengel/verwaltung/ueberfaellig", STAFF, staff::overdue)
        .get(public::STAFF_ENTRY, HANDLERS, staff::entry::form)
        .post(
            public::STAFF_ENTRY,
            HANDLERS,
            staff::entry::submit.layer(DefaultBodyLimit::max(public::BODY_LIMIT)),
        )
        // Status changes need `reports.handle`, publishing `reports.moderate`: run_bulk
        // checks the one the action needs.
        .post("/maengel/verwaltung/sammel", STAFF, staff::bulk)
        .get("/maengel/verwaltung/{id}", STAFF, detail::show)
        .post("/maengel/verwaltung/{id}", HANDLERS, detail::workflow)
        .post(
            "/maengel/verwaltung/{id}/moderation",
            MODERATORS,
            detail::moderation,
        )
        .get("/maengel/verwaltung/fotos/{file}", STAFF, detail::photo)
        .post(
            "/maengel/verwaltung/fotos/{file}/sichtbarkeit",
            MODERATORS,
            detail::photo_visibility,
        )
        .get("/maengel/verwaltung/karte", STAFF, data::map_page)
        .get("/maengel/verwaltung/karte.json", STAFF, data::map_json)
        // The script of the staff maps: static, no data.
        .get(
            "/maengel/verwaltung/karte.js",
            Access::Public,
            data::map_script,
        )
        // Personal data go into the exports only for `reports.personal_data`.
        .get("/maengel/verwaltung/export.csv", STAFF, data::export_csv)
        .get("/maengel/verwaltung/export.xlsx", STAFF, data::export_xlsx)
        .get("/maengel/verwaltung/statistik", STAFF, data::stats_page)
        .get("/maengel/verwaltung/statistik.csv", STAFF, data::stats_csv)
}

/// Categories, settings, boundary, street directory, Open311 API keys.
fn settings() -> Routes {
    Routes::new()
        .get(admin::SETTINGS, MANAGERS, admin::settings_page)
        .post(admin::SETTINGS, MANAGERS, admin::save_settings)
        .post(
            "/maengel/einstellungen/grenze",
            MANAGERS,
            admin::boundary.layer(DefaultBodyLimit::max(admin::UPLOAD_LIMIT)),
        )
        .post(
            "/maengel/einstellungen/strassen",
            MANAGERS,
            admin::streets.layer(DefaultBodyLimit::max(admin::UPLOAD_LIMIT)),
        )
        .get(
            "/maengel/einstellungen/kategorien",
            MANAGERS,
            admin::categories,
        )
        .get(
            "/maengel/einstellungen/kategorien/neu",
            MANAGERS,
            admin::new_category,
        )
        .post(
            "/maengel/einstellungen/kategorien/neu",
            MANAGERS,
            admin::create_category,
        )
        .get(
            "/maengel/einstellungen/kategorien/{id}",
            MANAGERS,
            admin::edit_category,
        )
        .post(
            "/maengel/einstellungen/kategorien/{id}",
            MANAGERS,
            admin::update_category,
        )
        .get(
            "/maengel/einstellungen/api-schluessel",
            MANAGERS,
            admin::keys_page,
        )
        .post(
            "/maengel/einstellungen/api-schluessel",
            MANAGERS,
            admin::create_key,
        )
        .post(
            "/maengel/einstellungen/api-schluessel/{id}",
            MANAGERS,
            admin::set_rate,
        )
        .post(
            "/maengel/einstellungen/api-schluessel/{id}/widerrufen",
            MANAGERS,
            admin::revoke_key,
        )
}

/// Open311 GeoReport v2: the reads are public, a new request needs an API key (checked by
/// the handler, answered in Open311's own error format).
fn open311() -> Routes {
    use machine::open311 as o;
    Routes::new()
        .machine(
            Method::GET,
            "/open311/v2/{file}",
            Access::Public,
            o::root_get,
        )
        .machine(
            Method::POST,
            "/open311/v2/{file}",
            Access::Secret,
            o::root_post.layer(DefaultBodyLimit::max(o::POST_BODY_LIMIT)),
        )
        .machine(
            Method::GET,
            "/open311/v2/services/{file}",
            Access::Public,
            o::service_definition,
        )
        .machine(
            Method::GET,
            "/open311/v2/requests/{file}",
            Access::Public,
            o::one_request,
        )
        .machine(
            Method::GET,
            "/open311/v2/tokens/{file}",
            Access::Public,
            o::token,
        )
        .machine(Method::GET, "/open311/v2", Access::Public, o::not_found)
        .machine(Method::GET, "/open311/v2/", Access::Public, o::not_found)
        .machine(
            Method::GET,
            "/open311/v2/{file}/{*rest}",
            Access::Public,
            o::not_found,
        )
        // Nothing to post to here: Open311's 404 document, whoever asks.
        .machine(
            Method::POST,
            "/open311/v2/{file}/{*rest}",
            Access::Public,
            o::not_found,
        )
}
