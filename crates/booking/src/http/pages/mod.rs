//! HTML pages and forms of the booking module.

pub mod blackouts;
pub mod edit;
pub mod feeds;
pub mod mine;
pub mod orgs;
pub mod photos;
pub mod resources;
pub mod season;
pub mod series;
pub mod settings;
pub mod stats;
pub mod views;
