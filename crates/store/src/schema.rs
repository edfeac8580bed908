//! The migration helpers every crate's migrations share: foreign keys (to the tenant, to a
//! parent row) and indexes, spelled once so that every table is built the same way.

use sea_orm_migration::prelude::*;

/// `table.tenant_id → tenants.id`, deleted with its tenant; every tenant-owned table has one.
pub fn tenant_fk(table: &'static str) -> ForeignKeyCreateStatement {
    fk(table, "tenant_id", "tenants", ForeignKeyAction::Cascade)
}

/// `table.col → to.id` with the given delete rule.
pub fn fk(
    table: &'static str,
    col: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(to, "id")
        .on_delete(on_delete)
        .take()
}

/// An index over `cols` in this order.
pub fn index(
    name: &'static str,
    table: &'static str,
    cols: &[&'static str],
) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.take()
}

/// A unique index over `cols`.
pub fn unique_index(
    name: &'static str,
    table: &'static str,
    cols: &[&'static str],
) -> IndexCreateStatement {
    let mut i = index(name, table, cols);
    i.unique();
    i
}
