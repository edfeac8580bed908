//! The module's tables: entities (each declared tenant-owned, reached only through
//! `rathaus_store::uow`) and migrations with their own history table.

pub mod entity;
pub mod migrations;
