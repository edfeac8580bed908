//! Domain kernel of Rathaus: ids, principals, permissions, errors, validation and the audit
//! hash. No HTTP and no SQL live here, so every module can depend on it.

pub mod audit;
pub mod calendar;
pub mod clock;
pub mod error;
pub mod ids;
pub mod permissions;
pub mod principal;
pub mod validation;

pub use error::{Error, Result};
pub use ids::{TenantId, UserId};
pub use principal::Principal;
