//! (being written)

use rathaus_web::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
}

pub fn nav() -> Vec<rathaus_web::layout::NavItem> {
    vec![]
}
