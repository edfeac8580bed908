//! Report photos on the platform's file service (ADR 0016): new photos are stored there, the
//! row keeps the two file ids; photos stored before stay in their BLOB columns until the job
//! `reports.photos_to_files` moves them. Reading picks whichever the row has.

rathaus_store::photo_files!(
    crate::store::entity::photo,
    module = "reports",
    job = "reports.photos_to_files"
);
