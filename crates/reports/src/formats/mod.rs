//! Pure encoders and decoders: Open311 GeoReport v2 (JSON and XML) and the Atom feed.

pub mod atom;
pub mod open311;
