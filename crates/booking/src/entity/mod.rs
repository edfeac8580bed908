pub mod reservation;
pub mod resource;
