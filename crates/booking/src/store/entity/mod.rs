pub mod blackout;
pub mod org_member;
pub mod organisation;
pub mod photo;
pub mod reservation;
pub mod resource;
pub mod season;
pub mod season_request;
pub mod series;
pub mod settings;
pub mod user_feed;

rathaus_store::tenant_owned!(
    blackout,
    org_member,
    organisation,
    photo,
    reservation,
    resource,
    season,
    season_request,
    series,
    settings,
    user_feed
);
