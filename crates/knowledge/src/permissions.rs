//! The module's permissions. Admins hold every one.

use rathaus_core::permissions::PermissionDef;

/// Read the handbooks open to the reader (all staff, their department, their roles).
pub const READ: &str = "knowledge.read";
/// Write pages and chapters in readable handbooks, restore versions.
pub const EDIT: &str = "knowledge.edit";
/// Create handbooks, set their visibility, read every handbook, see read confirmations.
pub const MANAGE: &str = "knowledge.manage";
/// Start onboardings and follow their progress (HR, department heads).
pub const ONBOARDING: &str = "knowledge.onboarding";

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        code: READ,
        label_key: "perm.knowledge.read",
    },
    PermissionDef {
        code: EDIT,
        label_key: "perm.knowledge.edit",
    },
    PermissionDef {
        code: MANAGE,
        label_key: "perm.knowledge.manage",
    },
    PermissionDef {
        code: ONBOARDING,
        label_key: "perm.knowledge.onboarding",
    },
];
