//! The programme's pages under /programm: the board, the catalogue, a measure's page (with
//! the move form that works without JavaScript), the concerns log, the team, meetings and
//! the status report. Handlers are thin: they read the request, call the service, render.

use crate::domain::PriorityFormula;
use crate::domain::burnup::{BurnUp, Step};
use crate::formats::burnup_svg;
use crate::permissions::{COORDINATE, EDIT, READ};
use crate::service::concerns::{self, ConcernInput, ConcernPatch};
use crate::service::interviews;
use crate::service::measures::{self, Card, Filter, MeasureInput, Sort};
use crate::service::moves::{self, MoveInput};
use crate::service::report;
use crate::service::{self, Concern, Measure, MeetingItem, Phase, meetings, team};
use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rathaus_core::{Error, Principal};
use rathaus_store::uow::Actor;
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};
use rathaus_web::layout::Layout;
use rathaus_web::pages::{fmt_time, layout, parse_id};
use rathaus_web::{Access, Routes};
use serde::Deserialize;
use std::collections::HashMap;

type Res = Result<Response, HtmlError>;

const READERS: Access = Access::AnyOf(&[READ]);
const EDITORS: Access = Access::AnyOf(&[EDIT]);
const COORDINATORS: Access = Access::AnyOf(&[COORDINATE]);

pub const BOARD_JS: &str = concat!("/programm/board.js?v=", env!("CARGO_PKG_VERSION"), "-1");
pub const CSS: &str = concat!("/programm/programm.css?v=", env!("CARGO_PKG_VERSION"), "-2");

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/programm", READERS, board)
        // Static script and style of the pages: no data.
        .get("/programm/board.js", Access::Public, board_js)
        .get("/programm/programm.css", Access::Public, css)
        .get("/programm/massnahmen", READERS, catalogue)
        .get("/programm/massnahmen.csv", READERS, catalogue_csv)
        .post("/programm/massnahmen", EDITORS, create)
        .get("/programm/massnahmen/neu", EDITORS, new_form)
        .get("/programm/massnahmen/{id}", READERS, detail)
        .get("/programm/massnahmen/{id}/bearbeiten", EDITORS, edit_form)
        .post("/programm/massnahmen/{id}/bearbeiten", EDITORS, edit)
        .post("/programm/massnahmen/{id}/verschieben", EDITORS, move_card)
        .post("/programm/massnahmen/{id}/loeschen", COORDINATORS, delete)
        .get("/programm/erstaufnahme", READERS, interviews_page)
        .post("/programm/erstaufnahme", EDITORS, interview_create)
        .get("/programm/bedenken", READERS, concerns_page)
        .post("/programm/bedenken", EDITORS, concern_create)
        .post("/programm/bedenken/{id}", EDITORS, concern_update)
        .get("/programm/team", READERS, team_page)
        .post("/programm/team", COORDINATORS, team_add)
        .post("/programm/team/{id}/entfernen", COORDINATORS, team_remove)
        .get("/programm/sitzungen", READERS, meetings_page)
        .post("/programm/sitzungen", COORDINATORS, meeting_create)
        .get("/programm/sitzungen/{id}", READERS, meeting_page)
        .post("/programm/sitzungen/{id}/punkte", EDITORS, meeting_item_add)
        .post(
            "/programm/sitzungen/{id}/protokoll",
            EDITORS,
            meeting_minutes,
        )
        .post(
            "/programm/sitzungen/{id}/versenden",
            EDITORS,
            meeting_send_minutes,
        )
        .get("/programm/bericht", READERS, report_page)
        .get("/programm/bericht.csv", READERS, report_csv)
        .get("/programm/bericht/druck", READERS, report_print)
        .post("/programm/bericht", COORDINATORS, report_record)
        .get("/programm/phasen", COORDINATORS, phases_page)
        .post("/programm/phasen/formel", COORDINATORS, formula_update)
        .post("/programm/phasen/{id}", COORDINATORS, phase_update)
}

fn by(p: &Principal) -> Actor<'_> {
    Actor::User(p)
}

fn static_file(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

async fn board_js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/board.js"),
    )
}

async fn css() -> Response {
    static_file(
        "text/css; charset=utf-8",
        include_str!("../../assets/programm.css"),
    )
}

fn with_status(mut r: Response, failed: bool, status: StatusCode) -> Response {
    if failed {
        *r.status_mut() = status;
    }
    r
}

/// The message of a refused action (conflict) in the user's language.
fn conflict_message(t: &Catalog, e: &Error) -> Option<String> {
    match e {
        Error::Conflict(k) => Some(t.get(k).to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------- board

#[derive(Deserialize, Default)]
pub struct BoardQuery {
    #[serde(default)]
    amt: String,
    #[serde(default)]
    verantwortlich: String,
    #[serde(default)]
    bahnen: String,
}

struct CardView {
    id: i64,
    title: String,
    department: String,
    priority: i32,
    responsible: String,
    due: String,
    version: i32,
    concerns: i64,
}

struct Column {
    key: String,
    name: String,
    limit: Option<i32>,
    full: bool,
    cards: Vec<CardView>,
}

struct Lane {
    name: String,
    cols: Vec<Column>,
}

#[derive(Template)]
#[template(path = "programme/board.html")]
struct BoardTpl {
    l: Layout,
    css: &'static str,
    js: &'static str,
    lanes: Vec<Lane>,
    phases: Vec<(String, String)>,
    departments: Vec<String>,
    people: Vec<String>,
    q: BoardQuery,
    refresh: String,
    total: usize,
    can_edit: bool,
}

async fn board(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<BoardQuery>,
) -> Res {
    let t = catalog(ctx.lang);
    let db = &st.db.conn;
    let tenant = p.tenant_id;
    let phases = service::phases(db, by(&p), tenant).await?;
    let f = Filter {
        department: Some(q.amt.clone()).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let mut cards = measures::cards(db, by(&p), tenant, &f).await?;
    let open = measures::open_concern_counts(db, by(&p), tenant).await?;
    let mut departments: Vec<String> = measures::departments(db, by(&p), tenant)
        .await?
        .into_iter()
        .map(|d| d.0)
        .collect();
    departments.dedup();
    let mut people: Vec<String> = cards
        .iter()
        .map(|c| c.responsible_name.clone())
        .filter(|n| !n.is_empty())
        .collect();
    people.sort();
    people.dedup();
    if !q.verantwortlich.is_empty() {
        cards.retain(|c| c.responsible_name == q.verantwortlich);
    }
    let total = cards.len();
    let lane_of = |c: &Card| -> String {
        match q.bahnen.as_str() {
            "amt" => c.department.clone(),
            "verantwortlich" => c.responsible_name.clone(),
            _ => String::new(),
        }
    };
    let mut lane_names: Vec<String> = cards.iter().map(&lane_of).collect();
    lane_names.sort();
    lane_names.dedup();
    if lane_names.is_empty() {
        lane_names.push(String::new());
    }
    let counts: HashMap<i64, usize> = cards.iter().fold(HashMap::new(), |mut m, c| {
        *m.entry(c.phase_id).or_default() += 1;
        m
    });
    let mut lanes: Vec<Lane> = lane_names
        .iter()
        .map(|n| Lane {
            name: n.clone(),
            cols: phases
                .iter()
                .map(|ph| Column {
                    key: ph.key.clone(),
                    name: service::phase_name(t, ph),
                    limit: ph.wip_limit,
                    full: ph.wip_limit.is_some_and(|l| {
                        counts.get(&ph.id).copied().unwrap_or(0) >= usize::try_from(l).unwrap_or(0)
                    }),
                    cards: vec![],
                })
                .collect(),
        })
        .collect();
    for c in cards {
        let lane = lane_names
            .iter()
            .position(|n| *n == lane_of(&c))
            .unwrap_or(0);
        if let Some(ci) = phases.iter().position(|ph| ph.id == c.phase_id) {
            lanes[lane].cols[ci].cards.push(CardView {
                concerns: open.get(&c.id).copied().unwrap_or(0),
                id: c.id,
                title: c.title,
                department: c.department,
                priority: c.priority,
                responsible: c.responsible_name,
                due: c
                    .due
                    .map(|d| d.format("%d.%m.%Y").to_string())
                    .unwrap_or_default(),
                version: c.version,
            });
        }
    }
    let refresh = format!(
        "/programm?amt={}&verantwortlich={}&bahnen={}",
        rathaus_web::ctx::urlencode(&q.amt),
        rathaus_web::ctx::urlencode(&q.verantwortlich),
        rathaus_web::ctx::urlencode(&q.bahnen)
    );
    page(BoardTpl {
        l: layout(&st, &ctx, "programme.board.title"),
        css: CSS,
        js: BOARD_JS,
        lanes,
        phases: phases
            .iter()
            .map(|ph| (ph.key.clone(), service::phase_name(t, ph)))
            .collect(),
        departments,
        people,
        q,
        refresh,
        total,
        can_edit: p.has(EDIT),
    })
}

// ---------------------------------------------------------------- moves

#[derive(Deserialize, Default)]
pub struct MoveForm {
    #[serde(default)]
    phase: String,
    /// 1-based place in the target phase; empty: the end (the board's script sends before_id).
    #[serde(default)]
    position: String,
    #[serde(default)]
    before_id: String,
    #[serde(default)]
    version: String,
}

fn wants_json(h: &HeaderMap) -> bool {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

#[derive(serde::Serialize)]
struct MoveAnswer {
    ok: bool,
    message: String,
    id: i64,
}

async fn move_card(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<MoveForm>,
) -> Res {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    let db = &st.db.conn;
    let mut before_id = f.before_id.trim().parse::<i64>().ok();
    let mut bad_position = false;
    if before_id.is_none() && !f.position.trim().is_empty() {
        match f.position.trim().parse::<u64>() {
            Ok(n) if n >= 1 => {
                before_id =
                    moves::card_at(db, by(&p), p.tenant_id, f.phase.trim(), id, n - 1).await?;
            }
            _ => bad_position = true,
        }
    }
    let inp = MoveInput {
        phase: f.phase.clone(),
        before_id,
        version: f.version.trim().parse().ok(),
    };
    let res = if bad_position {
        Err(rathaus_core::validation::FieldErrors::single(
            "position",
            "programme.err.position",
        ))
    } else {
        moves::move_card(db, Some(&st.live), by(&p), p.tenant_id, id, &inp).await
    };
    let json = wants_json(&headers);
    match res {
        Ok(m) => {
            let name = service::phase_name(t, &m.phase);
            let key = if m.warning {
                "programme.move.done_warning"
            } else {
                "programme.move.done"
            };
            let message = t
                .get(key)
                .replace("{title}", &m.card.title)
                .replace("{phase}", &name);
            if json {
                return Ok(Json(MoveAnswer {
                    ok: true,
                    message,
                    id,
                })
                .into_response());
            }
            Ok(
                Redirect::to(&format!("/programm/massnahmen/{id}?notice=programme_moved"))
                    .into_response(),
            )
        }
        Err(e) => {
            let status = rathaus_web::errors::status_of(&e);
            let message = match &e {
                Error::Conflict(_) => conflict_message(t, &e).unwrap_or_default(),
                Error::Invalid(errs) => errs
                    .0
                    .first()
                    .map(|x| t.get(&x.key).to_string())
                    .unwrap_or_default(),
                Error::NotFound => t.get("programme.err.card_gone").to_string(),
                _ => return Err(e.into()),
            };
            if json {
                return Ok((
                    status,
                    Json(MoveAnswer {
                        ok: false,
                        message,
                        id,
                    }),
                )
                    .into_response());
            }
            if matches!(e, Error::NotFound) {
                return Err(e.into());
            }
            render_detail(&st, &ctx, &p, id, Some(message), f, status).await
        }
    }
}

// ---------------------------------------------------------------- measure page

struct StayView {
    phase: String,
    from: String,
    until: String,
    days: i64,
    by: String,
}

#[derive(Template)]
#[template(path = "programme/measure.html")]
struct DetailTpl {
    l: Layout,
    css: &'static str,
    /// The tenant's priority formula in words.
    formula: String,
    m: Measure,
    description: String,
    phases: Vec<(String, String)>,
    history: Vec<StayView>,
    concerns: Vec<Concern>,
    error: Option<String>,
    f: MoveForm,
    can_edit: bool,
    can_delete: bool,
}

async fn render_detail(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    error: Option<String>,
    f: MoveForm,
    status: StatusCode,
) -> Res {
    let t = catalog(ctx.lang);
    let db = &st.db.conn;
    let m = measures::get(db, by(p), p.tenant_id, id).await?;
    let phases = service::phases(db, by(p), p.tenant_id).await?;
    let name_of = |pid: i64| {
        measures::phase_of(&phases, pid)
            .map(|ph| service::phase_name(t, ph))
            .unwrap_or_default()
    };
    let history = measures::history(db, by(p), p.tenant_id, id)
        .await?
        .into_iter()
        .map(|s| StayView {
            phase: name_of(s.phase_id),
            from: fmt_time(&s.from),
            until: s.until.map(|u| fmt_time(&u)).unwrap_or_default(),
            days: s.days,
            by: s.by,
        })
        .collect();
    let concerns = concerns::list(db, by(p), p.tenant_id, Some(id), false).await?;
    let description = rathaus_web::markdown::render(&m.description)
        .map(|r| r.html)
        .unwrap_or_default();
    let failed = error.is_some();
    let r = page(DetailTpl {
        formula: formula_text(st, p, t).await?,
        l: layout(st, ctx, "programme.measure.title").with_title(m.title.clone()),
        css: CSS,
        phases: phases
            .iter()
            .map(|ph| (ph.key.clone(), service::phase_name(t, ph)))
            .collect(),
        description,
        history,
        concerns,
        error,
        f,
        can_edit: p.has(EDIT),
        can_delete: p.has(COORDINATE),
        m,
    })?;
    Ok(with_status(r, failed, status))
}

async fn detail(State(st): State<AppState>, Staff(ctx, p): Staff, Path(id): Path<String>) -> Res {
    let id = parse_id(&id)?;
    let m = measures::get(&st.db.conn, by(&p), p.tenant_id, id).await?;
    let phases = service::phases(&st.db.conn, by(&p), p.tenant_id).await?;
    let f = MoveForm {
        phase: measures::phase_of(&phases, m.phase_id)
            .map(|ph| ph.key.clone())
            .unwrap_or_default(),
        ..Default::default()
    };
    render_detail(&st, &ctx, &p, id, None, f, StatusCode::OK).await
}

async fn delete(State(st): State<AppState>, Staff(_ctx, p): Staff, Path(id): Path<String>) -> Res {
    let id = parse_id(&id)?;
    measures::delete(&st.db.conn, Some(&st.live), by(&p), p.tenant_id, id).await?;
    Ok(Redirect::to("/programm/massnahmen?notice=programme_deleted").into_response())
}

// ---------------------------------------------------------------- catalogue

#[derive(Deserialize, Default)]
pub struct CatalogueQuery {
    #[serde(default)]
    amt: String,
    #[serde(default)]
    kategorie: String,
    #[serde(default)]
    phase: String,
    #[serde(default)]
    sortierung: String,
    #[serde(default)]
    suche: String,
    #[serde(default)]
    seite: Option<u64>,
}

struct Row {
    m: Measure,
    phase: String,
}

#[derive(Template)]
#[template(path = "programme/catalogue.html")]
struct CatalogueTpl {
    l: Layout,
    css: &'static str,
    /// The tenant's priority formula in words.
    formula: String,
    rows: Vec<Row>,
    total: u64,
    page: u64,
    pages: u64,
    q: CatalogueQuery,
    phases: Vec<(String, String)>,
    departments: Vec<(String, i64)>,
    categories: Vec<&'static str>,
    matrix: Vec<Vec<i64>>,
    can_edit: bool,
    next_url: String,
    prev_url: String,
}

impl CatalogueTpl {
    fn cat(&self, c: &str) -> String {
        self.l.tr(&format!("programme.category.{c}")).to_string()
    }
}

async fn catalogue(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<CatalogueQuery>,
) -> Res {
    let t = catalog(ctx.lang);
    let db = &st.db.conn;
    let phases = service::phases(db, by(&p), p.tenant_id).await?;
    let f = Filter {
        department: Some(q.amt.clone()).filter(|s| !s.is_empty()),
        category: Some(q.kategorie.clone()).filter(|s| !s.is_empty()),
        phase_id: phases.iter().find(|ph| ph.key == q.phase).map(|ph| ph.id),
        q: Some(q.suche.clone()).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let page_no = q.seite.unwrap_or(1).clamp(1, 100_000);
    let (list, total) = measures::list(
        db,
        by(&p),
        p.tenant_id,
        &f,
        Sort::parse(&q.sortierung),
        page_no - 1,
        measures::PAGE_SIZE,
    )
    .await?;
    // The priority matrix (benefit × effort) over the filtered catalogue's first page is too
    // little: count over all matches.
    let (all, _) = measures::list(db, by(&p), p.tenant_id, &f, Sort::Priority, 0, 10_000).await?;
    let mut matrix = vec![vec![0i64; 5]; 5];
    for m in &all {
        let (b, e) = (
            usize::try_from(m.benefit - 1).unwrap_or(0),
            usize::try_from(m.effort - 1).unwrap_or(0),
        );
        if b < 5 && e < 5 {
            matrix[4 - b][e] += 1;
        }
    }
    let rows = list
        .into_iter()
        .map(|m| Row {
            phase: measures::phase_of(&phases, m.phase_id)
                .map(|ph| service::phase_name(t, ph))
                .unwrap_or_default(),
            m,
        })
        .collect();
    let pages = total.div_ceil(measures::PAGE_SIZE).max(1);
    let url = |n: u64| {
        format!(
            "/programm/massnahmen?amt={}&kategorie={}&phase={}&sortierung={}&suche={}&seite={n}",
            rathaus_web::ctx::urlencode(&q.amt),
            rathaus_web::ctx::urlencode(&q.kategorie),
            rathaus_web::ctx::urlencode(&q.phase),
            rathaus_web::ctx::urlencode(&q.sortierung),
            rathaus_web::ctx::urlencode(&q.suche),
        )
    };
    page(CatalogueTpl {
        formula: formula_text(&st, &p, t).await?,
        l: layout(&st, &ctx, "programme.catalogue.title"),
        css: CSS,
        rows,
        total,
        page: page_no,
        pages,
        next_url: url(page_no + 1),
        prev_url: url(page_no.saturating_sub(1).max(1)),
        q,
        phases: phases
            .iter()
            .map(|ph| (ph.key.clone(), service::phase_name(t, ph)))
            .collect(),
        departments: measures::departments(db, by(&p), p.tenant_id).await?,
        categories: crate::domain::CATEGORIES.to_vec(),
        matrix,
        can_edit: p.has(EDIT),
    })
}

/// The catalogue (with the page's filters) for Excel.
async fn catalogue_csv(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<CatalogueQuery>,
) -> Res {
    let t = catalog(ctx.lang);
    let db = &st.db.conn;
    let phases = service::phases(db, by(&p), p.tenant_id).await?;
    let f = Filter {
        department: Some(q.amt.clone()).filter(|s| !s.is_empty()),
        category: Some(q.kategorie.clone()).filter(|s| !s.is_empty()),
        phase_id: phases.iter().find(|ph| ph.key == q.phase).map(|ph| ph.id),
        q: Some(q.suche.clone()).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let (list, _) = measures::list(
        db,
        by(&p),
        p.tenant_id,
        &f,
        Sort::parse(&q.sortierung),
        0,
        100_000,
    )
    .await?;
    let header: Vec<&str> = [
        "programme.field.title",
        "programme.field.department",
        "programme.field.category",
        "programme.move.phase",
        "programme.field.benefit",
        "programme.field.effort",
        "programme.field.priority",
        "programme.field.responsible",
        "programme.field.planned_start",
        "programme.field.due",
        "programme.field.funding",
        "programme.field.source",
        "programme.field.tags",
    ]
    .iter()
    .map(|k| t.get(k))
    .collect();
    let day = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%d.%m.%Y").to_string())
            .unwrap_or_default()
    };
    let rows: Vec<Vec<String>> = list
        .into_iter()
        .map(|m| {
            vec![
                m.title.clone(),
                m.department.clone(),
                t.get(&format!("programme.category.{}", m.category))
                    .to_string(),
                measures::phase_of(&phases, m.phase_id)
                    .map(|ph| service::phase_name(t, ph))
                    .unwrap_or_default(),
                m.benefit.to_string(),
                m.effort.to_string(),
                m.priority.to_string(),
                m.responsible_name.clone(),
                day(m.planned_start),
                day(m.due),
                m.funding.clone(),
                m.source.clone(),
                m.tags.clone(),
            ]
        })
        .collect();
    let body = rathaus_web::export::csv_for_excel(&header, &rows, &[4, 5, 6]);
    Ok(rathaus_web::export::attachment(
        rathaus_web::export::CSV,
        "massnahmen.csv",
        body,
    ))
}

// ---------------------------------------------------------------- measure form

#[derive(Deserialize, Default)]
pub struct MeasureForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    departments: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    benefit: String,
    #[serde(default)]
    effort: String,
    #[serde(default)]
    responsible_id: String,
    #[serde(default)]
    planned_start: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    funding: String,
    #[serde(default)]
    links: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    module_link: String,
    #[serde(default)]
    version: String,
}

impl MeasureForm {
    fn input(&self) -> MeasureInput {
        MeasureInput {
            title: self.title.clone(),
            description: self.description.clone(),
            source: self.source.clone(),
            department: self.department.clone(),
            departments: self.departments.clone(),
            category: self.category.clone(),
            size: self.size.clone(),
            benefit: self.benefit.clone(),
            effort: self.effort.clone(),
            responsible_id: self.responsible_id.clone(),
            planned_start: self.planned_start.clone(),
            due: self.due.clone(),
            funding: self.funding.clone(),
            links: self.links.clone(),
            tags: self.tags.clone(),
            module_link: self.module_link.clone(),
        }
    }

    fn of(m: &Measure) -> Self {
        let i = MeasureInput::of(m);
        MeasureForm {
            title: i.title,
            description: i.description,
            source: i.source,
            department: i.department,
            departments: i.departments,
            category: i.category,
            size: i.size,
            benefit: i.benefit,
            effort: i.effort,
            responsible_id: i.responsible_id,
            planned_start: i.planned_start,
            due: i.due,
            funding: i.funding,
            links: i.links,
            tags: i.tags,
            module_link: i.module_link,
            version: m.version.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "programme/measure_form.html")]
struct FormTpl {
    l: Layout,
    css: &'static str,
    /// The tenant's priority formula in words.
    formula: String,
    action: String,
    f: MeasureForm,
    errs: FormErrors,
    error: Option<String>,
    staff: Vec<(i64, String)>,
    categories: Vec<&'static str>,
    sizes: Vec<&'static str>,
    scores: Vec<i32>,
}

impl FormTpl {
    fn is(&self, a: &str, b: &str) -> bool {
        a == b
    }
    fn person(&self, id: &i64) -> bool {
        self.f.responsible_id.trim() == id.to_string()
    }
    fn score(&self, v: &str, n: &i32) -> bool {
        v.trim() == n.to_string() || (v.trim().is_empty() && *n == 3)
    }
}

async fn render_form(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    action: String,
    f: MeasureForm,
    errs: FormErrors,
    error: Option<String>,
) -> Res {
    let failed = errs.any() || error.is_some();
    let title = if action.ends_with("bearbeiten") {
        "programme.form.edit_title"
    } else {
        "programme.form.new_title"
    };
    let r = page(FormTpl {
        formula: formula_text(st, p, catalog(ctx.lang)).await?,
        l: layout(st, ctx, title),
        css: CSS,
        action,
        f,
        errs,
        error,
        staff: team::staff(&st.db.conn, by(p), p.tenant_id).await?,
        categories: crate::domain::CATEGORIES.to_vec(),
        sizes: crate::domain::SIZES.to_vec(),
        scores: (1..=5).collect(),
    })?;
    Ok(with_status(r, failed, StatusCode::UNPROCESSABLE_ENTITY))
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    /// An interview the measure comes from: its department and source are filled in.
    #[serde(default)]
    gespraech: Option<String>,
}

async fn new_form(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<NewQuery>,
) -> Res {
    p.require(EDIT)?;
    let t = catalog(ctx.lang);
    let mut f = MeasureForm::default();
    if let Some(id) = q
        .gespraech
        .as_deref()
        .and_then(|i| i.trim().parse::<i64>().ok())
    {
        let i = interviews::get(&st.db.conn, by(&p), p.tenant_id, id).await?;
        f.source = format!(
            "{} {} {}",
            t.get("programme.interviews.source"),
            i.department,
            i.date.format("%d.%m.%Y")
        );
        f.department = i.department;
    }
    render_form(
        &st,
        &ctx,
        &p,
        "/programm/massnahmen".into(),
        f,
        FormErrors::none(t),
        None,
    )
    .await
}

async fn create(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<MeasureForm>,
) -> Res {
    let t = catalog(ctx.lang);
    match measures::create(&st.db.conn, Some(&st.live), by(&p), p.tenant_id, &f.input()).await {
        Ok((m, _)) => Ok(Redirect::to(&format!(
            "/programm/massnahmen/{}?notice=programme_saved",
            m.id
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_form(&st, &ctx, &p, "/programm/massnahmen".into(), f, errs, None).await
        }
    }
}

async fn edit_form(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Res {
    let id = parse_id(&id)?;
    p.require(EDIT)?;
    let t = catalog(ctx.lang);
    let m = measures::get(&st.db.conn, by(&p), p.tenant_id, id).await?;
    render_form(
        &st,
        &ctx,
        &p,
        format!("/programm/massnahmen/{id}/bearbeiten"),
        MeasureForm::of(&m),
        FormErrors::none(t),
        None,
    )
    .await
}

async fn edit(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<MeasureForm>,
) -> Res {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    let version = f.version.trim().parse().ok();
    match measures::update(
        &st.db.conn,
        Some(&st.live),
        by(&p),
        p.tenant_id,
        id,
        &f.input(),
        version,
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/programm/massnahmen/{id}?notice=programme_saved"))
                .into_response(),
        ),
        Err(Error::Conflict(k)) => {
            let msg = t.get(&k).to_string();
            render_form(
                &st,
                &ctx,
                &p,
                format!("/programm/massnahmen/{id}/bearbeiten"),
                f,
                FormErrors::none(t),
                Some(msg),
            )
            .await
        }
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_form(
                &st,
                &ctx,
                &p,
                format!("/programm/massnahmen/{id}/bearbeiten"),
                f,
                errs,
                None,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- initial survey

#[derive(Deserialize, Default)]
pub struct InterviewForm {
    #[serde(default)]
    department: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    people: String,
    #[serde(default)]
    notes: String,
}

#[derive(Template)]
#[template(path = "programme/interviews.html")]
struct InterviewsTpl {
    l: Layout,
    css: &'static str,
    list: Vec<interviews::Interview>,
    /// Department, interviews, measures raised.
    departments: Vec<(String, usize, i64)>,
    f: InterviewForm,
    errs: FormErrors,
    can_edit: bool,
}

async fn render_interviews(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: InterviewForm,
    errs: FormErrors,
) -> Res {
    let db = &st.db.conn;
    let list = interviews::list(db, by(p), p.tenant_id).await?;
    let raised = measures::departments(db, by(p), p.tenant_id).await?;
    let mut departments: Vec<(String, usize, i64)> = raised
        .iter()
        .map(|(d, n)| {
            (
                d.clone(),
                list.iter().filter(|i| i.department == *d).count(),
                *n,
            )
        })
        .collect();
    for i in &list {
        if !departments.iter().any(|d| d.0 == i.department) {
            let n = list.iter().filter(|x| x.department == i.department).count();
            departments.push((i.department.clone(), n, 0));
        }
    }
    departments.sort();
    let failed = errs.any();
    let r = page(InterviewsTpl {
        l: layout(st, ctx, "programme.interviews.title"),
        css: CSS,
        list,
        departments,
        f,
        errs,
        can_edit: p.has(EDIT),
    })?;
    Ok(with_status(r, failed, StatusCode::UNPROCESSABLE_ENTITY))
}

async fn interviews_page(State(st): State<AppState>, Staff(ctx, p): Staff) -> Res {
    let t = catalog(ctx.lang);
    render_interviews(&st, &ctx, &p, InterviewForm::default(), FormErrors::none(t)).await
}

async fn interview_create(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<InterviewForm>,
) -> Res {
    let t = catalog(ctx.lang);
    match interviews::create(
        &st.db.conn,
        by(&p),
        p.tenant_id,
        &f.department,
        &f.date,
        &f.people,
        &f.notes,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/programm/erstaufnahme?notice=programme_saved").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_interviews(&st, &ctx, &p, f, errs).await
        }
    }
}

// ---------------------------------------------------------------- concerns

#[derive(Deserialize, Default)]
pub struct ConcernForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    measure_id: String,
    #[serde(default)]
    anonymous: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ConcernUpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    response: String,
}

#[derive(Template)]
#[template(path = "programme/concerns.html")]
struct ConcernsTpl {
    l: Layout,
    css: &'static str,
    list: Vec<Concern>,
    titles: HashMap<i64, String>,
    f: ConcernForm,
    errs: FormErrors,
    kinds: Vec<&'static str>,
    statuses: Vec<&'static str>,
    can_edit: bool,
}

impl ConcernsTpl {
    fn title(&self, id: &Option<i64>) -> String {
        id.and_then(|i| self.titles.get(&i).cloned())
            .unwrap_or_default()
    }
}

async fn render_concerns(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: ConcernForm,
    errs: FormErrors,
) -> Res {
    let db = &st.db.conn;
    let list = concerns::list(db, by(p), p.tenant_id, None, false).await?;
    let (all, _) = measures::list(
        db,
        by(p),
        p.tenant_id,
        &Filter::default(),
        Sort::Title,
        0,
        10_000,
    )
    .await?;
    let failed = errs.any();
    let r = page(ConcernsTpl {
        l: layout(st, ctx, "programme.concerns.title"),
        css: CSS,
        list,
        titles: all.into_iter().map(|m| (m.id, m.title)).collect(),
        f,
        errs,
        kinds: crate::domain::CONCERN_KINDS.to_vec(),
        statuses: crate::domain::CONCERN_STATUSES.to_vec(),
        can_edit: p.has(EDIT),
    })?;
    Ok(with_status(r, failed, StatusCode::UNPROCESSABLE_ENTITY))
}

async fn concerns_page(State(st): State<AppState>, Staff(ctx, p): Staff) -> Res {
    let t = catalog(ctx.lang);
    render_concerns(&st, &ctx, &p, ConcernForm::default(), FormErrors::none(t)).await
}

async fn concern_create(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<ConcernForm>,
) -> Res {
    let t = catalog(ctx.lang);
    let inp = ConcernInput {
        text: f.text.clone(),
        kind: f.kind.clone(),
        measure_id: f.measure_id.trim().parse().ok(),
        anonymous: f.anonymous.is_some(),
    };
    match concerns::create(&st.db.conn, Some(&st.live), by(&p), p.tenant_id, &inp).await {
        Ok(_) => Ok(Redirect::to("/programm/bedenken?notice=programme_saved").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_concerns(&st, &ctx, &p, f, errs).await
        }
    }
}

async fn concern_update(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<ConcernUpdateForm>,
) -> Res {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    let patch = ConcernPatch {
        status: Some(f.status),
        response: Some(f.response),
        ..Default::default()
    };
    match concerns::update(&st.db.conn, Some(&st.live), by(&p), p.tenant_id, id, &patch).await {
        Ok(_) => Ok(Redirect::to("/programm/bedenken?notice=programme_saved").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_concerns(&st, &ctx, &p, ConcernForm::default(), errs).await
        }
    }
}

// ---------------------------------------------------------------- team

#[derive(Deserialize, Default)]
pub struct MemberForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    coordinator: Option<String>,
}

#[derive(Template)]
#[template(path = "programme/team.html")]
struct TeamTpl {
    l: Layout,
    css: &'static str,
    members: Vec<service::Member>,
    staff: Vec<(i64, String)>,
    f: MemberForm,
    errs: FormErrors,
    can_coordinate: bool,
}

async fn render_team(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: MemberForm,
    errs: FormErrors,
) -> Res {
    let failed = errs.any();
    let r = page(TeamTpl {
        l: layout(st, ctx, "programme.team.title"),
        css: CSS,
        members: team::list(&st.db.conn, by(p), p.tenant_id).await?,
        staff: team::staff(&st.db.conn, by(p), p.tenant_id).await?,
        f,
        errs,
        can_coordinate: p.has(COORDINATE),
    })?;
    Ok(with_status(r, failed, StatusCode::UNPROCESSABLE_ENTITY))
}

async fn team_page(State(st): State<AppState>, Staff(ctx, p): Staff) -> Res {
    let t = catalog(ctx.lang);
    render_team(&st, &ctx, &p, MemberForm::default(), FormErrors::none(t)).await
}

async fn team_add(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<MemberForm>,
) -> Res {
    let t = catalog(ctx.lang);
    let Ok(uid) = f.user_id.trim().parse::<i64>() else {
        let errs = FormErrors::new(t, {
            let mut e = rathaus_core::validation::FieldErrors::new();
            e.add("user_id", "err.required");
            e
        });
        return render_team(&st, &ctx, &p, f, errs).await;
    };
    match team::add(
        &st.db.conn,
        by(&p),
        p.tenant_id,
        uid,
        &f.department,
        &f.role,
        f.coordinator.is_some(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/programm/team?notice=programme_saved").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_team(&st, &ctx, &p, f, errs).await
        }
    }
}

async fn team_remove(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Res {
    let id = parse_id(&id)?;
    team::remove(&st.db.conn, by(&p), p.tenant_id, id).await?;
    Ok(Redirect::to("/programm/team?notice=programme_saved").into_response())
}

// ---------------------------------------------------------------- meetings

#[derive(Deserialize, Default)]
pub struct MeetingForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    place: String,
}

#[derive(Template)]
#[template(path = "programme/meetings.html")]
struct MeetingsTpl {
    l: Layout,
    css: &'static str,
    list: Vec<service::Meeting>,
    f: MeetingForm,
    errs: FormErrors,
    can_coordinate: bool,
}

async fn render_meetings(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: MeetingForm,
    errs: FormErrors,
) -> Res {
    let failed = errs.any();
    let r = page(MeetingsTpl {
        l: layout(st, ctx, "programme.meetings.title"),
        css: CSS,
        list: meetings::list(&st.db.conn, by(p), p.tenant_id).await?,
        f,
        errs,
        can_coordinate: p.has(COORDINATE),
    })?;
    Ok(with_status(r, failed, StatusCode::UNPROCESSABLE_ENTITY))
}

async fn meetings_page(State(st): State<AppState>, Staff(ctx, p): Staff) -> Res {
    let t = catalog(ctx.lang);
    render_meetings(&st, &ctx, &p, MeetingForm::default(), FormErrors::none(t)).await
}

async fn meeting_create(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<MeetingForm>,
) -> Res {
    let t = catalog(ctx.lang);
    match meetings::create(&st.db.conn, by(&p), p.tenant_id, &f.date, &f.place).await {
        Ok((m, _)) => Ok(Redirect::to(&format!(
            "/programm/sitzungen/{}?notice=programme_saved",
            m.id
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_meetings(&st, &ctx, &p, f, errs).await
        }
    }
}

struct ItemView {
    it: MeetingItem,
    html: String,
}

#[derive(Template)]
#[template(path = "programme/meeting.html")]
struct MeetingTpl {
    l: Layout,
    css: &'static str,
    m: service::Meeting,
    date: String,
    items: Vec<ItemView>,
    minutes_html: String,
    errs: FormErrors,
    can_edit: bool,
}

impl MeetingTpl {
    fn kind(&self, k: &str) -> String {
        self.l.tr(&format!("programme.agenda.{k}")).to_string()
    }
}

async fn render_meeting(st: &AppState, ctx: &Ctx, p: &Principal, id: i64, errs: FormErrors) -> Res {
    let (m, items) = meetings::get(&st.db.conn, by(p), p.tenant_id, id).await?;
    let md = |s: &str| {
        rathaus_web::markdown::render(s)
            .map(|r| r.html)
            .unwrap_or_default()
    };
    let failed = errs.any();
    let r = page(MeetingTpl {
        l: layout(st, ctx, "programme.meeting.title"),
        css: CSS,
        date: m.date.format("%d.%m.%Y").to_string(),
        minutes_html: md(&m.minutes),
        items: items
            .into_iter()
            .map(|it| ItemView {
                html: md(&it.minutes),
                it,
            })
            .collect(),
        m,
        errs,
        can_edit: p.has(EDIT),
    })?;
    Ok(with_status(r, failed, StatusCode::UNPROCESSABLE_ENTITY))
}

async fn meeting_page(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Res {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    render_meeting(&st, &ctx, &p, id, FormErrors::none(t)).await
}

#[derive(Deserialize, Default)]
pub struct ItemForm {
    #[serde(default)]
    title: String,
}

async fn meeting_item_add(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<ItemForm>,
) -> Res {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    match meetings::add_item(&st.db.conn, by(&p), p.tenant_id, id, &f.title).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/programm/sitzungen/{id}?notice=programme_saved"))
                .into_response(),
        ),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_meeting(&st, &ctx, &p, id, errs).await
        }
    }
}

async fn meeting_minutes(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Res {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let items: Vec<(i64, String)> = f
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("item-")
                .and_then(|i| i.parse().ok())
                .map(|i| (i, v.clone()))
        })
        .collect();
    match meetings::save_minutes(
        &st.db.conn,
        by(&p),
        p.tenant_id,
        id,
        &get("minutes"),
        &get("attendance"),
        &items,
    )
    .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/programm/sitzungen/{id}?notice=programme_saved"))
                .into_response(),
        ),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_meeting(&st, &ctx, &p, id, errs).await
        }
    }
}

// ---------------------------------------------------------------- report

#[derive(Template)]
#[template(path = "programme/report.html")]
struct ReportTpl {
    l: Layout,
    css: &'static str,
    r: report::Report,
    names: Vec<String>,
    last: String,
    burn: Vec<(String, i64, i64)>,
    step_key: &'static str,
    chart: String,
    burn_summary: String,
    can_coordinate: bool,
}

/// The status report to print: the same content without navigation and forms.
#[derive(Template)]
#[template(path = "programme/report_print.html")]
struct ReportPrintTpl {
    l: Layout,
    css: &'static str,
    r: report::Report,
    names: Vec<String>,
    last: String,
    burn: Vec<(String, i64, i64)>,
    step_key: &'static str,
    chart: String,
    burn_summary: String,
    as_of: String,
}

/// The burn-up as the page shows it: table rows (step, done, total), the translation key of
/// the step column, the SVG chart and its summary sentence.
struct BurnView {
    rows: Vec<(String, i64, i64)>,
    step_key: &'static str,
    chart: String,
    summary: String,
}

fn burn_view(t: &Catalog, b: &BurnUp) -> BurnView {
    let (long, short, step_key) = match b.step {
        Step::Week => ("%d.%m.%Y", "%d.%m.", "programme.report.week"),
        Step::Month => ("%m/%Y", "%m/%y", "programme.report.month"),
    };
    let rows: Vec<(String, i64, i64)> = b
        .points
        .iter()
        .map(|p| (p.start.format(long).to_string(), p.done, p.total))
        .collect();
    let summary = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => t
            .get("programme.report.burn_summary")
            .replace("{from}", &first.0)
            .replace("{to}", &last.0)
            .replace("{done}", &last.1.to_string())
            .replace("{total}", &last.2.to_string()),
        _ => String::new(),
    };
    let chart = burnup_svg::svg(&burnup_svg::Chart {
        id: "burn".into(),
        title: t.get("programme.report.burn_up").to_string(),
        desc: summary.clone(),
        labels: b
            .points
            .iter()
            .map(|p| p.start.format(short).to_string())
            .collect(),
        done: b.points.iter().map(|p| p.done).collect(),
        total: b.points.iter().map(|p| p.total).collect(),
        done_name: t.get("programme.report.done").to_string(),
        total_name: t.get("programme.report.total").to_string(),
    });
    BurnView {
        rows,
        step_key,
        chart,
        summary,
    }
}

fn phase_names(t: &Catalog, r: &report::Report) -> Vec<String> {
    r.phases
        .iter()
        .map(|ph| service::phase_name(t, ph))
        .collect()
}

async fn report_page(State(st): State<AppState>, Staff(ctx, p): Staff) -> Res {
    let t = catalog(ctx.lang);
    let r = report::build(&st.db.conn, by(&p), p.tenant_id).await?;
    let b = burn_view(t, &r.burn_up);
    page(ReportTpl {
        l: layout(&st, &ctx, "programme.report.title"),
        css: CSS,
        names: phase_names(t, &r),
        last: r.last_report.map(|d| fmt_time(&d)).unwrap_or_default(),
        r,
        burn: b.rows,
        step_key: b.step_key,
        chart: b.chart,
        burn_summary: b.summary,
        can_coordinate: p.has(COORDINATE),
    })
}

async fn report_print(State(st): State<AppState>, Staff(ctx, p): Staff) -> Res {
    let t = catalog(ctx.lang);
    let r = report::build(&st.db.conn, by(&p), p.tenant_id).await?;
    let b = burn_view(t, &r.burn_up);
    page(ReportPrintTpl {
        l: layout(&st, &ctx, "programme.report.title"),
        css: CSS,
        names: phase_names(t, &r),
        last: r.last_report.map(|d| fmt_time(&d)).unwrap_or_default(),
        r,
        burn: b.rows,
        step_key: b.step_key,
        chart: b.chart,
        burn_summary: b.summary,
        as_of: fmt_time(&chrono::Utc::now()),
    })
}

async fn report_csv(State(st): State<AppState>, Staff(ctx, p): Staff) -> Res {
    let t = catalog(ctx.lang);
    let r = report::build(&st.db.conn, by(&p), p.tenant_id).await?;
    let mut header = vec![t.get("programme.report.department").to_string()];
    header.extend(r.phases.iter().map(|ph| service::phase_name(t, ph)));
    let mut rows: Vec<Vec<String>> = r
        .per_department
        .iter()
        .map(|(d, counts)| {
            let mut row = vec![d.clone()];
            row.extend(counts.iter().map(|n| n.to_string()));
            row
        })
        .collect();
    let mut sum = vec![t.get("programme.report.total").to_string()];
    sum.extend(r.per_phase.iter().map(|n| n.to_string()));
    rows.push(sum);
    let numbers: Vec<usize> = (1..=r.phases.len()).collect();
    let body = rathaus_web::export::csv_for_excel(&header, &rows, &numbers);
    Ok(rathaus_web::export::attachment(
        rathaus_web::export::CSV,
        "statusbericht.csv",
        body,
    ))
}

async fn report_record(State(st): State<AppState>, Staff(_ctx, p): Staff) -> Res {
    report::record(&st.db.conn, by(&p), p.tenant_id).await?;
    Ok(Redirect::to("/programm/bericht?notice=programme_saved").into_response())
}

// ---------------------------------------------------------------- phases

#[derive(Template)]
#[template(path = "programme/phases.html")]
struct PhasesTpl {
    l: Layout,
    css: &'static str,
    phases: Vec<(Phase, String)>,
    errs: FormErrors,
    /// The priority formula form: as stored, or as typed when refused.
    formula: FormulaForm,
    formula_errs: FormErrors,
}

#[derive(Deserialize, Default)]
pub struct FormulaForm {
    #[serde(default)]
    priority_formula: String,
    #[serde(default)]
    benefit_weight: String,
    #[serde(default)]
    effort_weight: String,
}

impl FormulaForm {
    fn of(f: PriorityFormula) -> FormulaForm {
        let (b, e) = f.weights();
        FormulaForm {
            priority_formula: f.code().into(),
            benefit_weight: b.to_string(),
            effort_weight: e.to_string(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct PhaseForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    wip_limit: String,
    #[serde(default)]
    warn_only: Option<String>,
}

async fn render_phases(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    errs: FormErrors,
    formula: Option<(FormulaForm, FormErrors)>,
) -> Res {
    p.require(COORDINATE)?;
    let t = catalog(ctx.lang);
    let (formula, formula_errs) = match formula {
        Some(x) => x,
        None => (
            FormulaForm::of(service::settings::formula(&st.db.conn, by(p), p.tenant_id).await?),
            FormErrors::none(t),
        ),
    };
    let failed = errs.any() || formula_errs.any();
    let phases = service::phases(&st.db.conn, by(p), p.tenant_id).await?;
    let r = page(PhasesTpl {
        l: layout(st, ctx, "programme.phases.title"),
        css: CSS,
        phases: phases
            .into_iter()
            .map(|ph| {
                let n = service::phase_name(t, &ph);
                (ph, n)
            })
            .collect(),
        errs,
        formula,
        formula_errs,
    })?;
    Ok(with_status(r, failed, StatusCode::UNPROCESSABLE_ENTITY))
}

async fn phases_page(State(st): State<AppState>, Staff(ctx, p): Staff) -> Res {
    let t = catalog(ctx.lang);
    render_phases(&st, &ctx, &p, FormErrors::none(t), None).await
}

/// Chooses the priority formula; every measure's priority is recomputed.
async fn formula_update(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Form(f): Form<FormulaForm>,
) -> Res {
    let t = catalog(ctx.lang);
    match service::settings::set_formula(
        &st.db.conn,
        by(&p),
        p.tenant_id,
        &f.priority_formula,
        &f.benefit_weight,
        &f.effort_weight,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/programm/phasen?notice=programme_saved").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_phases(&st, &ctx, &p, FormErrors::none(t), Some((f, errs))).await
        }
    }
}

async fn phase_update(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<PhaseForm>,
) -> Res {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    match service::update_phase(
        &st.db.conn,
        by(&p),
        p.tenant_id,
        id,
        &f.name,
        &f.wip_limit,
        f.warn_only.is_some(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/programm/phasen?notice=programme_saved").into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_phases(&st, &ctx, &p, errs, None).await
        }
    }
}

/// Sends the minutes to the team (mail text plus a printable HTML file).
async fn meeting_send_minutes(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> Res {
    let id = parse_id(&id)?;
    let t = catalog(ctx.lang);
    match meetings::send_minutes(&st.db.conn, by(&p), p.tenant_id, id).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/programm/sitzungen/{id}?notice=programme_minutes_sent"
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(t, e)?;
            render_meeting(&st, &ctx, &p, id, errs).await
        }
    }
}

/// The tenant's priority formula in words, as the catalogue, a measure and its form show it.
async fn formula_text(st: &AppState, p: &Principal, t: &Catalog) -> Result<String, Error> {
    let f = service::settings::formula(&st.db.conn, by(p), p.tenant_id).await?;
    let (min, max) = f.range();
    Ok(match f {
        PriorityFormula::Product => t.get("programme.priority.formula").to_string(),
        PriorityFormula::Weighted { benefit, effort } => t
            .get("programme.priority.formula_weighted")
            .replace("{b}", &benefit.to_string())
            .replace("{e}", &effort.to_string())
            .replace("{min}", &min.to_string())
            .replace("{max}", &max.to_string()),
    })
}
