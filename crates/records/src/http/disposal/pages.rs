//! The disposal pages under /akten/aussonderung: the due list with filters (select files →
//! offer to the archive, or → confirm → run a deletion), the offers, one offer with the
//! downloads (0501, 0505, the 0503 ZIP) and the uploads of the archive's messages (file
//! upload forms), and the deletion records. German, without JavaScript, CSRF on every form.

use super::{DISPOSERS, archive_name, zip_response};
use crate::domain::{Appraisal, Coded, Disposition, FileKind, OfferState};
use crate::service::disposal::offers::{self, OfferView};
use crate::service::disposal::{self, DueQuery, RunReport};
use crate::service::{parse_date, plan, today};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use chrono::NaiveDate;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_store::uow::Actor;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::{AppState, Routes};
use serde::Deserialize;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/akten/aussonderung", DISPOSERS, due_page)
        .post("/akten/aussonderung/anbieten", DISPOSERS, offer_post)
        .post("/akten/aussonderung/loeschen", DISPOSERS, confirm_page)
        .post(
            "/akten/aussonderung/loeschen/ausfuehren",
            DISPOSERS,
            run_post,
        )
        .get(
            "/akten/aussonderung/loeschprotokoll",
            DISPOSERS,
            deletions_page,
        )
        .get("/akten/aussonderung/anbietung/{id}", DISPOSERS, offer_page)
        .get(
            "/akten/aussonderung/anbietung/{id}/0501.xml",
            DISPOSERS,
            download_0501,
        )
        .get(
            "/akten/aussonderung/anbietung/{id}/0505.xml",
            DISPOSERS,
            download_0505,
        )
        .get(
            "/akten/aussonderung/anbietung/{id}/aussonderung.zip",
            DISPOSERS,
            download_zip,
        )
        .post(
            "/akten/aussonderung/anbietung/{id}/bewertung",
            DISPOSERS,
            appraisal_post,
        )
        .post(
            "/akten/aussonderung/anbietung/{id}/nachricht",
            DISPOSERS,
            receipt_post,
        )
}

fn d(v: Option<NaiveDate>) -> String {
    v.map(|d| d.format("%d.%m.%Y").to_string())
        .unwrap_or_default()
}

fn label<T: Coded>(t: &Catalog, v: T) -> String {
    t.get(&v.label_key()).to_string()
}

/// Every message of an error, translated (a conflict becomes one message).
fn messages(t: &'static Catalog, e: Error) -> Result<Vec<String>, Error> {
    let errs = match as_form_error(e) {
        Error::Invalid(f) => f,
        other => return Err(other),
    };
    Ok(errs
        .0
        .iter()
        .map(|e| match &e.arg {
            Some(a) => t.fmt(&e.key, a),
            None => t.get(&e.key).to_string(),
        })
        .collect())
}

// ---------------------------------------------------------------- due list

#[derive(Deserialize, Default, Clone)]
struct DueForm {
    #[serde(default)]
    stichtag: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    archivierung: String,
}

struct DueRow {
    id: i64,
    number: String,
    title: String,
    kind: String,
    plan: String,
    disposition: String,
    closed: String,
    until: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "disposal.html")]
struct DueTpl {
    l: Layout,
    f: DueForm,
    date_error: Option<String>,
    errors: Vec<String>,
    total: u64,
    groups: Vec<(String, String, u64)>,
    rows: Vec<DueRow>,
    plans: Vec<(String, String)>,
    dispositions: Vec<(&'static str, String)>,
    offers: Vec<(String, String, String, u64)>,
}

async fn render_due(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: DueForm,
    errors: Vec<String>,
    selected: &[i64],
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let by = Actor::User(p);
    let mut errs = FieldErrors::new();
    let at = parse_date(&mut errs, "stichtag", &f.stichtag).unwrap_or_else(today);
    let date_error = (!errs.is_empty()).then(|| t.get("records.disposal.err.date").to_string());
    let plans = plan::list(&st.db.conn, by, p.tenant_id).await?;
    let list = disposal::due(
        &st.db.conn,
        by,
        p.tenant_id,
        &DueQuery {
            at,
            plan_item_id: plans.iter().find(|x| x.code == f.plan.trim()).map(|x| x.id),
            disposition: Disposition::parse(&f.archivierung),
            limit: 500,
            offset: 0,
        },
    )
    .await?;
    let offers = offers::list(&st.db.conn, by, p.tenant_id).await?;
    let failed = !errors.is_empty() || date_error.is_some();
    respond(
        page(DueTpl {
            l: layout(st, ctx, "records.disposal.title"),
            date_error,
            errors,
            total: list.total,
            groups: list
                .groups
                .iter()
                .map(|g| {
                    (
                        format!("{} {}", g.plan_code, g.plan_title),
                        label(t, g.disposition),
                        g.count,
                    )
                })
                .collect(),
            rows: list
                .files
                .into_iter()
                .map(|r| DueRow {
                    checked: selected.contains(&r.id),
                    id: r.id,
                    number: r.file_number,
                    title: r.title,
                    kind: label(t, r.kind),
                    plan: format!("{} {}", r.plan_code, r.plan_title),
                    disposition: r.disposition.code().to_string(),
                    closed: d(r.closed_on),
                    until: d(r.retention_until),
                })
                .collect(),
            plans: plans
                .into_iter()
                .map(|x| (x.code.clone(), format!("{} {}", x.code, x.title)))
                .collect(),
            dispositions: Disposition::ALL
                .iter()
                .map(|v| (v.code(), format!("{} – {}", v.code(), label(t, *v))))
                .collect(),
            offers: offers
                .into_iter()
                .map(|o| {
                    (
                        o.id,
                        label(t, o.state),
                        o.created_at
                            .with_timezone(&chrono_tz::Europe::Berlin)
                            .format("%d.%m.%Y %H:%M")
                            .to_string(),
                        o.files,
                    )
                })
                .collect(),
            f,
        }),
        failed,
    )
}

async fn due_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(f): Query<DueForm>,
) -> Result<Response, HtmlError> {
    render_due(&st, &ctx, &p, f, vec![], &[]).await
}

#[derive(Deserialize, Default)]
struct Selection {
    #[serde(default)]
    file_ids: Vec<i64>,
    #[serde(default)]
    stichtag: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    archivierung: String,
}

impl Selection {
    fn due_form(&self) -> DueForm {
        DueForm {
            stichtag: self.stichtag.clone(),
            plan: self.plan.clone(),
            archivierung: self.archivierung.clone(),
        }
    }
}

async fn offer_post(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<Selection>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    match offers::create(&st.db.conn, Actor::User(&p), p.tenant_id, &f.file_ids).await {
        Ok(id) => Ok(Redirect::to(&format!(
            "/akten/aussonderung/anbietung/{id}?notice=records_disposal_offered"
        ))
        .into_response()),
        Err(e) => {
            let errors = messages(t, e)?;
            render_due(&st, &ctx, &p, f.due_form(), errors, &f.file_ids).await
        }
    }
}

// ---------------------------------------------------------------- deletion run

struct Candidate {
    id: i64,
    number: String,
    title: String,
    until: String,
    refusal: Option<String>,
}

#[derive(Template)]
#[template(path = "disposal_confirm.html")]
struct ConfirmTpl {
    l: Layout,
    rows: Vec<Candidate>,
    errors: Vec<String>,
    report: Option<(Vec<String>, u64, Vec<String>)>,
}

impl ConfirmTpl {
    fn any_deletable(&self) -> bool {
        self.rows.iter().any(|r| r.refusal.is_none())
    }
}

async fn render_confirm(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    ids: &[i64],
    errors: Vec<String>,
    report: Option<RunReport>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let rows = disposal::deletion_candidates(&st.db.conn, Actor::User(p), p.tenant_id, ids)
        .await?
        .into_iter()
        .map(|c| Candidate {
            refusal: c.refusal.map(|k| t.fmt(&k, &c.file.file_number)),
            id: c.file.id,
            number: c.file.file_number,
            title: c.file.title,
            until: d(c.file.retention_until),
        })
        .collect();
    let failed = !errors.is_empty();
    respond(
        page(ConfirmTpl {
            l: layout(st, ctx, "records.disposal.confirm_title"),
            rows,
            errors,
            report: report.map(|r| {
                (
                    r.deleted,
                    r.already_gone,
                    r.refused
                        .into_iter()
                        .map(|x| format!("{}: {}", x.file_number, t.fmt(&x.reason, &x.file_number)))
                        .collect(),
                )
            }),
        }),
        failed,
    )
}

async fn confirm_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<Selection>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    if f.file_ids.is_empty() {
        let errors = vec![t.get(disposal::ERR_NONE_SELECTED).to_string()];
        return render_due(&st, &ctx, &p, f.due_form(), errors, &[]).await;
    }
    render_confirm(&st, &ctx, &p, &f.file_ids, vec![], None).await
}

async fn run_post(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<Selection>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    match disposal::run_deletion(
        &st.db.conn,
        &st.files,
        Actor::User(&p),
        p.tenant_id,
        &f.file_ids,
    )
    .await
    {
        Ok(report) => render_confirm(&st, &ctx, &p, &[], vec![], Some(report)).await,
        Err(e) => {
            let errors = messages(t, e)?;
            render_confirm(&st, &ctx, &p, &f.file_ids, errors, None).await
        }
    }
}

// ---------------------------------------------------------------- deletion records

#[derive(Template)]
#[template(path = "disposal_deletions.html")]
struct DeletionsTpl {
    l: Layout,
    rows: Vec<[String; 8]>,
}

async fn deletions_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let rows = disposal::deletions(&st.db.conn, Actor::User(&p), p.tenant_id, 500).await?;
    page(DeletionsTpl {
        l: layout(&st, &ctx, "records.disposal.deletions"),
        rows: rows
            .into_iter()
            .map(|r| {
                [
                    r.file_number,
                    r.title,
                    FileKind::parse(&r.kind)
                        .map(|k| label(t, k))
                        .unwrap_or(r.kind),
                    r.plan_code,
                    format!("{} – {}", r.opened_on.format("%d.%m.%Y"), d(r.closed_on)),
                    t.get(&format!("records.disposal.reason.{}", r.reason))
                        .to_string(),
                    r.deleted_at
                        .with_timezone(&chrono_tz::Europe::Berlin)
                        .format("%d.%m.%Y %H:%M")
                        .to_string(),
                    r.deleted_by,
                ]
            })
            .collect(),
    })
}

// ---------------------------------------------------------------- one offer

struct OfferRow {
    number: String,
    title: String,
    disposition: String,
    appraisal: String,
    handed_over: String,
    import: String,
}

#[derive(Template)]
#[template(path = "disposal_offer.html")]
struct OfferTpl {
    l: Layout,
    id: String,
    state: String,
    rows: Vec<OfferRow>,
    can_appraise: bool,
    can_hand_over: bool,
    errs: FormErrors,
    failed_form: &'static str,
}

async fn render_offer(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: &str,
    errs: FormErrors,
    failed_form: &'static str,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let v: OfferView = offers::get(&st.db.conn, Actor::User(p), p.tenant_id, id).await?;
    let state = v.offer.state;
    let failed = errs.any();
    respond(
        page(OfferTpl {
            l: layout(st, ctx, "records.disposal.title"),
            id: v.offer.id.clone(),
            state: label(t, state),
            rows: v
                .files
                .into_iter()
                .map(|f| OfferRow {
                    number: f.file_number,
                    title: f.title,
                    disposition: f
                        .disposition
                        .map(|d| d.code().to_string())
                        .unwrap_or_default(),
                    appraisal: f.appraisal.map(|a| label(t, a)).unwrap_or_default(),
                    handed_over: f
                        .handed_over_at
                        .map(|x| {
                            x.with_timezone(&chrono_tz::Europe::Berlin)
                                .format("%d.%m.%Y %H:%M")
                                .to_string()
                        })
                        .unwrap_or_default(),
                    import: if f.import_confirmed {
                        let mut s = t.get("records.disposal.imported").to_string();
                        if let Some(a) = f.archive_id {
                            s = format!("{s} ({a})");
                        }
                        s
                    } else if let Some(e) = f.import_error {
                        t.fmt("records.disposal.import_failed", &e)
                    } else if f.deleted && f.appraisal == Some(Appraisal::Destroy) {
                        t.get("records.disposal.deleted").to_string()
                    } else {
                        String::new()
                    },
                })
                .collect(),
            can_appraise: state == OfferState::Offered,
            can_hand_over: matches!(state, OfferState::Appraised | OfferState::HandedOver),
            errs,
            failed_form,
        }),
        failed,
    )
}

async fn offer_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    render_offer(&st, &ctx, &p, &id, FormErrors::none(t), "").await
}

fn xml_download(name: &str, xml: String) -> Response {
    let mut res = xml.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

async fn download_0501(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let (name, xml) = offers::message_0501(
        &st.db.conn,
        Actor::User(&p),
        p.tenant_id,
        &id,
        &archive_name(),
    )
    .await?;
    Ok(xml_download(&name, xml))
}

async fn download_0505(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let (name, xml) = offers::message_0505(
        &st.db.conn,
        Actor::User(&p),
        p.tenant_id,
        &id,
        &archive_name(),
    )
    .await?;
    Ok(xml_download(&name, xml))
}

async fn download_zip(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let s = offers::handover(
        &st.db.conn,
        st.files.clone(),
        Actor::User(&p),
        p.tenant_id,
        &id,
        &archive_name(),
    )
    .await?;
    Ok(zip_response(s))
}

/// The uploaded message of a file upload form (field `message`).
async fn uploaded(st: &AppState, req: axum::extract::Request) -> Result<bytes::Bytes, Error> {
    let parts = crate::http::api::read_parts(st, req)
        .await
        .map_err(|_| FieldErrors::single("message", "records.disposal.err.upload"))?;
    match parts.files.into_iter().next() {
        Some((_, data)) if !data.is_empty() => Ok(data),
        _ => Err(FieldErrors::single("message", "records.disposal.err.empty")),
    }
}

fn as_form_error(e: Error) -> Error {
    match e {
        Error::Conflict(k) => FieldErrors::single("message", &k),
        e => e,
    }
}

async fn appraisal_post(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let res = async {
        let body = uploaded(&st, req).await?;
        offers::appraise(
            &st.db.conn,
            &st.files,
            Actor::User(&p),
            p.tenant_id,
            &id,
            &body,
        )
        .await
    }
    .await;
    match res {
        Ok(_) => Ok(Redirect::to(&format!(
            "/akten/aussonderung/anbietung/{id}?notice=records_disposal_appraised"
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, as_form_error(e))?;
            render_offer(&st, &ctx, &p, &id, errs, "appraisal").await
        }
    }
}

async fn receipt_post(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let res = async {
        let body = uploaded(&st, req).await?;
        offers::receipt(
            &st.db.conn,
            &st.files,
            Actor::User(&p),
            p.tenant_id,
            &id,
            &body,
        )
        .await
    }
    .await;
    match res {
        Ok(_) => Ok(Redirect::to(&format!(
            "/akten/aussonderung/anbietung/{id}?notice=records_disposal_receipt"
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, as_form_error(e))?;
            render_offer(&st, &ctx, &p, &id, errs, "receipt").await
        }
    }
}
