//! `/buchung/kalender`: a user's feed URLs, with buttons that replace them.

use crate::domain::OrganisationId;
use crate::http::origin;
use crate::service::feeds::{
    member_organisations, org_feed_path, org_feed_token, person_feed_path, rotate_org_feed,
    rotate_user_feed, user_feed_token,
};
use rathaus_store::uow::Actor;
use rathaus_web::Access::SignedIn;
use rathaus_web::Routes;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use rathaus_core::{Error, Result};
use rathaus_web::AppState;
use rathaus_web::ctx::Staff;
use rathaus_web::errors::{HtmlError, page};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;

struct OrgFeedRow {
    id: i64,
    name: String,
    url: String,
}

#[derive(Template)]
#[template(path = "booking/feeds_page.html")]
struct FeedsTpl {
    l: Layout,
    person_url: String,
    orgs: Vec<OrgFeedRow>,
    /// A feed was just replaced: which one, for the confirmation.
    rotated: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct FeedsQuery {
    #[serde(default)]
    erneuert: String,
}

async fn feeds_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<FeedsQuery>,
) -> Result<Response, HtmlError> {
    let origin = origin(&st.cfg, &headers);
    let token = user_feed_token(&st.db.conn, Actor::User(&p)).await?;
    let mut orgs = vec![];
    for o in member_organisations(&st.db.conn, Actor::User(&p)).await? {
        // Organisations are few per user; one made without a token gets it here.
        let token = if o.feed_token.is_empty() {
            org_feed_token(&st.db.conn, Actor::User(&p), OrganisationId(o.id)).await?
        } else {
            o.feed_token
        };
        orgs.push(OrgFeedRow {
            id: o.id,
            name: o.name,
            url: format!("{origin}{}", org_feed_path(&token)),
        });
    }
    let t = rathaus_web::i18n::catalog(ctx.lang);
    let rotated = match q.erneuert.as_str() {
        "person" => Some(t.get("booking.feeds.rotated_person").to_string()),
        "verein" => Some(t.get("booking.feeds.rotated_org").to_string()),
        _ => None,
    };
    page(FeedsTpl {
        l: layout(&st, &ctx, "booking.feeds.title"),
        person_url: format!("{origin}{}", person_feed_path(&token)),
        orgs,
        rotated,
    })
}

async fn rotate_person(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
) -> Result<Response, HtmlError> {
    rotate_user_feed(&st.db.conn, Actor::User(&p)).await?;
    Ok(Redirect::to("/buchung/kalender?erneuert=person").into_response())
}

async fn rotate_org(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    rotate_org_feed(&st.db.conn, Actor::User(&p), OrganisationId(id)).await?;
    Ok(Redirect::to("/buchung/kalender?erneuert=verein").into_response())
}

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/buchung/kalender", SignedIn, feeds_page)
        .post("/buchung/kalender/erneuern", SignedIn, rotate_person)
        // Members of the organisation replace its feed too; the service checks membership.
        .post(
            "/buchung/kalender/verein/{id}/erneuern",
            SignedIn,
            rotate_org,
        )
}
