//! Time comes from `vigil-time`, shared by every sans-IO state machine so the
//! shell converts its clock once.

pub use vigil_time::{micros, Instant};
