//! The control socket: `vigil status` asks the running daemon for the state
//! of its instances.
//!
//! | file | what |
//! | --- | --- |
//! | [`protocol`] | the request line and its parsing |
//! | [`server`] | the daemon's listening socket; requests read with a timeout |
//! | [`client`] | the blocking query used by `vigil status` |
//! | [`render`] | the reply: human text or JSON, from the router and [`StatusExtra`] |
//!
//! In the event loop:
//!
//! ```no_run
//! # use vigil::control::{self, StatusExtra};
//! # fn demo(router: &vigil_vrrp::Router, extra: &StatusExtra) -> Result<(), control::BindError> {
//! smol::block_on(async {
//!     let mut ctl = control::Server::bind("/run/vigil/vigil.sock")?;
//!     // Raced against the other event sources:
//!     let conn = ctl.accept().await;
//!     let reply = control::render(&conn.request(), router, extra);
//!     smol::spawn(async move {
//!         if let Err(e) = conn.reply(reply).await {
//!             log::info!("control: {e}");
//!         }
//!     })
//!     .detach();
//!     Ok(())
//! })
//! # }
//! ```
//!
//! And in `vigil status`:
//!
//! ```no_run
//! # use vigil::control;
//! let text = control::query("/run/vigil/vigil.sock", control::Request::Status { json: true });
//! ```

pub mod client;
mod extra;
pub(crate) mod json;
pub mod lvs;
pub mod peer;
pub mod protocol;
pub mod render;
pub mod server;

pub use client::{query, query_with_timeout, QueryError};
pub use extra::{InstanceExtra, StatusExtra};
pub use lvs::{RsView, VsView};
pub use protocol::{Request, RequestError};
pub use render::render;
pub use server::{BindError, Connection, ReplyError, Server};
