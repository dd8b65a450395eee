//! Sans-IO health checkers for IPVS real servers: keepalived's `HTTP_GET`,
//! `SSL_GET`, `TCP_CHECK`, `MISC_CHECK`, `DNS_CHECK`, `SMTP_CHECK`,
//! `UDP_CHECK`, `PING_CHECK` and `FILE_CHECK` scheduling, retries and
//! verdicts.
//!
//! The [`Checkers`] facade decides *when* to probe and *what the outcome
//! means*; the shell performs the probes ([`Action::Probe`]) and reports
//! [`ProbeResult`]s. Verdicts come out as [`Action`]s
//! (`RealServerUp`/`RealServerDown`/`SetWeight`/`Notify`) and through
//! [`Checkers::real_server_state`]; real servers and virtual servers are
//! named by their indices in the [`vigil_model::Config`].
//!
//! Semantics follow keepalived 2.2.7: first check 1 s + random `0..=warmup`
//! after start; `retry` further attempts spaced by `delay_before_retry`
//! before a live checker goes down; a real server is down while any of its
//! checkers is down; `alpha` starts every checker down; `misc_dynamic` exit
//! codes 2..=255 set the weight to `code - 2`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod action;
mod checker;
mod checkers;
pub mod dns;
mod error;
pub mod file;
pub mod http;
pub mod icmp;
mod id;
pub use vigil_wire::md5;
mod probe;
mod reload;
pub mod smtp;
mod time;
pub mod udp;

pub use action::Action;
pub use checker::Checker;
pub use checkers::{shrink_drained, Checkers, ServerView, BOOTSTRAP_DELAY};
pub use error::Ignored;
pub use id::{CheckerId, RsId};
pub use probe::{FailReason, HttpUrl, ProbeKind, ProbeResult, WATCHDOG_GRACE};
pub use time::Instant;
