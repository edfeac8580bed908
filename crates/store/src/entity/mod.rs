//! sea-orm entities of the platform's tables (owned by the store crate).
pub mod api_token;
pub mod audit_anchor;
pub mod audit_event;
pub mod audit_head;
pub mod department;
pub mod email_confirmation;
pub mod file;
pub mod file_content;
pub mod job;
pub mod login_attempt;
pub mod mail;
pub mod mail_attachment;
pub mod password_reset;
pub mod password_reset_attempt;
pub mod registration_attempt;
pub mod role;
pub mod role_permission;
pub mod session;
pub mod tenant;
pub mod tenant_asset;
pub mod tenant_host;
pub mod tenant_page;
pub mod user;
pub mod user_role;

crate::tenant_owned!(
    api_token,
    audit_anchor,
    audit_event,
    audit_head,
    department,
    email_confirmation,
    file,
    file_content,
    job,
    login_attempt,
    mail,
    password_reset,
    password_reset_attempt,
    registration_attempt,
    role,
    role_permission,
    session,
    tenant_asset,
    tenant_host,
    tenant_page,
    user,
    user_role
);
