//! The `records_*` tables. Enum columns hold the `Coded` codes of `crate::domain`.

macro_rules! entity {
    ($name:ident, $table:literal, { $($field:ident : $ty:ty),* $(,)? }) => {
        pub mod $name {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub tenant_id: i64,
                $(pub $field: $ty,)*
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

// The tenant's settings: the Aktenzeichen pattern (`domain::pattern`). One row per tenant,
// created with the first file.
entity!(settings, "records_settings", {
    file_number_pattern: String,
});

// A plan item (Aktenplan): `code` unique per tenant (`022.31`), `parent_id` derived from the
// code prefix, `retention_start` a `RetentionStart`, `disposition` a `Disposition` (A|B|V).
entity!(plan_item, "records_plan_items", {
    code: String,
    parent_id: Option<i64>,
    title: String,
    retention_years: i32,
    retention_start: String,
    disposition: String,
    created_at: DateTimeUtc,
});

// The Aktenzeichen counter of one scope (`scope`: plan code or `*`, `year` or 0), bumped in
// the transaction that creates the file; unique per (tenant, scope, year).
entity!(counter, "records_counters", {
    scope: String,
    year: i32,
    last_seq: i64,
});

// A file (Akte). `kind` a `FileKind`, `state` a `FileState`, `access` the `AccessClass`
// (kind + sub-file kind) every list filters on; `parent_id`/`sub_kind` for the sub-files of a
// personnel file. `retention_start_on`/`retention_until` are set when the file is closed (or
// a date the rule uses changes) from its plan item's rule.
entity!(file, "records_files", {
    plan_item_id: i64,
    parent_id: Option<i64>,
    sub_kind: Option<String>,
    kind: String,
    access: String,
    title: String,
    file_number: String,
    subject_name: Option<String>,
    subject_birth_date: Option<Date>,
    department_id: Option<i64>,
    state: String,
    opened_on: Date,
    closed_on: Option<Date>,
    retention_start_on: Option<Date>,
    retention_until: Option<Date>,
    // Wohngeld
    application_on: Option<Date>,
    approval_end_on: Option<Date>,
    // Dog tax
    dog_name: Option<String>,
    dog_breed: Option<String>,
    dog_list_dog: bool,
    dog_tag: Option<String>,
    dog_registered_on: Option<Date>,
    dog_deregistered_on: Option<Date>,
    dog_tax_class: Option<String>,
    // Personnel
    leaving_on: Option<Date>,
    created_at: DateTimeUtc,
    created_by: String,
});

// A case (Vorgang) inside a file.
entity!(case, "records_cases", {
    file_id: i64,
    title: String,
    opened_on: Date,
    closed_on: Option<Date>,
    created_at: DateTimeUtc,
});

// A document: `access` copied from its file, `direction` a `Direction`, `tags` comma-separated,
// `current_version` the number of the newest version and `file_ref` its stored file
// (`files.id` of the platform's file store).
entity!(document, "records_documents", {
    file_id: i64,
    case_id: Option<i64>,
    access: String,
    title: String,
    doc_date: Date,
    direction: String,
    tags: String,
    current_version: i32,
    file_ref: i64,
    created_at: DateTimeUtc,
    created_by: String,
});

// One version of a document; `file_ref` is the platform's stored file.
entity!(version, "records_versions", {
    document_id: i64,
    version: i32,
    file_ref: i64,
    name: String,
    size: i64,
    sha256: String,
    mime: String,
    uploaded_by_id: Option<i64>,
    uploaded_by: String,
    uploaded_at: DateTimeUtc,
});

// A follow-up (Wiedervorlage) on a file or a case, for a user or a department.
entity!(follow_up, "records_follow_ups", {
    file_id: i64,
    case_id: Option<i64>,
    due_on: Date,
    user_id: Option<i64>,
    department_id: Option<i64>,
    note: String,
    done_at: Option<DateTimeUtc>,
    done_by: Option<String>,
    created_at: DateTimeUtc,
    created_by: String,
});

// That a follow-up's day was mailed to one person (`sent_on`, Europe/Berlin): a second run
// of the daily job on the same day mails nothing twice. One row per follow-up and person.
entity!(follow_up_notice, "records_follow_up_notices", {
    follow_up_id: i64,
    user_id: i64,
    sent_on: Date,
    sent_at: DateTimeUtc,
});

// An uploaded scan not yet filed, in a department's inbox; `document_id` once assigned.
entity!(inbox_item, "records_inbox", {
    department_id: Option<i64>,
    file_ref: i64,
    name: String,
    size: i64,
    sha256: String,
    mime: String,
    uploaded_by: String,
    uploaded_at: DateTimeUtc,
    document_id: Option<i64>,
    assigned_at: Option<DateTimeUtc>,
});

// What remains of a deleted file: Aktenzeichen, title and dates, never the content.
entity!(deletion, "records_deletions", {
    file_number: String,
    title: String,
    kind: String,
    plan_code: String,
    opened_on: Date,
    closed_on: Option<Date>,
    retention_until: Option<Date>,
    reason: String,
    offer_id: Option<String>,
    deleted_at: DateTimeUtc,
    deleted_by: String,
});

// One offered file of an archive offer: `appraisal` an `Appraisal` once the archive's 0502
// came back, `handed_over_at` with the 0503, `import_confirmed`/`archive_id` from the 0506.
entity!(offer_file, "records_offer_files", {
    offer_id: String,
    file_id: i64,
    appraisal: Option<String>,
    appraised_at: Option<DateTimeUtc>,
    handed_over_at: Option<DateTimeUtc>,
    import_confirmed: bool,
    archive_id: Option<String>,
    import_error: Option<String>,
    file_number: Option<String>,
});

/// An archive offer (xdomea process): `id` is the process id (UUID), `state` an `OfferState`.
pub mod offer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "records_offers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenant_id: i64,
        pub state: String,
        pub created_at: DateTimeUtc,
        pub created_by: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

rathaus_store::tenant_owned!(
    settings,
    plan_item,
    counter,
    file,
    case,
    document,
    version,
    follow_up,
    follow_up_notice,
    inbox_item,
    deletion,
    offer,
    offer_file
);
