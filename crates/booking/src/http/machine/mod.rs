//! Machine-facing routes: the calendar feeds.

pub mod feeds;
