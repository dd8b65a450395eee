//! Linux system interfaces: everything that makes a syscall lives here, so the
//! core crates stay sans-IO. Each piece is usable from smol: sockets are
//! non-blocking fds wrapped in `smol::Async`, waits are async fns.
//!
//! | module | what |
//! | --- | --- |
//! | [`clock`] | CLOCK_MONOTONIC in the core's microseconds |
//! | [`signals`] | SIGTERM/SIGINT/SIGHUP/SIGCHLD as an async stream |
//! | [`vrrp_socket`] | raw IP protocol 112 sockets, v4 and v6, multicast and unicast |
//! | [`garp`] | gratuitous ARP / unsolicited NA through AF_PACKET |
//! | [`netlink`] | addresses, links, and the link/address monitor (rtnetlink) |
//! | [`script`] | running scripts in their own process group with a timeout |
//! | [`script_security`] | `enable_script_security` and PATH lookup |
//! | [`syslog`], [`logger`] | the `log` backend: syslog or stderr |
//!
//! Errors are typed per module; those that come from a syscall carry the errno.

pub mod clock;
pub mod garp;
pub mod logger;
pub mod netlink;
pub mod script;
pub mod script_security;
pub mod signals;
pub mod syslog;
pub mod vrrp_socket;
