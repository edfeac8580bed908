//! Machine routes: Open311 GeoReport v2.

pub mod open311;
