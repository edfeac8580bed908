//! HTML pages and forms.

pub mod admin;
pub mod public;
pub mod staff;
pub mod tiles;
