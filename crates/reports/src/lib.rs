//! Mängelmelder (issue 3): citizens report defects (winter service, potholes, street lights,
//! blocked gullies, illegal dumping) on a map or by address, staff triage and answer them, the
//! public follows progress, and an Open311 GeoReport v2 API serves other apps.
//!
//! Built in steps; this crate is not yet mounted in the binary. What exists: the geometry
//! (`geo`: point in the tenant's boundary, distances, nearby search boxes), the street
//! directory import (`streets`), and the Open311 document formats (`open311`).

pub mod geo;
pub mod open311;
pub mod streets;
