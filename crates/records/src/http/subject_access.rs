//! The subject access page (Art. 15 DSGVO): a form for name and birth date; sending it
//! streams the ZIP, bad input shows the form again with the typed values and the errors.

use askama::Template;
use axum::Form;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use rathaus_store::uow::Actor;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::{Access, AppState, Routes};
use serde::Deserialize;

use crate::permissions::SUBJECT_ACCESS;
use crate::service::subject_access::{self, SubjectInput};

const DISCLOSERS: Access = Access::AnyOf(&[SUBJECT_ACCESS]);

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/akten/auskunft", DISCLOSERS, form)
        .post("/akten/auskunft", DISCLOSERS, post)
}

#[derive(Deserialize, Default, Clone)]
struct SubjectForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    birth_date: String,
}

#[derive(Template)]
#[template(path = "records/subject_access.html")]
struct FormTpl {
    l: Layout,
    f: SubjectForm,
    errs: FormErrors,
}

fn render(
    st: &AppState,
    ctx: &Ctx,
    f: SubjectForm,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let failed = errs.any();
    respond(
        page(FormTpl {
            l: layout(st, ctx, "records.subject_access.title"),
            f,
            errs,
        }),
        failed,
    )
}

async fn form(State(st): State<AppState>, Staff(ctx, _p): Staff) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    render(&st, &ctx, SubjectForm::default(), FormErrors::none(t))
}

async fn post(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<SubjectForm>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let input = SubjectInput {
        name: f.name.clone(),
        birth_date: f.birth_date.clone(),
    };
    match subject_access::export(
        &st.db.conn,
        st.files.clone(),
        Actor::User(&p),
        p.tenant_id,
        &input,
    )
    .await
    {
        Ok(x) => {
            let mut res = Response::new(Body::from_stream(x.body));
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", x.name)) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render(&st, &ctx, f, errs)
        }
    }
}
