//! The module's permissions: read the programme, edit measures and move cards, coordinate
//! the team (phases, meetings, members, anonymous concerns, reports).

use rathaus_core::permissions::PermissionDef;

pub const READ: &str = "programme.read";
pub const EDIT: &str = "programme.edit";
pub const COORDINATE: &str = "programme.coordinate";

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        code: READ,
        label_key: "perm.programme.read",
    },
    PermissionDef {
        code: EDIT,
        label_key: "perm.programme.edit",
    },
    PermissionDef {
        code: COORDINATE,
        label_key: "perm.programme.coordinate",
    },
];
