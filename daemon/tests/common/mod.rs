//! Helpers shared by the daemon's integration tests (each test file that
//! needs them says `mod common;`).
#![allow(dead_code)]

pub mod table;
