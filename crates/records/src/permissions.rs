//! The module's permissions (deny by default; admins hold every one).

use rathaus_core::permissions::PermissionDef;

/// Read general files (kind `general`) and their documents.
pub const VIEW: &str = "records.view";
/// Keep the file plan, create files and cases, file documents, handle the inbox.
pub const MANAGE: &str = "records.manage";
/// Open Wohngeld files (social data).
pub const WOHNGELD: &str = "records.wohngeld";
/// Open dog-tax files and the dog-tax register.
pub const DOG: &str = "records.dog";
/// Open personnel files (HR).
pub const PERSONNEL: &str = "records.personnel";
/// Open the personnel sub-file "Krankheit" (sickness), on top of `records.personnel`.
pub const PERSONNEL_SICKNESS: &str = "records.personnel_sickness";
/// Retention, deletion runs and the archive hand-over.
pub const DISPOSAL: &str = "records.disposal";
/// Produce a subject access export (Art. 15 DSGVO).
pub const SUBJECT_ACCESS: &str = "records.subject_access";

/// Any permission that opens some files: who may reach the module's pages at all.
pub const ANY_READ: &[&str] = &[VIEW, MANAGE, WOHNGELD, DOG, PERSONNEL, PERSONNEL_SICKNESS];

macro_rules! defs {
    ($($code:ident => $key:literal),* $(,)?) => {
        pub const PERMISSIONS: &[PermissionDef] = &[
            $(PermissionDef { code: $code, label_key: $key }),*
        ];
    };
}

defs!(
    VIEW => "perm.records.view",
    MANAGE => "perm.records.manage",
    WOHNGELD => "perm.records.wohngeld",
    DOG => "perm.records.dog",
    PERSONNEL => "perm.records.personnel",
    PERSONNEL_SICKNESS => "perm.records.personnel_sickness",
    DISPOSAL => "perm.records.disposal",
    SUBJECT_ACCESS => "perm.records.subject_access",
);
