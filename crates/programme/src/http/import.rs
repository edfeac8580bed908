//! The list import over pages, without JavaScript: upload → report (dry run) → "commit" of
//! the stored upload. Handlers are thin; `service::imports` does the work.

use askama::Template;
use axum::Form;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::Response;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_store::uow::{Actor, Tx};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::{Access, Routes};
use serde::Deserialize;

use super::pages::CSS;
use crate::permissions::EDIT;
use crate::service::imports::{self, MAX_FILE_BYTES, Outcome};

type Res = Result<Response, HtmlError>;

const EDITORS: Access = Access::AnyOf(&[EDIT]);
const MODULE: &str = "programme";
const KIND: &str = "measures_import";

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/programm/massnahmen/import", EDITORS, form)
        .post(
            "/programm/massnahmen/import",
            EDITORS,
            upload.layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 256 * 1024)),
        )
        .post("/programm/massnahmen/import/uebernehmen", EDITORS, commit)
}

struct Line {
    error: bool,
    sheet: String,
    row: String,
    column: String,
    message: String,
}

struct Summary {
    rows: usize,
    created: usize,
    committed: bool,
    errors: usize,
    warnings: usize,
    lines: Vec<Line>,
    /// The stored upload to commit (clean dry run only).
    file_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "programme/import.html")]
struct ImportTpl {
    l: Layout,
    css: &'static str,
    errs: FormErrors,
    report: Option<Summary>,
}

/// The report's lines with the German (or English) messages.
fn summary(t: &Catalog, o: &Outcome, file_id: Option<i64>) -> Summary {
    let lines = o
        .report
        .issues
        .iter()
        .map(|i| Line {
            error: i.severity == rathaus_import::Severity::Error,
            sheet: i.sheet.clone(),
            row: i.row.map(|r| r.to_string()).unwrap_or_default(),
            column: i.column.clone().unwrap_or_default(),
            message: imports::message(t, i),
        })
        .collect();
    Summary {
        rows: o.report.rows.len(),
        created: o.created,
        committed: o.committed,
        errors: o.report.errors,
        warnings: o.report.warnings,
        lines,
        file_id: file_id.filter(|_| !o.report.has_errors() && !o.committed),
    }
}

fn render(st: &AppState, ctx: &Ctx, errs: FormErrors, report: Option<Summary>) -> Res {
    let failed = errs.any() || report.as_ref().is_some_and(|r| r.errors > 0);
    let mut res = page(ImportTpl {
        l: layout(st, ctx, "programme.import.title"),
        css: CSS,
        errs,
        report,
    })?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// A file error (not a spreadsheet, empty, too large) as the form's error: 422, nothing kept.
fn file_error(st: &AppState, ctx: &Ctx, e: Error) -> Res {
    match e {
        e @ Error::Invalid(_) => {
            render(st, ctx, FormErrors::from_error(catalog(ctx.lang), e)?, None)
        }
        e => Err(e.into()),
    }
}

async fn form(State(st): State<AppState>, Staff(ctx, p): Staff) -> Res {
    p.require(EDIT)?;
    render(&st, &ctx, FormErrors::none(catalog(ctx.lang)), None)
}

const FILES: rathaus_store::files::Limits = rathaus_store::files::Limits {
    max_size: MAX_FILE_BYTES as u64,
    quota: None,
};

/// The upload's bytes and name; `None` when the body could not be read (too large).
async fn read_upload(st: &AppState, req: axum::extract::Request) -> Option<(Vec<u8>, String)> {
    let mut mp = Multipart::from_request(req, st).await.ok()?;
    let mut out = (Vec::new(), String::from("import"));
    while let Some(f) = mp.next_field().await.ok()? {
        if f.name() == Some("file") {
            out.1 = f.file_name().unwrap_or("import").to_string();
            out.0 = f.bytes().await.ok()?.to_vec();
        }
    }
    Some(out)
}

/// Upload: the dry run's report; a clean file is kept to commit with one more click.
async fn upload(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    req: axum::extract::Request,
) -> Res {
    p.require(EDIT)?;
    let t = catalog(ctx.lang);
    let Some((data, name)) = read_upload(&st, req).await else {
        let mut errs = FieldErrors::new();
        errs.add_arg(
            "file",
            "import.err.file_too_large",
            Some(MAX_FILE_BYTES / 1024 / 1024),
        );
        return file_error(&st, &ctx, Error::Invalid(errs));
    };
    if data.is_empty() {
        return file_error(
            &st,
            &ctx,
            FieldErrors::single("file", "import.err.empty_file"),
        );
    }
    let out = match imports::import(
        &st.db.conn,
        Some(&st.live),
        by(&p),
        p.tenant_id,
        &data,
        false,
    )
    .await
    {
        Ok(o) => o,
        Err(e) => return file_error(&st, &ctx, e),
    };
    let file_id = if out.report.has_errors() {
        None
    } else {
        let meta = st
            .files
            .put(
                &st.db,
                p.tenant_id,
                by(&p),
                rathaus_store::files::NewFile {
                    module: MODULE,
                    kind: KIND,
                    original_name: &name,
                },
                FILES,
                data.as_slice(),
            )
            .await?;
        Some(meta.id.0)
    };
    render(
        &st,
        &ctx,
        FormErrors::none(t),
        Some(summary(t, &out, file_id)),
    )
}

#[derive(Deserialize)]
struct CommitForm {
    #[serde(default)]
    file_id: String,
}

fn by(p: &Principal) -> Actor<'_> {
    Actor::User(p)
}

/// Commit of a checked upload: everything or nothing; the upload is deleted afterwards.
async fn commit(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<CommitForm>,
) -> Res {
    p.require(EDIT)?;
    let t = catalog(ctx.lang);
    let id: i64 = f.file_id.trim().parse().map_err(|_| Error::NotFound)?;
    let fid = rathaus_store::files::FileId(id);
    let meta = st
        .files
        .metadata(&st.db.conn, p.tenant_id, by(&p), fid)
        .await?;
    if meta.module != MODULE || meta.kind != KIND {
        return Err(Error::NotFound.into());
    }
    let dl = st
        .files
        .get(&st.db.conn, p.tenant_id, by(&p), fid, None)
        .await?;
    let mut data = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
    let mut body = dl.body;
    while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
        data.extend_from_slice(&chunk.map_err(Error::internal)?);
    }
    let out = match imports::import(
        &st.db.conn,
        Some(&st.live),
        by(&p),
        p.tenant_id,
        &data,
        true,
    )
    .await
    {
        Ok(o) => o,
        Err(e) => return file_error(&st, &ctx, e),
    };
    if out.committed {
        let tx = Tx::begin(&st.db.conn, p.tenant_id, by(&p)).await?;
        st.files.delete(&tx, fid).await?;
        tx.commit().await?;
    }
    render(&st, &ctx, FormErrors::none(t), Some(summary(t, &out, None)))
}
