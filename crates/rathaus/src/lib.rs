//! The Rathaus build: the modules it serves, in one list that the binary, its commands and
//! the generic tests (`tests/access.rs`) share.

use std::sync::Arc;

/// The modules this build serves. A module crate is added here and nowhere else.
pub fn modules() -> Vec<Arc<dyn rathaus_web::Module>> {
    vec![
        Arc::new(rathaus_booking::Booking),
        Arc::new(rathaus_reports::Reports::new()),
        Arc::new(rathaus_programme::Programme::new()),
        Arc::new(rathaus_knowledge::Knowledge::new()),
        Arc::new(rathaus_refugees::Refugees),
        Arc::new(rathaus_records::Records),
    ]
}
