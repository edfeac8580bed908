//! The booking module's tables: entities, migrations and the queries the services share.
//! Only the unit of work (`rathaus_store::uow`) touches tenant-owned rows.

pub mod entity;
pub mod migrations;
