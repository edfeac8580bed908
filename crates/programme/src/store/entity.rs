//! The module's entities, one per table.

/// A column of the board (per tenant, ordered, with its WIP limit).
pub mod phase {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_phases")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        /// Stable key used by the API (`geplant`).
        pub key: String,
        pub name: String,
        pub position: i32,
        pub wip_limit: Option<i32>,
        /// Beyond the limit: allowed with a warning instead of refused.
        pub wip_warn_only: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A measure of the catalogue, which is also a card on the board.
pub mod measure {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_measures")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub title: String,
        pub description: String,
        pub source: String,
        pub department: String,
        pub departments: String,
        pub category: String,
        pub size: String,
        pub benefit: i32,
        pub effort: i32,
        pub priority: i32,
        pub responsible_id: Option<i64>,
        pub responsible_name: String,
        pub planned_start: Option<Date>,
        pub due: Option<Date>,
        pub funding: String,
        pub links: String,
        pub tags: String,
        pub module_link: String,
        pub phase_id: i64,
        pub position: i64,
        /// Rises with every change: a move or edit made against an older version is refused.
        pub version: i32,
        pub phase_since: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One move of a card (its phase history).
pub mod move_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_moves")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub measure_id: i64,
        pub from_phase_id: Option<i64>,
        pub to_phase_id: i64,
        pub moved_by: Option<i64>,
        pub moved_by_name: String,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A concern, resistance, risk or idea raised from a department.
pub mod concern {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_concerns")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub measure_id: Option<i64>,
        pub kind: String,
        pub text: String,
        pub raised_by: Option<i64>,
        pub raised_by_name: String,
        /// Shown as anonymous to everyone but the coordinator.
        pub anonymous: bool,
        pub status: String,
        pub response: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A Digitallotse: a staff user in the team.
pub mod member {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_members")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub user_id: i64,
        pub name: String,
        pub department: String,
        pub role: String,
        pub coordinator: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A team meeting (one per day).
pub mod meeting {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_meetings")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub date: Date,
        pub place: String,
        /// The changes the agenda covers start here (the previous meeting's creation).
        pub since: DateTimeUtc,
        pub minutes: String,
        pub attendance: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An item of a meeting's agenda: generated from changes, or added by a member.
pub mod meeting_item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_meeting_items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub meeting_id: i64,
        pub position: i32,
        /// `moved`, `new`, `overdue`, `concern`, `added`.
        pub kind: String,
        pub title: String,
        pub measure_id: Option<i64>,
        pub concern_id: Option<i64>,
        pub minutes: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A status report handed out (so the next one shows what was done since).
pub mod report {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_reports")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub created_at: DateTimeUtc,
        pub created_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An interview with a department (Erstaufnahme), from which measures are raised.
pub mod interview {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_interviews")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub department: String,
        pub date: Date,
        pub people: String,
        pub notes: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A tenant's settings of the programme (one row; none: the defaults).
pub mod settings {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_settings")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        /// `product` or `weighted` (domain::PriorityFormula).
        pub priority_formula: String,
        pub benefit_weight: i32,
        pub effort_weight: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
