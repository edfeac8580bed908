//! The staff's search across every module (`/suche`, the field in the staff header, and
//! `GET /api/v1/search`): one query over the index, filtered to what the reader may open.

use crate::api::{ApiError, ApiQuery, ApiUser, Problem};
use crate::ctx::Staff;
use crate::errors::{HtmlError, page};
use crate::layout::Layout;
use crate::pages::layout;
use crate::state::AppState;
use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_search::{Results, SearchRequest, visibility};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Hits per page of the search page.
const PAGE_SIZE: usize = 20;

/// The reader's visibility terms (`rathaus_search::visibility`): staff members read what is
/// open to all staff, what their permissions open (admins: every permission) and what is
/// addressed to them; citizens only what is addressed to them.
pub fn reader_terms(p: &Principal) -> Vec<String> {
    let mut terms = vec![visibility::user(p.user_id)];
    if p.citizen {
        return terms;
    }
    terms.push(visibility::STAFF.to_string());
    if p.is_admin {
        terms.extend(
            rathaus_core::permissions::all()
                .iter()
                .map(|d| visibility::permission(d.code)),
        );
    } else {
        terms.extend(p.permissions.iter().map(|c| visibility::permission(c)));
    }
    terms
}

/// One search of the reader, run off the async threads (tantivy blocks). `kind` limits it
/// to one document kind when given.
pub async fn run(
    st: &AppState,
    p: &Principal,
    text: &str,
    kind: Option<&str>,
    limit: usize,
    offset: usize,
) -> rathaus_core::Result<Results> {
    if p.citizen {
        return Err(Error::Forbidden);
    }
    let search = st.search.clone();
    let tenant = p.tenant_id;
    let reader = reader_terms(p);
    let text = text.to_string();
    let kind = kind.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let kinds: Vec<&str> = kind.as_deref().into_iter().collect();
        search.search(&SearchRequest {
            tenant,
            reader: &reader,
            text: &text,
            kinds: &kinds,
            limit,
            offset,
        })
    })
    .await
    .map_err(Error::internal_from)?
    .map_err(|e| Error::internal(format!("{e:#}")))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    art: String,
    /// 1-based; anything unreadable is the first page.
    #[serde(default)]
    seite: String,
}

struct KindLink {
    name: String,
    label: String,
    count: u64,
    current: bool,
}

struct HitView {
    url: String,
    kind_label: String,
    title_html: String,
    snippet_html: String,
    date: Option<String>,
    department: Option<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchTpl {
    l: Layout,
    q: String,
    kind: String,
    kinds: Vec<KindLink>,
    hits: Vec<HitView>,
    total: usize,
    cut: bool,
    searched: bool,
    page: usize,
    pages: usize,
}

impl SearchTpl {
    /// The page's address for another page number, keeping the query and kind.
    fn page_href(&self, n: usize) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("q", &self.q);
        if !self.kind.is_empty() {
            s.append_pair("art", &self.kind);
        }
        s.append_pair("seite", &n.to_string());
        format!("/suche?{}", s.finish())
    }

    fn kind_href(&self, kind: &str) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("q", &self.q);
        if !kind.is_empty() {
            s.append_pair("art", kind);
        }
        format!("/suche?{}", s.finish())
    }
}

fn kind_label(l: &Layout, kind: &str) -> String {
    let key = format!("search.kind.{kind}");
    let v = l.tr(&key);
    if v == key {
        kind.to_string()
    } else {
        v.to_string()
    }
}

/// `GET /suche?q=…&art=…&seite=…`: the search page; without `q` only the form.
pub async fn page_handler(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Query(q): Query<PageQuery>,
) -> Result<Response, HtmlError> {
    let l = layout(&st, &ctx, "search.title");
    let text = q.q.trim().to_string();
    let kind = q.art.trim().to_string();
    let known = st.search.kinds();
    let kind = if known.iter().any(|k| k.name == kind) {
        kind
    } else {
        String::new()
    };
    let page_no = q.seite.trim().parse::<usize>().unwrap_or(1).clamp(1, 50);
    let mut tpl = SearchTpl {
        l,
        q: text.clone(),
        kind: kind.clone(),
        kinds: vec![],
        hits: vec![],
        total: 0,
        cut: false,
        searched: false,
        page: page_no,
        pages: 0,
    };
    if !text.is_empty() {
        let res = run(
            &st,
            &p,
            &text,
            (!kind.is_empty()).then_some(kind.as_str()),
            PAGE_SIZE,
            (page_no - 1) * PAGE_SIZE,
        )
        .await?;
        // Facet counts without the kind filter, so every kind stays reachable.
        let all = if kind.is_empty() {
            res.facets.kinds.clone()
        } else {
            run(&st, &p, &text, None, 1, 0).await?.facets.kinds
        };
        tpl.kinds = all
            .into_iter()
            .map(|(name, count)| KindLink {
                label: kind_label(&tpl.l, &name),
                current: name == kind,
                name,
                count,
            })
            .collect();
        tpl.hits = res
            .hits
            .into_iter()
            .map(|h| HitView {
                kind_label: kind_label(&tpl.l, &h.kind),
                url: h.url,
                title_html: h.title_html,
                snippet_html: h.snippet_html,
                date: h.date.map(|d| {
                    d.with_timezone(&chrono_tz::Europe::Berlin)
                        .format("%d.%m.%Y")
                        .to_string()
                }),
                department: h.department,
            })
            .collect();
        tpl.total = res.total;
        tpl.cut = res.cut;
        tpl.searched = true;
        tpl.pages = res.total.div_ceil(PAGE_SIZE).min(50);
    }
    page(tpl)
}

/// Query of `GET /api/v1/search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiSearchQuery {
    /// The words to find (plain words; no query syntax).
    pub q: String,
    /// Only this document kind (e.g. `reports.report`).
    pub kind: Option<String>,
    /// Hits per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Hits to skip (at most 1,000).
    #[param(minimum = 0, maximum = 1000)]
    pub offset: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiHit {
    pub kind: String,
    pub id: i64,
    /// The page of the document, relative to the tenant's address.
    pub url: String,
    /// The title, HTML-escaped, with the query words in `<b>`.
    pub title_html: String,
    /// A passage, HTML-escaped, with the query words in `<b>`.
    pub snippet_html: String,
    pub date: Option<chrono::DateTime<chrono::Utc>>,
    pub department: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiSearchResults {
    /// Hits in total that the token's owner may open.
    pub total: usize,
    pub hits: Vec<ApiHit>,
    /// Hits per kind.
    pub kinds: Vec<(String, u64)>,
}

/// Full-text search across every module's documents the token's owner may open.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "platform",
    security(("bearer" = [])),
    params(ApiSearchQuery),
    responses(
        (status = 200, description = "The hits", body = ApiSearchResults),
        (status = 400, description = "Unreadable query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a staff account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `offset` outside its range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn api_search(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<ApiSearchQuery>,
) -> Result<Json<ApiSearchResults>, ApiError> {
    let mut errs = FieldErrors::new();
    let limit = errs.in_range("limit", q.limit.unwrap_or(20), 1..=100);
    let offset = errs.in_range("offset", q.offset.unwrap_or(0), 0..=1000);
    errs.into_result()?;
    let res = run(
        &st,
        &p,
        &q.q,
        q.kind.as_deref(),
        limit as usize,
        offset as usize,
    )
    .await?;
    Ok(Json(ApiSearchResults {
        total: res.total,
        kinds: res.facets.kinds,
        hits: res
            .hits
            .into_iter()
            .map(|h| ApiHit {
                kind: h.kind,
                id: h.id,
                url: h.url,
                title_html: h.title_html,
                snippet_html: h.snippet_html,
                date: h.date,
                department: h.department,
            })
            .collect(),
    }))
}
