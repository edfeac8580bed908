use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub mfa_required: bool,
    pub created_at: DateTimeUtc,
    pub coat_of_arms_sha256: Option<String>,
    /// Bundesland code (`NW`), see `rathaus_core::calendar::Land`.
    pub land: String,
    /// The domain of its calendar UIDs, fixed at creation (see `tenants::uid_host`).
    pub uid_domain: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
