//! (being written)

use rathaus_web::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
}
