//! Staff pages under /akten: the file list, new file, the file page (cases, documents with
//! versions, uploads, follow-ups, closing, access log), the file plan with its import, the
//! inbox, the follow-ups due, the dog-tax register with CSV/XLSX export and the search. All
//! work without JavaScript; uploads take several files at once (`<input multiple>`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_store::files::ByteRange;
use rathaus_store::uow::Actor;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::{Access, AppState, Routes};
use serde::Deserialize;

use super::READERS;
use super::api::{download_response, limits, read_parts};
use crate::domain::{Coded, Direction, Disposition, FileKind, FileState, RetentionStart, SubKind};
use crate::permissions::{DOG, MANAGE, SUBJECT_ACCESS};
use crate::service::documents::{self, DocumentInput};
use crate::service::files::{self, AccessEntry, FileInput, FileQuery, FileView};
use crate::service::follow_ups::{self, FollowUpInput};
use crate::service::{inbox, plan, plan_import, search, today};

const MANAGERS: Access = Access::AnyOf(&[MANAGE]);
const DOGS: Access = Access::AnyOf(&[DOG]);

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/akten", READERS, file_list)
        .get("/akten/neu", MANAGERS, new_file_form)
        .post("/akten/neu", MANAGERS, new_file_post)
        .get("/akten/akte/{id}", READERS, file_page)
        .post("/akten/akte/{id}/dokumente", MANAGERS, upload_documents)
        .post(
            "/akten/akte/{id}/dokumente/{doc}/version",
            MANAGERS,
            upload_version,
        )
        .post("/akten/akte/{id}/schliessen", MANAGERS, close_file)
        .post("/akten/akte/{id}/vorgang", MANAGERS, add_case)
        .post("/akten/akte/{id}/wiedervorlage", MANAGERS, add_follow_up)
        .post(
            "/akten/wiedervorlagen/{id}/erledigt",
            MANAGERS,
            follow_up_done,
        )
        .get("/akten/dokumente/{id}/inhalt", READERS, download)
        .get("/akten/aktenplan", READERS, plan_page)
        .post("/akten/aktenplan", MANAGERS, plan_post)
        .post("/akten/aktenplan/import", MANAGERS, plan_import_post)
        .get("/akten/posteingang", MANAGERS, inbox_page)
        .post("/akten/posteingang", MANAGERS, inbox_upload)
        .post("/akten/posteingang/{id}/zuordnen", MANAGERS, inbox_assign)
        .get("/akten/wiedervorlagen", READERS, follow_ups_page)
        .get("/akten/hunderegister", DOGS, dog_register)
        .get("/akten/suche", READERS, search_page)
}

fn fmt(d: &Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d.%m.%Y").to_string())
        .unwrap_or_default()
}

fn id_of(s: &str) -> Result<i64, Error> {
    s.parse().map_err(|_| Error::NotFound)
}

fn label<T: Coded>(t: &Catalog, code: &str) -> String {
    T::parse(code)
        .map(|v| t.get(&v.label_key()).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn options<T: Coded>(t: &Catalog) -> Vec<(&'static str, String)> {
    T::ALL
        .iter()
        .map(|v| (v.code(), t.get(&v.label_key()).to_string()))
        .collect()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------- file list

struct FileRow {
    id: i64,
    number: String,
    title: String,
    kind: String,
    state: String,
    subject: String,
    opened: String,
}

fn file_row(t: &Catalog, f: &files::File) -> FileRow {
    FileRow {
        id: f.id,
        number: f.file_number.clone(),
        title: f.title.clone(),
        kind: match f.sub_kind.as_deref() {
            Some(s) => format!(
                "{} – {}",
                label::<FileKind>(t, &f.kind),
                label::<SubKind>(t, s)
            ),
            None => label::<FileKind>(t, &f.kind),
        },
        state: label::<FileState>(t, &f.state),
        subject: f.subject_name.clone().unwrap_or_default(),
        opened: f.opened_on.format("%d.%m.%Y").to_string(),
    }
}

#[derive(Deserialize, Default, Clone)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    art: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    seite: Option<u64>,
}

impl ListQuery {
    fn link(&self, page: u64) -> String {
        format!(
            "/akten?q={}&art={}&status={}&plan={}&seite={page}",
            enc(&self.q),
            enc(&self.art),
            enc(&self.status),
            enc(&self.plan)
        )
    }
}

#[derive(Template)]
#[template(path = "records/index.html")]
struct IndexTpl {
    l: Layout,
    rows: Vec<FileRow>,
    total: u64,
    f: ListQuery,
    kinds: Vec<(&'static str, String)>,
    states: Vec<(&'static str, String)>,
    plans: Vec<(String, String)>,
    can_manage: bool,
    can_dog: bool,
    can_disclose: bool,
    prev: Option<String>,
    next: Option<String>,
}

async fn file_list(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let by = Actor::User(&p);
    let page_no = q.seite.unwrap_or(1).clamp(1, 100_000);
    let plans = plan::list(&st.db.conn, by, p.tenant_id).await?;
    let query = FileQuery {
        kind: FileKind::parse(&q.art),
        state: FileState::parse(&q.status),
        plan_item_id: plans.iter().find(|x| x.code == q.plan.trim()).map(|x| x.id),
        q: q.q.clone(),
        page: page_no - 1,
    };
    let (total, rows) = files::list(&st.db.conn, by, p.tenant_id, &query).await?;
    page(IndexTpl {
        l: layout(&st, &ctx, "records.files"),
        rows: rows.iter().map(|f| file_row(t, f)).collect(),
        next: (page_no * files::PAGE_SIZE < total).then(|| q.link(page_no + 1)),
        prev: (page_no > 1).then(|| q.link(page_no - 1)),
        total,
        kinds: options::<FileKind>(t),
        states: options::<FileState>(t),
        plans: plans
            .into_iter()
            .map(|x| (x.code.clone(), format!("{} {}", x.code, x.title)))
            .collect(),
        can_manage: p.has(MANAGE),
        can_dog: p.has(DOG),
        can_disclose: p.has(SUBJECT_ACCESS),
        f: q,
    })
}

// ---------------------------------------------------------------- new file

#[derive(Deserialize, Default, Clone)]
struct NewFileForm {
    #[serde(default)]
    plan_code: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    subject_name: String,
    #[serde(default)]
    subject_birth_date: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    sub_kind: String,
    #[serde(default)]
    application_on: String,
    #[serde(default)]
    approval_end_on: String,
    #[serde(default)]
    dog_name: String,
    #[serde(default)]
    dog_breed: String,
    #[serde(default)]
    dog_list_dog: Option<String>,
    #[serde(default)]
    dog_tag: String,
    #[serde(default)]
    dog_registered_on: String,
    #[serde(default)]
    dog_deregistered_on: String,
    #[serde(default)]
    dog_tax_class: String,
    #[serde(default)]
    leaving_on: String,
}

#[derive(Template)]
#[template(path = "records/new.html")]
struct NewTpl {
    l: Layout,
    f: NewFileForm,
    errs: FormErrors,
    plans: Vec<(String, String)>,
    kinds: Vec<(&'static str, String)>,
    sub_kinds: Vec<(&'static str, String)>,
}

async fn render_new(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: NewFileForm,
    errs: FormErrors,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let plans = plan::list(&st.db.conn, Actor::User(p), p.tenant_id).await?;
    // Only the kinds the user may create.
    let kinds = FileKind::ALL
        .iter()
        .filter(|k| {
            crate::domain::AccessClass::of(**k, None)
                .permissions()
                .iter()
                .all(|x| p.has(x))
        })
        .map(|k| (k.code(), t.get(&k.label_key()).to_string()))
        .collect();
    let failed = errs.any();
    respond(
        page(NewTpl {
            l: layout(st, ctx, "records.new_file"),
            f,
            errs,
            plans: plans
                .into_iter()
                .map(|x| (x.code.clone(), format!("{} {}", x.code, x.title)))
                .collect(),
            kinds,
            sub_kinds: options::<SubKind>(t),
        }),
        failed,
    )
}

#[derive(Deserialize, Default)]
struct NewQuery {
    #[serde(default)]
    hauptakte: String,
}

async fn new_file_form(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<NewQuery>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let f = NewFileForm {
        parent_id: q.hauptakte.clone(),
        kind: if q.hauptakte.is_empty() {
            String::new()
        } else {
            FileKind::Personnel.code().to_string()
        },
        ..Default::default()
    };
    render_new(&st, &ctx, &p, f, FormErrors::none(t)).await
}

async fn new_file_post(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<NewFileForm>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let parent_id = match f.parent_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                let errs = FormErrors::new(t, {
                    let mut e = FieldErrors::new();
                    e.add("parent_id", files::ERR_PARENT);
                    e
                });
                return render_new(&st, &ctx, &p, f, errs).await;
            }
        },
    };
    let input = FileInput {
        plan_code: f.plan_code.clone(),
        title: f.title.clone(),
        kind: f.kind.clone(),
        subject_name: f.subject_name.clone(),
        subject_birth_date: f.subject_birth_date.clone(),
        parent_id,
        sub_kind: f.sub_kind.clone(),
        department_id: None,
        opened_on: String::new(),
        application_on: f.application_on.clone(),
        approval_end_on: f.approval_end_on.clone(),
        dog_name: f.dog_name.clone(),
        dog_breed: f.dog_breed.clone(),
        dog_list_dog: f.dog_list_dog.is_some(),
        dog_tag: f.dog_tag.clone(),
        dog_registered_on: f.dog_registered_on.clone(),
        dog_deregistered_on: f.dog_deregistered_on.clone(),
        dog_tax_class: f.dog_tax_class.clone(),
        leaving_on: f.leaving_on.clone(),
    };
    match files::create(&st.db.conn, Actor::User(&p), p.tenant_id, &input).await {
        Ok(file) => Ok(
            Redirect::to(&format!("/akten/akte/{}?notice=records_saved", file.id)).into_response(),
        ),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_new(&st, &ctx, &p, f, errs).await
        }
    }
}

// ---------------------------------------------------------------- file page

struct VersionRow {
    version: i32,
    name: String,
    size: String,
    by: String,
    at: String,
}

struct DocRow {
    id: i64,
    title: String,
    date: String,
    direction: String,
    tags: String,
    case: String,
    current: i32,
    versions: Vec<VersionRow>,
}

/// What a failed form on the file page keeps (which form, the values typed).
#[derive(Default)]
struct Kept {
    case_title: String,
    due_on: String,
    note: String,
    closed_on: String,
    doc_title: String,
    doc_date: String,
    tags: String,
    direction: String,
    /// The document whose version upload failed.
    version_doc: Option<i64>,
}

#[derive(Template)]
#[template(path = "records/file.html")]
struct FileTpl {
    l: Layout,
    v: FileView,
    kind: String,
    state: String,
    sub_kind: String,
    plan: String,
    disposition: String,
    retention_start: String,
    open: bool,
    can_manage: bool,
    docs: Vec<DocRow>,
    subs: Vec<FileRow>,
    cases: Vec<(i64, String, String)>,
    follow_ups: Vec<(i64, String, String, bool)>,
    log: Vec<AccessEntry>,
    restricted: bool,
    directions: Vec<(&'static str, String)>,
    errs: FormErrors,
    k: Kept,
}

impl FileTpl {
    fn vfail(&self, id: &i64) -> bool {
        self.k.version_doc == Some(*id)
    }

    fn d(&self, d: &Option<NaiveDate>) -> String {
        fmt(d)
    }
}

async fn render_file(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    errs: FormErrors,
    k: Kept,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let by = Actor::User(p);
    let v = files::open(&st.db.conn, by, p.tenant_id, id).await?;
    let class = crate::domain::AccessClass::parse(&v.file.access);
    let restricted = class.is_none_or(|c| c.restricted());
    let log = if restricted {
        files::access_log(&st.db.conn, by, p.tenant_id, id).await?
    } else {
        vec![]
    };
    let cases: Vec<(i64, String, String)> = v
        .cases
        .iter()
        .map(|c| {
            (
                c.id,
                c.title.clone(),
                c.opened_on.format("%d.%m.%Y").to_string(),
            )
        })
        .collect();
    let docs = v
        .documents
        .iter()
        .map(|d| DocRow {
            id: d.id,
            title: d.title.clone(),
            date: d.doc_date.format("%d.%m.%Y").to_string(),
            direction: label::<Direction>(t, &d.direction),
            tags: d.tags.replace(',', ", "),
            case: d
                .case_id
                .and_then(|c| cases.iter().find(|x| x.0 == c))
                .map(|x| x.1.clone())
                .unwrap_or_default(),
            current: d.current_version,
            versions: v
                .versions
                .iter()
                .filter(|x| x.document_id == d.id)
                .map(|x| VersionRow {
                    version: x.version,
                    name: x.name.clone(),
                    size: rathaus_store::files::human_size(u64::try_from(x.size).unwrap_or(0)),
                    by: x.uploaded_by.clone(),
                    at: x
                        .uploaded_at
                        .with_timezone(&chrono_tz::Europe::Berlin)
                        .format("%d.%m.%Y %H:%M")
                        .to_string(),
                })
                .collect(),
        })
        .collect();
    let follow_ups = v
        .follow_ups
        .iter()
        .map(|f| {
            (
                f.id,
                f.due_on.format("%d.%m.%Y").to_string(),
                f.note.clone(),
                f.done_at.is_some(),
            )
        })
        .collect();
    let failed = errs.any();
    respond(
        page(FileTpl {
            l: layout(st, ctx, "records.files")
                .with_title(format!("{} – {}", v.file.file_number, v.file.title)),
            kind: label::<FileKind>(t, &v.file.kind),
            state: label::<FileState>(t, &v.file.state),
            sub_kind: v
                .file
                .sub_kind
                .as_deref()
                .map(|s| label::<SubKind>(t, s))
                .unwrap_or_default(),
            plan: format!("{} {}", v.plan.code, v.plan.title),
            disposition: label::<Disposition>(t, &v.plan.disposition),
            retention_start: label::<RetentionStart>(t, &v.plan.retention_start),
            open: v.file.state == FileState::Open.code(),
            can_manage: p.has(MANAGE),
            docs,
            subs: v.sub_files.iter().map(|f| file_row(t, f)).collect(),
            cases,
            follow_ups,
            log,
            restricted,
            directions: options::<Direction>(t),
            errs,
            k,
            v,
        }),
        failed,
    )
}

async fn file_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    render_file(
        &st,
        &ctx,
        &p,
        id,
        FormErrors::none(catalog(ctx.lang)),
        Kept::default(),
    )
    .await
}

async fn upload_documents(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let parts = read_parts(&st, req).await;
    let (parts, mut k) = match parts {
        Ok(parts) => {
            let k = Kept {
                doc_title: parts.get("title"),
                doc_date: parts.get("doc_date"),
                tags: parts.get("tags"),
                direction: parts.get("direction"),
                ..Default::default()
            };
            (parts, k)
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            return render_file(&st, &ctx, &p, id, errs, Kept::default()).await;
        }
    };
    if parts.files.is_empty() {
        let errs = FormErrors::new(t, {
            let mut e = FieldErrors::new();
            e.add("file", "err.required");
            e
        });
        return render_file(&st, &ctx, &p, id, errs, k).await;
    }
    let several = parts.files.len() > 1;
    for (name, data) in parts.files.iter().cloned() {
        let input = DocumentInput {
            // With several files each takes its own name as title.
            title: if several {
                String::new()
            } else {
                k.doc_title.clone()
            },
            doc_date: k.doc_date.clone(),
            direction: k.direction.clone(),
            tags: k.tags.clone(),
            case_id: parts.get("case_id").trim().parse().ok(),
        };
        let res = documents::add(
            &st.db,
            &st.files,
            Actor::User(&p),
            p.tenant_id,
            id,
            &input,
            limits(&st),
            &name,
            futures_util::stream::iter([Ok::<_, std::io::Error>(data)]),
        )
        .await;
        if let Err(e) = res {
            k.version_doc = None;
            let errs = FormErrors::from_error(t, conflict_on("file", e))?;
            return render_file(&st, &ctx, &p, id, errs, k).await;
        }
    }
    Ok(Redirect::to(&format!("/akten/akte/{id}?notice=records_uploaded")).into_response())
}

async fn upload_version(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path((id, doc)): Path<(String, String)>,
    req: axum::extract::Request,
) -> Result<Response, HtmlError> {
    let (id, doc) = (id_of(&id)?, id_of(&doc)?);
    let t = catalog(ctx.lang);
    let k = Kept {
        version_doc: Some(doc),
        ..Default::default()
    };
    let res = async {
        let parts = read_parts(&st, req).await?;
        let Some((name, data)) = parts.files.into_iter().next() else {
            return Err(FieldErrors::single("file", "err.required"));
        };
        documents::add_version(
            &st.db,
            &st.files,
            Actor::User(&p),
            p.tenant_id,
            doc,
            Some(id),
            limits(&st),
            &name,
            futures_util::stream::iter([Ok::<_, std::io::Error>(data)]),
        )
        .await
    }
    .await;
    match res {
        Ok(_) => Ok(Redirect::to(&format!(
            "/akten/akte/{id}?notice=records_uploaded#dokument-{doc}"
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, conflict_on("file", e))?;
            render_file(&st, &ctx, &p, id, errs, k).await
        }
    }
}

/// A conflict (closed file, …) shown at a form field instead of an error page.
fn conflict_on(field: &str, e: Error) -> Error {
    match e {
        Error::Conflict(k) => FieldErrors::single(field, &k),
        e => e,
    }
}

#[derive(Deserialize, Default)]
struct CloseForm {
    #[serde(default)]
    closed_on: String,
}

async fn close_file(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<CloseForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    match files::close(&st.db.conn, Actor::User(&p), p.tenant_id, id, &f.closed_on).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/akten/akte/{id}?notice=records_closed")).into_response())
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            let k = Kept {
                closed_on: f.closed_on,
                ..Default::default()
            };
            render_file(&st, &ctx, &p, id, errs, k).await
        }
    }
}

#[derive(Deserialize, Default)]
struct CaseForm {
    #[serde(default)]
    case_title: String,
}

async fn add_case(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<CaseForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    match files::create_case(&st.db.conn, Actor::User(&p), p.tenant_id, id, &f.case_title).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/akten/akte/{id}?notice=records_saved")).into_response())
        }
        Err(e) => {
            // The service names the field `title`; the page's field is `case_title`.
            let e = match e {
                Error::Invalid(fe) => {
                    let mut out = FieldErrors::new();
                    for x in fe.0 {
                        out.add("case_title", &x.key);
                    }
                    Error::Invalid(out)
                }
                e => e,
            };
            let errs = FormErrors::from_error(t, e)?;
            let k = Kept {
                case_title: f.case_title,
                ..Default::default()
            };
            render_file(&st, &ctx, &p, id, errs, k).await
        }
    }
}

#[derive(Deserialize, Default)]
struct FollowUpForm {
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    note: String,
}

async fn add_follow_up(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<FollowUpForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let input = FollowUpInput {
        due_on: f.due_on.clone(),
        note: f.note.clone(),
        user_id: Some(p.user_id.0),
        ..Default::default()
    };
    match follow_ups::create(&st.db.conn, Actor::User(&p), p.tenant_id, id, &input).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/akten/akte/{id}?notice=records_saved")).into_response())
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            let k = Kept {
                due_on: f.due_on,
                note: f.note,
                ..Default::default()
            };
            render_file(&st, &ctx, &p, id, errs, k).await
        }
    }
}

#[derive(Deserialize, Default)]
struct BackForm {
    #[serde(default)]
    back: String,
}

async fn follow_up_done(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<BackForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    follow_ups::done(&st.db.conn, Actor::User(&p), p.tenant_id, id).await?;
    let back = rathaus_web::pages::safe_next(&f.back).unwrap_or("/akten/wiedervorlagen");
    Ok(Redirect::to(back).into_response())
}

#[derive(Deserialize, Default)]
struct ContentQuery {
    version: Option<i32>,
}

async fn download(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
    Query(q): Query<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(ByteRange::parse);
    let (_d, ver, dl) = documents::download(
        &st.db,
        &st.files,
        Actor::User(&p),
        p.tenant_id,
        id,
        q.version,
        range,
    )
    .await?;
    Ok(download_response(&ver.name, &ver.mime, dl))
}

// ---------------------------------------------------------------- plan

#[derive(Deserialize, Default, Clone)]
struct PlanForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    retention_years: String,
    #[serde(default)]
    retention_start: String,
    #[serde(default)]
    disposition: String,
}

#[derive(Template)]
#[template(path = "records/plan.html")]
struct PlanTpl {
    l: Layout,
    items: Vec<(usize, plan::PlanItem, String, String)>,
    can_manage: bool,
    f: PlanForm,
    errs: FormErrors,
    starts: Vec<(&'static str, String)>,
    dispositions: Vec<(&'static str, String)>,
    report: Vec<String>,
}

async fn render_plan(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: PlanForm,
    errs: FormErrors,
    report: Vec<String>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let items = plan::list(&st.db.conn, Actor::User(p), p.tenant_id).await?;
    let rows = items
        .iter()
        .map(|i| {
            (
                plan::depth(&items, i),
                i.clone(),
                label::<Disposition>(t, &i.disposition),
                label::<RetentionStart>(t, &i.retention_start),
            )
        })
        .collect();
    let failed = errs.any();
    respond(
        page(PlanTpl {
            l: layout(st, ctx, "records.plan"),
            items: rows,
            can_manage: p.has(MANAGE),
            f,
            errs,
            starts: options::<RetentionStart>(t),
            dispositions: options::<Disposition>(t),
            report,
        }),
        failed,
    )
}

async fn plan_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    render_plan(
        &st,
        &ctx,
        &p,
        PlanForm::default(),
        FormErrors::none(t),
        vec![],
    )
    .await
}

async fn plan_post(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<PlanForm>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let input = plan::PlanItemInput {
        code: f.code.clone(),
        title: f.title.clone(),
        retention_years: f.retention_years.clone(),
        retention_start: f.retention_start.clone(),
        disposition: f.disposition.clone(),
    };
    match plan::create(&st.db.conn, Actor::User(&p), p.tenant_id, &input).await {
        Ok(_) => Ok(Redirect::to("/akten/aktenplan?notice=records_saved").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_plan(&st, &ctx, &p, f, errs, vec![]).await
        }
    }
}

async fn plan_import_post(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    req: axum::extract::Request,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let none = || FormErrors::none(t);
    let res = async {
        let parts = read_parts(&st, req).await?;
        let commit = parts.get("commit") == "1";
        let Some((_, data)) = parts.files.into_iter().next() else {
            return Err(FieldErrors::single("file", "err.required"));
        };
        plan_import::import(&st.db.conn, Actor::User(&p), p.tenant_id, &data, commit).await
    }
    .await;
    match res {
        Ok(out) => {
            let mut report: Vec<String> = out
                .errors
                .iter()
                .map(|l| plan_import::line_text(t, l))
                .collect();
            report.push(
                t.get("records.import.summary")
                    .replace("{rows}", &out.rows.to_string())
                    .replace("{errors}", &out.errors.len().to_string()),
            );
            if out.committed {
                report.push(t.get("records.import.committed").to_string());
            }
            render_plan(&st, &ctx, &p, PlanForm::default(), none(), report).await
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_plan(&st, &ctx, &p, PlanForm::default(), errs, vec![]).await
        }
    }
}

// ---------------------------------------------------------------- inbox

#[derive(Template)]
#[template(path = "records/inbox.html")]
struct InboxTpl {
    l: Layout,
    items: Vec<(i64, String, String, String)>,
    errs: FormErrors,
    failed_item: Option<i64>,
    file_number: String,
    /// The open files the failed assignment's text matched (Aktenzeichen, title), to choose.
    matches: Vec<(String, String)>,
    /// The departments' inboxes the user may choose (id, name, chosen).
    choices: Vec<(i64, String, bool)>,
    /// The chosen inbox as the `bereich` parameter (empty: the general inbox).
    bereich: String,
}

/// `?bereich=`: a department's inbox; empty the general one; absent the user's default.
#[derive(Deserialize, Default)]
struct InboxQuery {
    bereich: Option<String>,
}

/// The chosen inbox and the choices; a department the user may not choose (or no number)
/// is a field error and shows the general inbox.
async fn chosen_inbox(
    st: &AppState,
    p: &Principal,
    bereich: Option<&str>,
) -> Result<(Option<i64>, Vec<(i64, String)>, Option<Error>), Error> {
    let by = Actor::User(p);
    let choices = inbox::departments(&st.db, by, p.tenant_id).await?;
    let allowed = |d: i64| choices.iter().any(|(id, _)| *id == d);
    let (chosen, bad) = match bereich.map(str::trim) {
        None => {
            let d = inbox::default_department(&st.db, by, p.tenant_id).await?;
            (d.filter(|d| allowed(*d)), false)
        }
        Some("") => (None, false),
        Some(s) => match s.parse::<i64>() {
            Ok(d) if allowed(d) => (Some(d), false),
            _ => (None, true),
        },
    };
    let errs = bad.then(|| FieldErrors::single("department", inbox::ERR_DEPARTMENT));
    Ok((chosen, choices, errs))
}

impl InboxTpl {
    fn failed(&self, id: &i64) -> bool {
        self.failed_item == Some(*id)
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_inbox(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    errs: FormErrors,
    failed_item: Option<i64>,
    file_number: String,
    chosen: Option<i64>,
    choices: Vec<(i64, String)>,
) -> Result<Response, HtmlError> {
    let matches = match failed_item {
        Some(_) if errs.is(inbox::ERR_AMBIGUOUS) => {
            inbox::matching_files(&st.db, Actor::User(p), p.tenant_id, &file_number)
                .await?
                .1
                .into_iter()
                .map(|f| (f.file_number, f.title))
                .collect()
        }
        _ => vec![],
    };
    let items = inbox::list(&st.db, Actor::User(p), p.tenant_id, chosen).await?;
    let failed = errs.any();
    respond(
        page(InboxTpl {
            l: layout(st, ctx, "records.inbox"),
            items: items
                .into_iter()
                .map(|i| {
                    (
                        i.id,
                        i.name,
                        rathaus_store::files::human_size(u64::try_from(i.size).unwrap_or(0)),
                        i.uploaded_at
                            .with_timezone(&chrono_tz::Europe::Berlin)
                            .format("%d.%m.%Y %H:%M")
                            .to_string(),
                    )
                })
                .collect(),
            errs,
            failed_item,
            file_number,
            matches,
            choices: choices
                .into_iter()
                .map(|(id, name)| (id, name, chosen == Some(id)))
                .collect(),
            bereich: chosen.map(|d| d.to_string()).unwrap_or_default(),
        }),
        failed,
    )
}

async fn inbox_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<InboxQuery>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (chosen, choices, bad) = chosen_inbox(&st, &p, q.bereich.as_deref()).await?;
    let errs = match bad {
        Some(e) => FormErrors::from_error(t, e)?,
        None => FormErrors::none(t),
    };
    render_inbox(&st, &ctx, &p, errs, None, String::new(), chosen, choices).await
}

/// The inbox page's address with the chosen inbox and a notice.
fn inbox_url(chosen: Option<i64>, notice: &str) -> String {
    format!(
        "/akten/posteingang?bereich={}&notice={notice}",
        chosen.map(|d| d.to_string()).unwrap_or_default()
    )
}

async fn inbox_upload(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<InboxQuery>,
    req: axum::extract::Request,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (chosen, choices, bad) =
        chosen_inbox(&st, &p, Some(q.bereich.as_deref().unwrap_or(""))).await?;
    if let Some(e) = bad {
        let errs = FormErrors::from_error(t, e)?;
        return render_inbox(&st, &ctx, &p, errs, None, String::new(), chosen, choices).await;
    }
    let res = async {
        let parts = read_parts(&st, req).await?;
        if parts.files.is_empty() {
            return Err(FieldErrors::single("file", "err.required"));
        }
        for (name, data) in parts.files {
            inbox::upload(
                &st.db,
                &st.files,
                Actor::User(&p),
                p.tenant_id,
                chosen,
                limits(&st),
                &name,
                futures_util::stream::iter([Ok::<_, std::io::Error>(data)]),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    match res {
        Ok(()) => Ok(Redirect::to(&inbox_url(chosen, "records_uploaded")).into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_inbox(&st, &ctx, &p, errs, None, String::new(), chosen, choices).await
        }
    }
}

#[derive(Deserialize, Default)]
struct AssignForm {
    #[serde(default)]
    file_number: String,
    #[serde(default)]
    title: String,
    /// The inbox the page showed (to show it again).
    #[serde(default)]
    bereich: String,
}

async fn inbox_assign(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<AssignForm>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let input = DocumentInput {
        title: f.title.clone(),
        ..Default::default()
    };
    match inbox::assign(
        &st.db,
        Actor::User(&p),
        p.tenant_id,
        id,
        &f.file_number,
        &input,
    )
    .await
    {
        Ok(_) => {
            let (chosen, _, _) = chosen_inbox(&st, &p, Some(&f.bereich)).await?;
            Ok(Redirect::to(&inbox_url(chosen, "records_assigned")).into_response())
        }
        Err(e) => {
            let e = match e {
                Error::Conflict(k) => FieldErrors::single("file_number", &k),
                e => e,
            };
            let errs = FormErrors::from_error(t, e)?;
            let (chosen, choices, _) = chosen_inbox(&st, &p, Some(&f.bereich)).await?;
            render_inbox(
                &st,
                &ctx,
                &p,
                errs,
                Some(id),
                f.file_number,
                chosen,
                choices,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- follow-ups

#[derive(Template)]
#[template(path = "records/follow_ups.html")]
struct FollowUpsTpl {
    l: Layout,
    rows: Vec<(i64, String, i64, String, String, String)>,
}

async fn follow_ups_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
) -> Result<Response, HtmlError> {
    let until = today() + chrono::Duration::days(14);
    let rows = follow_ups::due(&st.db.conn, Actor::User(&p), p.tenant_id, until).await?;
    page(FollowUpsTpl {
        l: layout(&st, &ctx, "records.follow_ups"),
        rows: rows
            .into_iter()
            .map(|(fu, f)| {
                (
                    fu.id,
                    fu.due_on.format("%d.%m.%Y").to_string(),
                    f.id,
                    f.file_number,
                    f.title,
                    fu.note,
                )
            })
            .collect(),
    })
}

// ---------------------------------------------------------------- dog-tax register

#[derive(Deserialize, Default)]
struct FormatQuery {
    #[serde(default)]
    format: String,
}

fn dog_rows(t: &Catalog, list: &[files::File]) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "records.field.dog_tag",
        "records.field.file_number",
        "records.field.subject_name",
        "records.field.dog_name",
        "records.field.dog_breed",
        "records.field.dog_list_dog",
        "records.field.dog_tax_class",
        "records.field.dog_registered_on",
        "records.field.dog_deregistered_on",
    ]
    .iter()
    .map(|k| t.get(k).to_string())
    .collect();
    let yes = t.get("records.yes").to_string();
    let rows = list
        .iter()
        .map(|f| {
            vec![
                f.dog_tag.clone().unwrap_or_default(),
                f.file_number.clone(),
                f.subject_name.clone().unwrap_or_default(),
                f.dog_name.clone().unwrap_or_default(),
                f.dog_breed.clone().unwrap_or_default(),
                if f.dog_list_dog {
                    yes.clone()
                } else {
                    String::new()
                },
                f.dog_tax_class.clone().unwrap_or_default(),
                fmt(&f.dog_registered_on),
                fmt(&f.dog_deregistered_on),
            ]
        })
        .collect();
    (header, rows)
}

#[derive(Template)]
#[template(path = "records/dogs.html")]
struct DogsTpl {
    l: Layout,
    header: Vec<String>,
    rows: Vec<(i64, Vec<String>)>,
}

async fn dog_register(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<FormatQuery>,
) -> Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let by = Actor::User(&p);
    let list = files::dog_register(&st.db.conn, by, p.tenant_id).await?;
    let (header, rows) = dog_rows(t, &list);
    match rathaus_web::export::Format::parse(Some(&q.format)).filter(|_| !q.format.is_empty()) {
        Some(format) => {
            let what = format!("dog_register.{}", format.code());
            files::audit_export(&st.db.conn, by, p.tenant_id, &what, rows.len()).await?;
            let table = rathaus_web::export::Table {
                sheet: t.get("records.dog_register").to_string(),
                header,
                rows: rows
                    .into_iter()
                    .map(|r| r.into_iter().map(Into::into).collect())
                    .collect(),
            };
            Ok(table.download(format, "hundesteuerregister")?)
        }
        None => page(DogsTpl {
            l: layout(&st, &ctx, "records.dog_register"),
            header,
            rows: list.iter().map(|f| f.id).zip(rows).collect(),
        }),
    }
}

// ---------------------------------------------------------------- search

#[derive(Deserialize, Default)]
struct SearchForm {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "records/search.html")]
struct SearchTpl {
    l: Layout,
    q: String,
    found: Option<search::Found>,
}

async fn search_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<SearchForm>,
) -> Result<Response, HtmlError> {
    let found = if q.q.trim().is_empty() {
        crate::service::access::Filter::of(Actor::User(&p)).require_any()?;
        None
    } else {
        Some(
            search::search(
                &st.db,
                st.search.clone(),
                Actor::User(&p),
                p.tenant_id,
                &q.q,
                50,
                0,
            )
            .await?,
        )
    };
    page(SearchTpl {
        l: layout(&st, &ctx, "records.search"),
        q: q.q,
        found,
    })
}
