//! Pages.

use rathaus_web::Routes;

pub(crate) fn routes() -> Routes {
    Routes::new()
}
