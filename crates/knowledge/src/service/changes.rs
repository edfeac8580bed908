//! The feed of page changes per handbook ("Zuletzt geändert"): pages created, edited and
//! reviewed, newest first, paged by id. Entries are written by the page use cases in the
//! transaction of the change; reading filters to the pages the reader may see (no drafts
//! for mere readers, no deleted pages).

use super::{Handbook, Page, Reader};
use crate::domain::comments::Change;
use crate::store::entity::{change, handbook, page};
use chrono::{DateTime, Utc};
use rathaus_core::{Error, Result};
use rathaus_store::accounts;
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{
    ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use std::collections::HashMap;

/// Entries per page of the feed.
pub const PAGE_SIZE: u64 = 50;

/// Notes the change of `pg` in the caller's transaction.
pub(crate) async fn record(
    tx: &Tx<'_>,
    pg: &Page,
    kind: Change,
    actor_name: &str,
    note: &str,
) -> Result<()> {
    tx.insert(change::ActiveModel {
        handbook_id: Set(pg.handbook_id),
        page_id: Set(pg.id),
        kind: Set(kind.code().into()),
        version: Set(pg.version),
        actor_name: Set(actor_name.to_string()),
        note: Set(note.to_string()),
        at: Set(Utc::now()),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// One entry of the feed, with the page's current title.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub id: i64,
    pub page_id: i64,
    pub title: String,
    pub kind: Change,
    pub version: i32,
    pub actor: String,
    pub note: String,
    pub at: DateTime<Utc>,
}

pub struct Feed {
    pub handbook: Handbook,
    pub department: Option<String>,
    pub rows: Vec<ChangeRow>,
    /// The cursor of the next (older) page, when there is one.
    pub next: Option<i64>,
}

/// The changes of a handbook the reader may open, older than entry `before` (none: the
/// newest), at most `n`.
pub async fn feed(
    db: &DatabaseConnection,
    by: Actor<'_>,
    handbook_id: i64,
    before: Option<i64>,
    n: u64,
) -> Result<Feed> {
    let r = Reader::load(db, by).await?;
    let scope = Scope::user(db, r.p);
    let h = scope.get::<handbook::Entity, _>(handbook_id).await?;
    if !r.may_read(&h) {
        return Err(Error::NotFound);
    }
    let n = n.clamp(1, 200);
    let mut visible = scope
        .find::<page::Entity>()
        .select_only()
        .column(page::Column::Id)
        .filter(page::Column::HandbookId.eq(handbook_id))
        .filter(page::Column::DeletedAt.is_null());
    if !r.may_edit(&h) {
        visible = visible.filter(page::Column::Draft.eq(false));
    }
    let mut q = scope
        .find::<change::Entity>()
        .filter(change::Column::HandbookId.eq(handbook_id))
        .filter(change::Column::PageId.in_subquery(visible.into_query()));
    if let Some(b) = before {
        q = q.filter(change::Column::Id.lt(b));
    }
    let mut rows = q
        .order_by_desc(change::Column::Id)
        .limit(n + 1)
        .all(db)
        .await?;
    let next = if rows.len() as u64 > n {
        rows.truncate(n as usize);
        rows.last().map(|c| c.id)
    } else {
        None
    };
    let titles: HashMap<i64, String> = scope
        .find::<page::Entity>()
        .select_only()
        .columns([page::Column::Id, page::Column::Title])
        .filter(page::Column::Id.is_in(rows.iter().map(|c| c.page_id)))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let department = match h.department_id {
        Some(d) => accounts::list_departments(db, r.p.tenant_id)
            .await?
            .into_iter()
            .find(|x| x.id == d)
            .map(|x| x.name),
        None => None,
    };
    Ok(Feed {
        rows: rows
            .into_iter()
            .map(|c| ChangeRow {
                id: c.id,
                page_id: c.page_id,
                title: titles.get(&c.page_id).cloned().unwrap_or_default(),
                kind: Change::parse(&c.kind).unwrap_or(Change::Edited),
                version: c.version,
                actor: c.actor_name,
                note: c.note,
                at: c.at,
            })
            .collect(),
        next,
        department,
        handbook: h,
    })
}
