use sea_orm::entity::prelude::*;

/// A tenant's Mängelmelder settings; created with defaults on first use.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    /// Tile URL template (`{z}/{x}/{y}`), or empty for no background map.
    pub tile_url: String,
    pub tile_attribution: String,
    /// A Nominatim-compatible search endpoint, asked when the street directory has no match.
    pub geocoder_url: Option<String>,
    pub duplicate_radius_m: i32,
    /// Working days until the first answer is due.
    pub answer_days: i32,
    /// Every new report waits for moderation (not only those sent without JavaScript).
    pub moderate_all: bool,
    /// The municipality's boundary as GeoJSON; None: the demo boundary is not assumed, any
    /// point on earth is accepted.
    pub boundary: Option<String>,
    /// HMAC key of the ALTCHA challenges.
    pub altcha_key: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
