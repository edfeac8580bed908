//! The pages of the disposal under /akten/aussonderung.

use rathaus_web::Routes;

pub(crate) fn routes() -> Routes {
    Routes::new()
}
