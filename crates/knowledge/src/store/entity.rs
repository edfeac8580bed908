//! The `knowledge_*` tables.

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

// A handbook (Handmappe): `visibility` is `all` (every reader), `department` (members of
// `department_id`) or `roles` (holders of one of `role_ids`, comma-separated).
entity!(handbook, "knowledge_handbooks", {
    title: String,
    description: String,
    department_id: Option<i64>,
    visibility: String,
    role_ids: String,
    created_at: DateTimeUtc,
});

entity!(chapter, "knowledge_chapters", {
    handbook_id: i64,
    title: String,
    position: i32,
});

// The current state of a page; every save also writes a `version` row. `version` is the
// number of the latest version (optimistic locking compares it), `major_version` the version
// whose text readers confirm (a major change asks again). Deleted pages keep their row.
entity!(page, "knowledge_pages", {
    handbook_id: i64,
    chapter_id: Option<i64>,
    title: String,
    body: String,
    version: i32,
    major_version: i32,
    draft: bool,
    requires_confirmation: bool,
    owner_user_id: Option<i64>,
    review_days: Option<i32>,
    reviewed_at: Option<DateTimeUtc>,
    reviewed_by: Option<String>,
    deleted_at: Option<DateTimeUtc>,
    created_at: DateTimeUtc,
    updated_at: DateTimeUtc,
    updated_by: String,
    // Besides the owner person, every member of this role answers for the page (review,
    // confirmations, the weekly review mail).
    owner_role_id: Option<i64>,
});

entity!(version, "knowledge_versions", {
    page_id: i64,
    version: i32,
    title: String,
    body: String,
    note: String,
    major: bool,
    author_id: Option<i64>,
    author_name: String,
    created_at: DateTimeUtc,
});

entity!(confirmation, "knowledge_confirmations", {
    page_id: i64,
    user_id: i64,
    major_version: i32,
    confirmed_at: DateTimeUtc,
});

// An onboarding checklist template; `is_default` marks the department's default.
entity!(template, "knowledge_templates", {
    name: String,
    department_id: Option<i64>,
    is_default: bool,
    // `onboarding` or `offboarding` (domain::ChecklistKind); a default per department and kind.
    kind: String,
});

// `owner_kind`: `role` (owner_role_id), `user` (owner_user_id) or `newcomer`.
entity!(template_task, "knowledge_template_tasks", {
    template_id: i64,
    title: String,
    offset_days: i32,
    owner_kind: String,
    owner_role_id: Option<i64>,
    owner_user_id: Option<i64>,
    page_id: Option<i64>,
    position: i32,
});

entity!(onboarding, "knowledge_onboardings", {
    name: String,
    start_date: Date,
    department_id: i64,
    template_id: i64,
    user_id: Option<i64>,
    created_by: String,
    created_at: DateTimeUtc,
    // Copied from the template: `onboarding` (start_date is the first working day) or
    // `offboarding` (start_date is the last).
    kind: String,
});

entity!(task, "knowledge_tasks", {
    onboarding_id: i64,
    title: String,
    due_date: Date,
    owner_kind: String,
    owner_role_id: Option<i64>,
    owner_user_id: Option<i64>,
    owner_label: String,
    page_id: Option<i64>,
    position: i32,
    done_at: Option<DateTimeUtc>,
    done_by: Option<String>,
    // When the owners were mailed that the task fell due (each task is mailed once).
    notified_at: Option<DateTimeUtc>,
});

// A comment on a page or on a checklist task (exactly one of `page_id`, `task_id`); the
// author's name is kept for when the account is gone.
entity!(comment, "knowledge_comments", {
    page_id: Option<i64>,
    task_id: Option<i64>,
    author_id: Option<i64>,
    author_name: String,
    body: String,
    created_at: DateTimeUtc,
});

// One entry of a handbook's feed of changes: a page created, edited (also restored or
// published) or reviewed (`domain::comments::Change`). Written in the transaction of the
// change; newest first is `id` descending.
entity!(change, "knowledge_changes", {
    handbook_id: i64,
    page_id: i64,
    kind: String,
    version: i32,
    actor_name: String,
    note: String,
    at: DateTimeUtc,
});

// A file of the platform's file service attached to a page; `name` and `media_type` as
// stored (a re-encoded picture is a PNG or JPEG).
entity!(attachment, "knowledge_attachments", {
    page_id: i64,
    file_id: i64,
    name: String,
    media_type: String,
    size: i64,
    uploaded_by_id: Option<i64>,
    uploaded_by: String,
    created_at: DateTimeUtc,
});

rathaus_store::tenant_owned!(
    attachment,
    comment,
    change,
    handbook,
    chapter,
    page,
    version,
    confirmation,
    template,
    template_task,
    onboarding,
    task
);
