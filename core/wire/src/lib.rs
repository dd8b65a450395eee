//! Packet codecs, in the style of smoltcp's `wire`: for each protocol a zero-copy
//! view over a byte buffer (`Packet<T: AsRef<[u8]>>`) and a validated `Repr` with
//! `parse`, `buffer_len` and `emit`.
//!
//! Panic contract: a view built with `new_checked` never panics in its getters;
//! `emit` needs a buffer of exactly `buffer_len()` bytes. Parsers are total: any
//! byte string gives `Ok` or a typed `Error`, never a panic.
//!
//! This crate does no I/O and is `no_std`: it imports nothing but `core` and `alloc`.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod ah;
pub mod arp;
pub mod checksum;
pub mod error;
pub mod ethernet;
pub mod ipv4;
pub mod ipv6;
pub mod md5;
pub mod ndisc;
pub mod vrrp;

pub use error::{Error, Result};
