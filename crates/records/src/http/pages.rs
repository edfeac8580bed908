pub(crate) fn routes() -> rathaus_web::Routes {
    rathaus_web::Routes::new()
}
