use sea_orm::entity::prelude::*;

/// One address of the street directory.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reports_streets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub street: String,
    /// `streets::normalise(street)`: what lookups compare.
    pub street_norm: String,
    pub house_number: String,
    pub postcode: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
