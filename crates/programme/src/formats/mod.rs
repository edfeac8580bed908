//! Pure encoders of the module: the minutes of a meeting as a mail text and as a printable
//! HTML document.

pub mod minutes;
