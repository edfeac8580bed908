//! sea-orm entities of the platform's tables (owned by the store crate).
pub mod api_token;
pub mod audit_event;
pub mod audit_head;
pub mod department;
pub mod job;
pub mod login_attempt;
pub mod mail;
pub mod role;
pub mod role_permission;
pub mod session;
pub mod tenant;
pub mod tenant_asset;
pub mod tenant_host;
pub mod tenant_page;
pub mod user;
pub mod user_role;
