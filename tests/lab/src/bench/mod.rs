//! Pieces of the benchmark and the flood test: packet crafting, pcap reading,
//! /proc accounting, timestamps, statistics, and the drop-counter expectations.

pub mod background;
pub mod clock;
pub mod craft;
pub mod drops;
pub mod json;
pub mod pcap;
pub mod pressure;
pub mod procfs;
pub mod stats;
