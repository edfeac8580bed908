//! Use cases of the handbooks: permission → validation → change + audit in one transaction
//! → commit. Every save of a page is a version; saves carry the version they started from
//! and a save against a newer version is refused (`knowledge.err.conflict`), never merged
//! silently.

pub mod attachments;
pub mod changes;
pub mod comments;
pub mod onboarding;
pub mod reminders;
pub mod search;

use crate::domain::comments::Change;
use crate::domain::diff::{self, WordDiff};
use crate::domain::{self, Visibility, links};
use crate::permissions::{EDIT, MANAGE, READ};
use crate::store::entity::{chapter, confirmation, handbook, page, version};
use chrono::{DateTime, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId};
use rathaus_store::accounts;
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use std::collections::HashMap;

pub use crate::store::entity::chapter::Model as Chapter;
pub use crate::store::entity::handbook::Model as Handbook;
pub use crate::store::entity::page::Model as Page;
pub use crate::store::entity::version::Model as Version;

/// Translation key of the refused stale save.
pub const CONFLICT_KEY: &str = "knowledge.err.conflict";

/// The reader with what decides visibility: permissions, department and roles.
pub struct Reader<'a> {
    pub p: &'a Principal,
    pub department_id: Option<i64>,
    pub role_ids: Vec<i64>,
}

impl<'a> Reader<'a> {
    pub async fn load(conn: &impl ConnectionTrait, by: Actor<'a>) -> Result<Reader<'a>> {
        let p = principal(by)?;
        if p.citizen {
            return Err(Error::Forbidden);
        }
        let user = accounts::user_by_id(conn, p.tenant_id, p.user_id.0).await?;
        Ok(Reader {
            p,
            department_id: user.department_id,
            role_ids: accounts::own_role_ids(conn, p).await?,
        })
    }

    pub fn manages(&self) -> bool {
        self.p.has(MANAGE)
    }

    pub fn may_read(&self, h: &Handbook) -> bool {
        if self.manages() {
            return true;
        }
        if !self.p.has(READ) && !self.p.has(EDIT) {
            return false;
        }
        match Visibility::parse(&h.visibility) {
            Some(Visibility::All) => true,
            Some(Visibility::Department) => {
                h.department_id.is_some() && h.department_id == self.department_id
            }
            Some(Visibility::Roles) => domain::parse_ids(&h.role_ids)
                .iter()
                .any(|r| self.role_ids.contains(r)),
            None => false,
        }
    }

    pub fn may_edit(&self, h: &Handbook) -> bool {
        self.manages() || (self.p.has(EDIT) && self.may_read(h))
    }

    /// The page is readable: its handbook is, and a draft only for its editors.
    pub fn may_read_page(&self, h: &Handbook, pg: &Page) -> bool {
        pg.deleted_at.is_none() && self.may_read(h) && (!pg.draft || self.may_edit(h))
    }

    /// The reader answers for the page: its owner person or a member of its owner role.
    pub fn owns(&self, pg: &Page) -> bool {
        pg.owner_user_id == Some(self.p.user_id.0)
            || pg.owner_role_id.is_some_and(|r| self.role_ids.contains(&r))
    }

    /// The search terms of this reader beyond the platform's (`reader_terms`).
    pub fn extra_terms(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .role_ids
            .iter()
            .map(|r| search::role_term(*r))
            .collect();
        if let Some(d) = self.department_id {
            t.push(rathaus_search::visibility::department(d));
        }
        t
    }
}

/// The person behind a user or token actor (the system has none).
pub(crate) fn principal<'a>(by: Actor<'a>) -> Result<&'a Principal> {
    match by {
        Actor::User(p) | Actor::Token(p) => Ok(p),
        Actor::System { .. } => Err(Error::Forbidden),
    }
}

// ---------------------------------------------------------------- handbooks

pub struct HandbookInput {
    pub title: String,
    pub description: String,
    pub department_id: Option<i64>,
    /// `all`, `department` or `roles`.
    pub visibility: String,
    pub role_ids: Vec<i64>,
}

/// A handbook with its department's name.
pub struct HandbookRow {
    pub h: Handbook,
    pub department: Option<String>,
    pub pages: u64,
}

/// The handbooks the reader may open, by title.
pub async fn list_handbooks(db: &DatabaseConnection, by: Actor<'_>) -> Result<Vec<HandbookRow>> {
    let r = Reader::load(db, by).await?;
    let scope = Scope::user(db, r.p);
    let depts: HashMap<i64, String> = accounts::list_departments(db, r.p.tenant_id)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let list = scope
        .find::<handbook::Entity>()
        .order_by_asc(handbook::Column::Title)
        .all(db)
        .await?;
    let counts: HashMap<i64, i64> = scope
        .find::<page::Entity>()
        .select_only()
        .column(page::Column::HandbookId)
        .column_as(page::Column::Id.count(), "n")
        .filter(page::Column::DeletedAt.is_null())
        .group_by(page::Column::HandbookId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(list
        .into_iter()
        .filter(|h| r.may_read(h))
        .map(|h| HandbookRow {
            department: h.department_id.and_then(|d| depts.get(&d).cloned()),
            pages: counts.get(&h.id).copied().unwrap_or(0).max(0) as u64,
            h,
        })
        .collect())
}

async fn check_handbook_input(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    inp: &HandbookInput,
) -> Result<(String, String, Visibility)> {
    let mut errs = FieldErrors::new();
    let title = errs.text("title", &inp.title, domain::TITLE_MAX);
    let description = errs.optional_text("description", &inp.description, 2000);
    let vis = Visibility::parse(&inp.visibility);
    if vis.is_none() {
        errs.add("visibility", "err.invalid_choice");
    }
    if let Some(d) = inp.department_id {
        let depts = accounts::list_departments(conn, tenant).await?;
        if !depts.iter().any(|x| x.id == d) {
            errs.add("department", "err.invalid_choice");
        }
    } else if vis == Some(Visibility::Department) {
        errs.add("department", "knowledge.err.department_needed");
    }
    if vis == Some(Visibility::Roles) {
        let roles = accounts::list_roles(conn, tenant).await?;
        if inp.role_ids.is_empty() {
            errs.add("role_ids", "knowledge.err.roles_needed");
        } else if !inp
            .role_ids
            .iter()
            .all(|r| roles.iter().any(|x| x.0.id == *r))
        {
            errs.add("role_ids", "err.invalid_choice");
        }
    }
    errs.into_result()?;
    Ok((title, description, vis.unwrap_or(Visibility::All)))
}

/// Creates a handbook (`knowledge.manage`); its visibility is in the audit event.
pub async fn create_handbook(
    db: &DatabaseConnection,
    by: Actor<'_>,
    inp: HandbookInput,
) -> Result<Handbook> {
    by.require(MANAGE)?;
    let p = principal(by)?;
    let (title, description, vis) = check_handbook_input(db, p.tenant_id, &inp).await?;
    let roles = if vis == Visibility::Roles {
        inp.role_ids
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        String::new()
    };
    let tx = Tx::begin(db, p.tenant_id, by).await?;
    let h = tx
        .insert(handbook::ActiveModel {
            title: Set(title),
            description: Set(description),
            department_id: Set(inp.department_id),
            visibility: Set(vis.as_str().to_string()),
            role_ids: Set(roles),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    tx.audit(
        NewEvent::new("knowledge.handbook_created", "knowledge_handbook", Some(h.id)).details(
            json!({"title": h.title, "visibility": h.visibility, "department_id": h.department_id, "role_ids": h.role_ids}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(h)
}

/// Changes a handbook's title, department and visibility (`knowledge.manage`); the audit
/// event holds both visibilities, so every permission change is on record.
pub async fn update_handbook(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
    inp: HandbookInput,
) -> Result<Handbook> {
    by.require(MANAGE)?;
    let p = principal(by)?;
    let (title, description, vis) = check_handbook_input(db, p.tenant_id, &inp).await?;
    let roles = if vis == Visibility::Roles {
        inp.role_ids
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        String::new()
    };
    let tx = Tx::begin(db, p.tenant_id, by).await?;
    let before = tx.get::<handbook::Entity, _>(id).await?;
    tx.update_many::<handbook::Entity>()
        .col_expr(handbook::Column::Title, Expr::value(title))
        .col_expr(handbook::Column::Description, Expr::value(description))
        .col_expr(
            handbook::Column::DepartmentId,
            Expr::value(inp.department_id),
        )
        .col_expr(handbook::Column::Visibility, Expr::value(vis.as_str()))
        .col_expr(handbook::Column::RoleIds, Expr::value(roles))
        .filter(handbook::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    let after = tx.get::<handbook::Entity, _>(id).await?;
    // The pages' search visibility follows the handbook's.
    let page_ids: Vec<i64> = tx
        .find::<page::Entity>()
        .select_only()
        .column(page::Column::Id)
        .filter(page::Column::HandbookId.eq(id))
        .into_tuple::<i64>()
        .all(tx.conn())
        .await?;
    for pid in page_ids {
        search::index_later(&tx, pid).await?;
    }
    tx.audit(
        NewEvent::new("knowledge.handbook_changed", "knowledge_handbook", Some(id)).details(json!({
            "before": {"title": before.title, "visibility": before.visibility, "department_id": before.department_id, "role_ids": before.role_ids},
            "after": {"title": after.title, "visibility": after.visibility, "department_id": after.department_id, "role_ids": after.role_ids},
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// One handbook with its chapters and the pages the reader may see.
pub struct HandbookView {
    pub h: Handbook,
    pub department: Option<String>,
    pub chapters: Vec<Chapter>,
    pub pages: Vec<PageRow>,
    pub may_edit: bool,
}

/// A page in a list (no body).
#[derive(Debug, Clone)]
pub struct PageRow {
    pub id: i64,
    pub title: String,
    pub chapter_id: Option<i64>,
    pub draft: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub async fn handbook(db: &DatabaseConnection, by: Actor<'_>, id: i64) -> Result<HandbookView> {
    let r = Reader::load(db, by).await?;
    let scope = Scope::user(db, r.p);
    let h = scope.get::<handbook::Entity, _>(id).await?;
    if !r.may_read(&h) {
        return Err(Error::NotFound);
    }
    let may_edit = r.may_edit(&h);
    let chapters = scope
        .find::<chapter::Entity>()
        .filter(chapter::Column::HandbookId.eq(id))
        .order_by_asc(chapter::Column::Position)
        .order_by_asc(chapter::Column::Id)
        .all(db)
        .await?;
    let pages = scope
        .find::<page::Entity>()
        .select_only()
        .columns([
            page::Column::Id,
            page::Column::Title,
            page::Column::ChapterId,
            page::Column::Draft,
            page::Column::Version,
            page::Column::UpdatedAt,
        ])
        .filter(page::Column::HandbookId.eq(id))
        .filter(page::Column::DeletedAt.is_null())
        .order_by_asc(page::Column::Title)
        .into_tuple::<(i64, String, Option<i64>, bool, i32, DateTime<Utc>)>()
        .all(db)
        .await?
        .into_iter()
        .filter(|row| may_edit || !row.3)
        .map(
            |(id, title, chapter_id, draft, version, updated_at)| PageRow {
                id,
                title,
                chapter_id,
                draft,
                version,
                updated_at,
            },
        )
        .collect();
    let department = match h.department_id {
        Some(d) => accounts::list_departments(db, r.p.tenant_id)
            .await?
            .into_iter()
            .find(|x| x.id == d)
            .map(|x| x.name),
        None => None,
    };
    Ok(HandbookView {
        h,
        department,
        chapters,
        pages,
        may_edit,
    })
}

/// Adds a chapter at the end of the handbook (`knowledge.edit`).
pub async fn create_chapter(
    db: &DatabaseConnection,
    by: Actor<'_>,
    handbook_id: i64,
    title: &str,
) -> Result<Chapter> {
    by.require(EDIT)?;
    let r = Reader::load(db, by).await?;
    let mut errs = FieldErrors::new();
    let title = errs.text("title", title, domain::TITLE_MAX);
    errs.into_result()?;
    let tx = Tx::begin(db, r.p.tenant_id, by).await?;
    let h = tx.get::<handbook::Entity, _>(handbook_id).await?;
    if !r.may_edit(&h) {
        return Err(Error::NotFound);
    }
    let last = tx
        .find::<chapter::Entity>()
        .filter(chapter::Column::HandbookId.eq(handbook_id))
        .order_by_desc(chapter::Column::Position)
        .one(tx.conn())
        .await?
        .map(|c| c.position)
        .unwrap_or(0);
    let c = tx
        .insert(chapter::ActiveModel {
            handbook_id: Set(handbook_id),
            title: Set(title),
            position: Set(last + 1),
            ..Default::default()
        })
        .await?;
    tx.audit(
        NewEvent::new("knowledge.chapter_created", "knowledge_chapter", Some(c.id))
            .details(json!({"handbook_id": handbook_id, "title": c.title})),
    )
    .await?;
    tx.commit().await?;
    Ok(c)
}

// ---------------------------------------------------------------- pages

/// A new page.
#[derive(Default)]
pub struct PageInput {
    pub handbook_id: i64,
    pub chapter_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub note: String,
    pub draft: bool,
    pub requires_confirmation: bool,
    pub owner_user_id: Option<i64>,
    /// A role whose members answer for the page besides the owner person.
    pub owner_role_id: Option<i64>,
    pub review_days: Option<i32>,
}

/// A save of an existing page, made from `base_version`.
#[derive(Default)]
pub struct SaveInput {
    pub base_version: i32,
    pub title: String,
    pub body: String,
    pub note: String,
    /// A major change: readers are asked to confirm again.
    pub major: bool,
    /// `None` keeps the current settings.
    pub settings: Option<PageSettings>,
}

/// Chapter, draft flag, owner, review interval and confirmation of a page.
#[derive(Default, Clone)]
pub struct PageSettings {
    pub chapter_id: Option<i64>,
    pub draft: bool,
    pub requires_confirmation: bool,
    pub owner_user_id: Option<i64>,
    pub owner_role_id: Option<i64>,
    pub review_days: Option<i32>,
}

/// Checks title, body and note; the body's limit is the renderer's.
fn check_text(errs: &mut FieldErrors, title: &str, body: &str, note: &str) -> (String, String) {
    let title = errs.text("title", title, domain::TITLE_MAX);
    if body.len() > rathaus_web::markdown::MAX_BYTES {
        errs.add_arg(
            "body_markdown",
            "knowledge.err.too_large",
            Some(rathaus_web::markdown::MAX_BYTES / 1024),
        );
    } else if body.contains('\0') {
        errs.add("body_markdown", "err.control_chars");
    }
    let note = errs.optional_text("note", note, domain::NOTE_MAX);
    (title, note)
}

async fn check_settings(
    tx: &Tx<'_>,
    errs: &mut FieldErrors,
    handbook_id: i64,
    s: &PageSettings,
) -> Result<()> {
    if let Some(c) = s.chapter_id {
        let ok = tx
            .find::<chapter::Entity>()
            .filter(chapter::Column::Id.eq(c))
            .filter(chapter::Column::HandbookId.eq(handbook_id))
            .one(tx.conn())
            .await?
            .is_some();
        if !ok {
            errs.add("chapter_id", "err.invalid_choice");
        }
    }
    if let Some(u) = s.owner_user_id
        && accounts::user_by_id(tx.conn(), tx.tenant(), u)
            .await
            .is_err()
    {
        errs.add("owner_user_id", "err.invalid_choice");
    }
    if let Some(role) = s.owner_role_id
        && !accounts::list_roles(tx.conn(), tx.tenant())
            .await?
            .iter()
            .any(|(x, _)| x.id == role)
    {
        errs.add("owner_role_id", "err.invalid_choice");
    }
    if let Some(d) = s.review_days
        && !(1..=domain::REVIEW_DAYS_MAX).contains(&d)
    {
        errs.add_arg(
            "review_days",
            "knowledge.err.review_days",
            Some(domain::REVIEW_DAYS_MAX),
        );
    }
    Ok(())
}

/// Creates a page with its first version (`knowledge.edit` in a handbook the user may edit).
pub async fn create_page(db: &DatabaseConnection, by: Actor<'_>, inp: PageInput) -> Result<Page> {
    by.require(EDIT)?;
    let r = Reader::load(db, by).await?;
    let mut errs = FieldErrors::new();
    let (title, note) = check_text(&mut errs, &inp.title, &inp.body, &inp.note);
    let tx = Tx::begin(db, r.p.tenant_id, by).await?;
    let h = match tx.get::<handbook::Entity, _>(inp.handbook_id).await {
        Ok(h) if r.may_edit(&h) => h,
        _ => {
            errs.add("handbook_id", "err.invalid_choice");
            errs.into_result()?;
            return Err(Error::NotFound);
        }
    };
    let settings = PageSettings {
        chapter_id: inp.chapter_id,
        draft: inp.draft,
        requires_confirmation: inp.requires_confirmation,
        owner_user_id: inp.owner_user_id,
        owner_role_id: inp.owner_role_id,
        review_days: inp.review_days,
    };
    check_settings(&tx, &mut errs, h.id, &settings).await?;
    errs.into_result()?;
    let now = Utc::now();
    let pg = tx
        .insert(page::ActiveModel {
            handbook_id: Set(h.id),
            chapter_id: Set(settings.chapter_id),
            title: Set(title.clone()),
            body: Set(inp.body.clone()),
            version: Set(1),
            major_version: Set(1),
            draft: Set(settings.draft),
            requires_confirmation: Set(settings.requires_confirmation),
            owner_user_id: Set(settings.owner_user_id.or(Some(r.p.user_id.0))),
            owner_role_id: Set(settings.owner_role_id),
            review_days: Set(settings.review_days),
            reviewed_at: Set(None),
            reviewed_by: Set(None),
            deleted_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            updated_by: Set(r.p.name.clone()),
            ..Default::default()
        })
        .await?;
    insert_version(&tx, r.p, &pg, &note, true).await?;
    changes::record(&tx, &pg, Change::Created, &r.p.name, &note).await?;
    search::index_later(&tx, pg.id).await?;
    tx.audit(
        NewEvent::new("knowledge.page_created", "knowledge_page", Some(pg.id))
            .details(json!({"handbook_id": h.id, "title": pg.title, "draft": pg.draft})),
    )
    .await?;
    tx.commit().await?;
    Ok(pg)
}

async fn insert_version(
    tx: &Tx<'_>,
    p: &Principal,
    pg: &Page,
    note: &str,
    major: bool,
) -> Result<Version> {
    tx.insert(version::ActiveModel {
        page_id: Set(pg.id),
        version: Set(pg.version),
        title: Set(pg.title.clone()),
        body: Set(pg.body.clone()),
        note: Set(note.to_string()),
        major: Set(major),
        author_id: Set(Some(p.user_id.0)),
        author_name: Set(p.name.clone()),
        created_at: Set(pg.updated_at),
        ..Default::default()
    })
    .await
}

/// Loads a page and its handbook for editing.
async fn editable(tx: &Tx<'_>, r: &Reader<'_>, id: i64) -> Result<(Handbook, Page)> {
    let pg = tx.get::<page::Entity, _>(id).await?;
    let h = tx.get::<handbook::Entity, _>(pg.handbook_id).await?;
    if pg.deleted_at.is_some() || !r.may_read_page(&h, &pg) && !r.may_edit(&h) {
        return Err(Error::NotFound);
    }
    if !r.may_edit(&h) {
        return Err(Error::Forbidden);
    }
    Ok((h, pg))
}

/// Saves a new version of a page. The save names the version it was made from; when
/// someone saved in between, it is refused with `Error::Conflict(CONFLICT_KEY)` and nothing
/// is written (the caller shows both texts).
pub async fn save_page(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
    inp: SaveInput,
) -> Result<Page> {
    by.require(EDIT)?;
    let r = Reader::load(db, by).await?;
    let mut errs = FieldErrors::new();
    let (title, note) = check_text(&mut errs, &inp.title, &inp.body, &inp.note);
    let tx = Tx::begin(db, r.p.tenant_id, by).await?;
    let (h, before) = editable(&tx, &r, id).await?;
    let settings = inp.settings.clone().unwrap_or(PageSettings {
        chapter_id: before.chapter_id,
        draft: before.draft,
        requires_confirmation: before.requires_confirmation,
        owner_user_id: before.owner_user_id,
        owner_role_id: before.owner_role_id,
        review_days: before.review_days,
    });
    check_settings(&tx, &mut errs, h.id, &settings).await?;
    errs.into_result()?;
    if before.version != inp.base_version {
        return Err(Error::Conflict(CONFLICT_KEY.into()));
    }
    let now = Utc::now();
    let next = before.version + 1;
    let major_version = if inp.major {
        next
    } else {
        before.major_version
    };
    // The version check is repeated in the update itself, so two saves racing past the
    // read above cannot both win.
    let res = tx
        .update_many::<page::Entity>()
        .col_expr(page::Column::Title, Expr::value(title.clone()))
        .col_expr(page::Column::Body, Expr::value(inp.body.clone()))
        .col_expr(page::Column::Version, Expr::value(next))
        .col_expr(page::Column::MajorVersion, Expr::value(major_version))
        .col_expr(page::Column::ChapterId, Expr::value(settings.chapter_id))
        .col_expr(page::Column::Draft, Expr::value(settings.draft))
        .col_expr(
            page::Column::RequiresConfirmation,
            Expr::value(settings.requires_confirmation),
        )
        .col_expr(
            page::Column::OwnerUserId,
            Expr::value(settings.owner_user_id),
        )
        .col_expr(
            page::Column::OwnerRoleId,
            Expr::value(settings.owner_role_id),
        )
        .col_expr(page::Column::ReviewDays, Expr::value(settings.review_days))
        .col_expr(page::Column::UpdatedAt, Expr::value(now))
        .col_expr(page::Column::UpdatedBy, Expr::value(r.p.name.clone()))
        .filter(page::Column::Id.eq(id))
        .filter(page::Column::Version.eq(inp.base_version))
        .exec(tx.conn())
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::Conflict(CONFLICT_KEY.into()));
    }
    let pg = tx.get::<page::Entity, _>(id).await?;
    insert_version(&tx, r.p, &pg, &note, inp.major).await?;
    changes::record(&tx, &pg, Change::Edited, &r.p.name, &note).await?;
    search::index_later(&tx, pg.id).await?;
    let published = before.draft && !pg.draft;
    tx.audit(
        NewEvent::new(
            if published {
                "knowledge.page_published"
            } else {
                "knowledge.page_saved"
            },
            "knowledge_page",
            Some(pg.id),
        )
        .details(
            json!({"version": pg.version, "major": inp.major, "title": pg.title, "note": note}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(pg)
}

/// Restores version `v` as a new version (nothing is overwritten), from `base_version`.
pub async fn restore(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
    v: i32,
    base_version: i32,
    note: &str,
) -> Result<Page> {
    let old = version_of(db, by, id, v).await?;
    save_page(
        db,
        by,
        id,
        SaveInput {
            base_version,
            title: old.title,
            body: old.body,
            note: note.to_string(),
            major: false,
            settings: None,
        },
    )
    .await
}

/// Deletes a page (kept in the database with its versions; links to it show as deleted).
pub async fn delete_page(db: &DatabaseConnection, by: Actor<'_>, id: i64) -> Result<()> {
    by.require(EDIT)?;
    let r = Reader::load(db, by).await?;
    let tx = Tx::begin(db, r.p.tenant_id, by).await?;
    let (_, pg) = editable(&tx, &r, id).await?;
    tx.update_many::<page::Entity>()
        .col_expr(page::Column::DeletedAt, Expr::value(Some(Utc::now())))
        .filter(page::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    rathaus_search::enqueue(&tx, search::KIND, id, rathaus_search::Op::Delete).await?;
    tx.audit(
        NewEvent::new("knowledge.page_deleted", "knowledge_page", Some(id))
            .details(json!({"title": pg.title, "version": pg.version})),
    )
    .await?;
    tx.commit().await
}

/// A page as the reader sees it.
pub struct PageView {
    pub page: Page,
    pub handbook: Handbook,
    pub chapter: Option<String>,
    pub html: String,
    pub toc: Vec<rathaus_web::markdown::TocEntry>,
    /// Ids of linked pages that are deleted or unknown.
    pub broken_links: Vec<i64>,
    pub owner: Option<String>,
    pub review_due: Option<DateTime<Utc>>,
    pub outdated: bool,
    pub may_edit: bool,
    /// The reader may mark it reviewed (owner or manager).
    pub may_review: bool,
    /// The reader confirmed the current major version.
    pub confirmed: bool,
}

/// Loads a page the reader may see, or `NotFound`.
pub(crate) async fn readable(
    conn: &impl ConnectionTrait,
    r: &Reader<'_>,
    id: i64,
) -> Result<(Handbook, Page)> {
    let scope = Scope::user(conn, r.p);
    let pg = scope.get::<page::Entity, _>(id).await?;
    let h = scope.get::<handbook::Entity, _>(pg.handbook_id).await?;
    if !r.may_read_page(&h, &pg) {
        return Err(Error::NotFound);
    }
    Ok((h, pg))
}

/// Renders a page's Markdown with its links resolved (titles of pages the reader may see).
pub async fn render(
    conn: &impl ConnectionTrait,
    r: &Reader<'_>,
    body: &str,
    missing_label: &str,
) -> Result<(rathaus_web::markdown::Rendered, Vec<i64>)> {
    let ids = links::targets(body);
    let mut titles = HashMap::new();
    if !ids.is_empty() {
        let scope = Scope::user(conn, r.p);
        let pages = scope
            .find::<page::Entity>()
            .filter(page::Column::Id.is_in(ids))
            .filter(page::Column::DeletedAt.is_null())
            .all(conn)
            .await?;
        let hb_ids: Vec<i64> = pages.iter().map(|p| p.handbook_id).collect();
        let hbs: HashMap<i64, Handbook> = scope
            .find::<handbook::Entity>()
            .filter(handbook::Column::Id.is_in(hb_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        for pg in pages {
            if hbs
                .get(&pg.handbook_id)
                .is_some_and(|h| r.may_read_page(h, &pg))
            {
                titles.insert(pg.id, pg.title);
            }
        }
    }
    let (md, broken) = links::resolve(body, &titles, missing_label);
    let rendered = rathaus_web::markdown::render(&md)
        .map_err(|_| FieldErrors::single("body_markdown", "knowledge.err.too_large"))?;
    Ok((rendered, broken))
}

pub async fn page_view(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
    missing_label: &str,
) -> Result<PageView> {
    let r = Reader::load(db, by).await?;
    let (h, pg) = readable(db, &r, id).await?;
    let (rendered, broken_links) = render(db, &r, &pg.body, missing_label).await?;
    let chapter = match pg.chapter_id {
        Some(c) => Scope::user(db, r.p)
            .get::<chapter::Entity, _>(c)
            .await
            .ok()
            .map(|c| c.title),
        None => None,
    };
    let person = match pg.owner_user_id {
        Some(u) => accounts::user_by_id(db, r.p.tenant_id, u)
            .await
            .ok()
            .map(|u| u.name),
        None => None,
    };
    let role = match pg.owner_role_id {
        Some(id) => accounts::list_roles(db, r.p.tenant_id)
            .await?
            .into_iter()
            .find(|(x, _)| x.id == id)
            .map(|(x, _)| x.name),
        None => None,
    };
    // "Person, Role" (both answer for the page).
    let owner = match (person, role) {
        (Some(a), Some(b)) => Some(format!("{a}, {b}")),
        (a, b) => a.or(b),
    };
    let due = domain::review_due(pg.review_days, pg.reviewed_at, pg.created_at);
    let confirmed = pg.requires_confirmation
        && Scope::user(db, r.p)
            .find::<confirmation::Entity>()
            .filter(confirmation::Column::PageId.eq(id))
            .filter(confirmation::Column::UserId.eq(r.p.user_id.0))
            .filter(confirmation::Column::MajorVersion.eq(pg.major_version))
            .one(db)
            .await?
            .is_some();
    Ok(PageView {
        may_edit: r.may_edit(&h),
        may_review: r.manages() || r.owns(&pg),
        outdated: domain::is_outdated(due, Utc::now()),
        review_due: due,
        html: rendered.html,
        toc: rendered.toc,
        broken_links,
        owner,
        chapter,
        confirmed,
        page: pg,
        handbook: h,
    })
}

/// The page's current state for editing (`knowledge.edit`).
pub async fn page_for_edit(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
) -> Result<(Handbook, Page)> {
    by.require(EDIT)?;
    let r = Reader::load(db, by).await?;
    let (h, pg) = readable(db, &r, id).await?;
    if !r.may_edit(&h) {
        return Err(Error::Forbidden);
    }
    Ok((h, pg))
}

/// Whether the reader may edit this (readable) page.
pub async fn may_edit_page(db: &DatabaseConnection, by: Actor<'_>, id: i64) -> Result<bool> {
    let r = Reader::load(db, by).await?;
    let (h, _) = readable(db, &r, id).await?;
    Ok(r.may_edit(&h))
}

/// The versions of a page, newest first, without their texts.
pub async fn versions(db: &DatabaseConnection, by: Actor<'_>, id: i64) -> Result<Vec<Version>> {
    let r = Reader::load(db, by).await?;
    readable(db, &r, id).await?;
    Ok(Scope::user(db, r.p)
        .find::<version::Entity>()
        .filter(version::Column::PageId.eq(id))
        .order_by_desc(version::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(|mut v| {
            v.body = String::new();
            v
        })
        .collect())
}

/// One version of a page with its text.
pub async fn version_of(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
    v: i32,
) -> Result<Version> {
    let r = Reader::load(db, by).await?;
    readable(db, &r, id).await?;
    Scope::user(db, r.p)
        .find::<version::Entity>()
        .filter(version::Column::PageId.eq(id))
        .filter(version::Column::Version.eq(v))
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// The word diff between versions `a` and `b` of a page.
pub async fn diff(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
    a: i32,
    b: i32,
) -> Result<(Version, Version, WordDiff)> {
    let va = version_of(db, by, id, a).await?;
    let vb = version_of(db, by, id, b).await?;
    let old = format!("{}\n\n{}", va.title, va.body);
    let new = format!("{}\n\n{}", vb.title, vb.body);
    let d = tokio::task::spawn_blocking(move || diff::words(&old, &new))
        .await
        .map_err(Error::internal_from)?;
    Ok((va, vb, d))
}

// ---------------------------------------------------------------- review and confirmation

/// Marks a page reviewed now (its owner or a manager).
pub async fn mark_reviewed(db: &DatabaseConnection, by: Actor<'_>, id: i64) -> Result<()> {
    let r = Reader::load(db, by).await?;
    let (_, pg) = readable(db, &r, id).await?;
    if !(r.manages() || r.owns(&pg)) {
        return Err(Error::Forbidden);
    }
    let tx = Tx::begin(db, r.p.tenant_id, by).await?;
    tx.update_many::<page::Entity>()
        .col_expr(page::Column::ReviewedAt, Expr::value(Some(Utc::now())))
        .col_expr(
            page::Column::ReviewedBy,
            Expr::value(Some(r.p.name.clone())),
        )
        .filter(page::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    changes::record(&tx, &pg, Change::Reviewed, &r.p.name, "").await?;
    tx.audit(
        NewEvent::new("knowledge.page_reviewed", "knowledge_page", Some(id))
            .details(json!({"version": pg.version})),
    )
    .await?;
    tx.commit().await
}

/// Confirms "read and understood" for the page's current major version (idempotent).
pub async fn confirm(db: &DatabaseConnection, by: Actor<'_>, id: i64) -> Result<()> {
    let r = Reader::load(db, by).await?;
    let (_, pg) = readable(db, &r, id).await?;
    if !pg.requires_confirmation {
        return Err(Error::Conflict("knowledge.err.no_confirmation".into()));
    }
    let tx = Tx::begin(db, r.p.tenant_id, by).await?;
    let exists = tx
        .find::<confirmation::Entity>()
        .filter(confirmation::Column::PageId.eq(id))
        .filter(confirmation::Column::UserId.eq(r.p.user_id.0))
        .filter(confirmation::Column::MajorVersion.eq(pg.major_version))
        .one(tx.conn())
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    tx.insert(confirmation::ActiveModel {
        page_id: Set(id),
        user_id: Set(r.p.user_id.0),
        major_version: Set(pg.major_version),
        confirmed_at: Set(Utc::now()),
        ..Default::default()
    })
    .await?;
    tx.audit(
        NewEvent::new("knowledge.page_confirmed", "knowledge_page", Some(id))
            .details(json!({"major_version": pg.major_version})),
    )
    .await?;
    tx.commit().await
}

/// Who confirmed which version of the page (its owner or a manager).
pub struct ConfirmationRow {
    pub name: String,
    pub major_version: i32,
    pub at: DateTime<Utc>,
    pub current: bool,
}

pub async fn confirmations(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: i64,
) -> Result<Vec<ConfirmationRow>> {
    let r = Reader::load(db, by).await?;
    let (_, pg) = readable(db, &r, id).await?;
    if !(r.manages() || r.owns(&pg)) {
        return Err(Error::Forbidden);
    }
    let rows = Scope::user(db, r.p)
        .find::<confirmation::Entity>()
        .filter(confirmation::Column::PageId.eq(id))
        .order_by_desc(confirmation::Column::MajorVersion)
        .order_by_asc(confirmation::Column::ConfirmedAt)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|c| c.user_id).collect();
    let names: HashMap<i64, String> = accounts::users_by_ids(db, r.p.tenant_id, ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|c| ConfirmationRow {
            name: names.get(&c.user_id).cloned().unwrap_or_default(),
            major_version: c.major_version,
            at: c.confirmed_at,
            current: c.major_version == pg.major_version,
        })
        .collect())
}

/// A page due for review.
pub struct DueRow {
    pub id: i64,
    pub title: String,
    pub handbook: String,
    pub due: DateTime<Utc>,
    pub owner: String,
}

/// Pages past their review date: the reader's own, or all for managers; oldest first.
pub async fn due_reviews(db: &DatabaseConnection, by: Actor<'_>) -> Result<Vec<DueRow>> {
    let r = Reader::load(db, by).await?;
    let scope = Scope::user(db, r.p);
    let mut q = scope
        .find::<page::Entity>()
        .filter(page::Column::DeletedAt.is_null())
        .filter(page::Column::ReviewDays.is_not_null());
    if !r.manages() {
        q = q.filter(
            sea_orm::Condition::any()
                .add(page::Column::OwnerUserId.eq(r.p.user_id.0))
                .add(page::Column::OwnerRoleId.is_in(r.role_ids.clone())),
        );
    }
    let pages = q.all(db).await?;
    let now = Utc::now();
    let hbs: HashMap<i64, Handbook> = scope
        .find::<handbook::Entity>()
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let owner_ids: Vec<i64> = pages.iter().filter_map(|p| p.owner_user_id).collect();
    let owners: HashMap<i64, String> = accounts::users_by_ids(db, r.p.tenant_id, owner_ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut out: Vec<DueRow> = pages
        .into_iter()
        .filter_map(|pg| {
            let due = domain::review_due(pg.review_days, pg.reviewed_at, pg.created_at)?;
            let h = hbs.get(&pg.handbook_id)?;
            (due <= now && r.may_read_page(h, &pg)).then(|| DueRow {
                id: pg.id,
                title: pg.title.clone(),
                handbook: h.title.clone(),
                due,
                owner: pg
                    .owner_user_id
                    .and_then(|u| owners.get(&u).cloned())
                    .unwrap_or_default(),
            })
        })
        .collect();
    out.sort_by_key(|d| d.due);
    Ok(out)
}

/// Pages of readable handbooks changed most recently (the "recently changed" feed).
pub async fn recent(
    db: &DatabaseConnection,
    by: Actor<'_>,
    n: u64,
) -> Result<Vec<(PageRow, String)>> {
    let r = Reader::load(db, by).await?;
    let scope = Scope::user(db, r.p);
    let hbs: HashMap<i64, Handbook> = scope
        .find::<handbook::Entity>()
        .all(db)
        .await?
        .into_iter()
        .filter(|h| r.may_read(h))
        .map(|h| (h.id, h))
        .collect();
    let rows = scope
        .find::<page::Entity>()
        .select_only()
        .columns([
            page::Column::Id,
            page::Column::Title,
            page::Column::ChapterId,
            page::Column::Draft,
            page::Column::Version,
            page::Column::UpdatedAt,
            page::Column::HandbookId,
        ])
        .filter(page::Column::DeletedAt.is_null())
        .filter(page::Column::HandbookId.is_in(hbs.keys().copied()))
        .order_by_desc(page::Column::UpdatedAt)
        .limit(n * 2)
        .into_tuple::<(i64, String, Option<i64>, bool, i32, DateTime<Utc>, i64)>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, title, chapter_id, draft, version, updated_at, hb)| {
            let h = hbs.get(&hb)?;
            (!draft || r.may_edit(h)).then(|| {
                (
                    PageRow {
                        id,
                        title,
                        chapter_id,
                        draft,
                        version,
                        updated_at,
                    },
                    h.title.clone(),
                )
            })
        })
        .take(n as usize)
        .collect())
}

/// For the staff dashboard: how many pages the review list shows the user as due; none for
/// a user without the module.
pub async fn due_review_count(db: &DatabaseConnection, by: Actor<'_>) -> Result<u64> {
    match due_reviews(db, by).await {
        Ok(rows) => Ok(rows.len() as u64),
        Err(Error::Forbidden) => Ok(0),
        Err(e) => Err(e),
    }
}
