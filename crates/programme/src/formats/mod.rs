//! Pure encoders of the module: the minutes of a meeting as a mail text and as a printable
//! HTML document, and the status report's burn-up chart as inline SVG.

pub mod burnup_svg;
pub mod minutes;
