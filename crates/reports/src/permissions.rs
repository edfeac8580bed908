//! The module's permissions, offered in the role form.

use rathaus_core::permissions::PermissionDef;

/// Work the inbox: triage, answer, assign, close.
pub const HANDLE: &str = "reports.handle";
/// Publish or hide reports, edit their public text, hide photos.
pub const MODERATE: &str = "reports.moderate";
/// Categories, settings, boundary, street directory, Open311 API keys.
pub const MANAGE: &str = "reports.manage";
/// See the reporters' names and contact details (detail page, exports); each read is audited.
pub const PERSONAL_DATA: &str = "reports.personal_data";

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        code: HANDLE,
        label_key: "perm.reports.handle",
    },
    PermissionDef {
        code: MODERATE,
        label_key: "perm.reports.moderate",
    },
    PermissionDef {
        code: MANAGE,
        label_key: "perm.reports.manage",
    },
    PermissionDef {
        code: PERSONAL_DATA,
        label_key: "perm.reports.personal_data",
    },
];
