pub mod api_key;
pub mod category;
pub mod counter;
pub mod follower;
pub mod photo;
pub mod pow_spent;
pub mod report;
pub mod settings;
pub mod street;
pub mod update;

rathaus_store::tenant_owned!(
    api_key, category, counter, follower, photo, pow_spent, report, settings, street, update
);
