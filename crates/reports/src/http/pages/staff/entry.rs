//! Staff enter a report a citizen made by phone, letter, e-mail or at the counter: the
//! citizens' form without proof of work and consent box, with the channel recorded and the
//! citizen's contact optional. The report is the staff member's act (audited as such).

use crate::domain::report::Source;
use crate::http::pages::public::{
    ANYWAY_FIELD, Typed, answers, category_of, nearby_of, read_form, render_form, single,
    tenant_of, typed_position,
};
use crate::service::{self, NewReport, ReportsState};
use axum::Extension;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use rathaus_store::uow::Actor;
use rathaus_web::AppState;
use rathaus_web::ctx::{Staff, origin};
use rathaus_web::errors::HtmlError;
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use std::sync::Arc;

type HtmlResult = std::result::Result<Response, HtmlError>;

/// `GET /maengel/verwaltung/erfassen`: the empty form.
pub async fn form(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    Staff(ctx, _p): Staff,
) -> HtmlResult {
    let t = catalog(ctx.lang);
    let v = Typed {
        staff: true,
        ..Typed::default()
    };
    render_form(&st, &state, &ctx, v, FormErrors::none(t), Vec::new()).await
}

/// `POST /maengel/verwaltung/erfassen` (multipart, CSRF token in the query string).
pub async fn submit(
    State(st): State<AppState>,
    Extension(state): Extension<Arc<ReportsState>>,
    Staff(ctx, p): Staff,
    headers: HeaderMap,
    mp: std::result::Result<Multipart, MultipartRejection>,
) -> HtmlResult {
    let tenant = tenant_of(&ctx)?;
    let t = catalog(ctx.lang);
    let mut v = read_form(mp).await;
    v.staff = true;
    let refuse = |v: Typed, field: &str, key: &str| {
        let errs = FormErrors::new(t, single(field, key));
        render_form(&st, &state, &ctx, v, errs, Vec::new())
    };
    if v.unreadable {
        return refuse(v, "photos", "reports.public.err_body").await;
    }
    let Some(channel) = Source::STAFF_CHANNELS
        .iter()
        .copied()
        .find(|c| c.as_str() == v.channel.trim())
    else {
        return refuse(v, "channel", "reports.staff.entry.err_channel").await;
    };
    let Ok(position) = typed_position(&v) else {
        return refuse(v, "location", "reports.err.coordinate_invalid").await;
    };
    let category = category_of(&v);
    // Already reported? The same check as for citizens: the clerk can tell the caller.
    if !v.anyway {
        let near = nearby_of(&st, &state, tenant, t, category, position, &v.address).await?;
        if !near.is_empty() {
            let errs = FormErrors::new(t, single(ANYWAY_FIELD, "reports.public.err_nearby"));
            return render_form(&st, &state, &ctx, v, errs, near).await;
        }
    }
    let inp = NewReport {
        category_id: category,
        position,
        address: v.address.clone(),
        description: v.description.clone(),
        name: v.name.clone(),
        email: v.email.clone(),
        phone: v.phone.clone(),
        // The citizen's consent is the clerk's business on the phone or at the counter.
        consent: true,
        photos: v.photos.clone(),
        attributes: answers(&v, category),
        api_key_id: None,
        base_url: origin(&st.cfg, &headers),
    };
    match service::submit(
        &st.db,
        &st.files,
        &state,
        tenant,
        channel,
        Actor::User(&p),
        inp,
    )
    .await
    {
        Ok(done) => Ok(Redirect::to(&format!(
            "/maengel/verwaltung/{}?notice=reports_staff_entered",
            done.report.id
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_form(&st, &state, &ctx, v, errs, Vec::new()).await
        }
    }
}
