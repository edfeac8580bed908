//! The booking module's permissions, registered at start so that the role form offers them.

use rathaus_core::permissions::PermissionDef;

/// Create and edit resources, see every reservation, cancel any of them.
pub const MANAGE: &str = "booking.manage";
/// Make reservations (and cancel one's own).
pub const BOOK: &str = "booking.book";

pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        code: MANAGE,
        label_key: "perm.booking.manage",
    },
    PermissionDef {
        code: BOOK,
        label_key: "perm.booking.book",
    },
];
