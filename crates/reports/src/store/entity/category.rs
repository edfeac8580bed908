use sea_orm::entity::prelude::*;

/// A report category (an Open311 service), routed to a department.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports_categories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// The Open311 `service_code`, unique per tenant.
    pub code: String,
    pub name: String,
    /// Heading the category is grouped under in the form (Open311 `group`).
    pub group_name: String,
    pub description: String,
    /// Comma-separated (Open311 `keywords`).
    pub keywords: String,
    pub department_id: Option<i64>,
    /// JSON list of [`crate::service::AttributeDef`].
    pub attributes: String,
    pub active: bool,
    pub position: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
