//! xdomea 3.0.0 messages of the archive hand-over. Work in progress.
