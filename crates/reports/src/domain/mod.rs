//! Pure types and rules of the Mängelmelder: statuses, priorities, moderation, ids, the
//! municipal boundary and positions, the street directory and the proof of work. No I/O.

pub mod altcha;
pub mod geo;
pub mod report;
pub mod streets;

pub use report::*;
