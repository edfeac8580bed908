pub async fn demo(_db: &rathaus_store::Db, _admin: &rathaus_core::Principal) -> anyhow::Result<()> {
    Ok(())
}
