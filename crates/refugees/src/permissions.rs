//! The refugees module's permissions. Field-level access: each read permission opens one
//! group of a person's fields (see `domain::person::Visibility`).

use rathaus_core::permissions::PermissionDef;

/// Names, household and where a person lives (caretakers).
pub const READ_BASIC: &str = "refugees.read_basic";
/// Birth date, sex, nationality, languages, phone, special needs and notes (social work).
pub const READ_SOCIAL: &str = "refugees.read_social";
/// Residence status, permit validity, allocation and benefits references (foreigners office).
pub const READ_RESIDENCE: &str = "refugees.read_residence";
/// Create and change persons, accommodations, rooms, beds and occupancy.
pub const EDIT: &str = "refugees.edit";
/// Import the Excel lists.
pub const IMPORT: &str = "refugees.import";

/// The Art. 15 DSGVO disclosure of everything stored about a person (data protection
/// officer); it shows every field group, whatever read permissions the holder has.
pub const DISCLOSE: &str = "refugees.disclose";

/// Any of these opens the module's pages.
pub const ANY_READ: &[&str] = &[READ_BASIC, READ_SOCIAL, READ_RESIDENCE];

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        code: READ_BASIC,
        label_key: "perm.refugees.read_basic",
    },
    PermissionDef {
        code: READ_SOCIAL,
        label_key: "perm.refugees.read_social",
    },
    PermissionDef {
        code: READ_RESIDENCE,
        label_key: "perm.refugees.read_residence",
    },
    PermissionDef {
        code: EDIT,
        label_key: "perm.refugees.edit",
    },
    PermissionDef {
        code: IMPORT,
        label_key: "perm.refugees.import",
    },
    PermissionDef {
        code: DISCLOSE,
        label_key: "perm.refugees.disclose",
    },
];
