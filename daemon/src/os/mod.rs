//! Linux system interfaces: everything that makes a syscall lives here, so the
//! core crates stay sans-IO. Each piece is usable from smol: sockets are
//! non-blocking fds wrapped in `smol::Async`, waits are async fns.
//!
//! | module | what |
//! | --- | --- |
//! | [`child_load`] | a text configuration parsed in a child process, its binary form read back |
//! | [`clock`] | CLOCK_MONOTONIC in the core's microseconds |
//! | [`signals`] | SIGTERM/SIGINT/SIGHUP/SIGCHLD as an async stream |
//! | [`vrrp_socket`] | raw IP protocol 112 sockets, v4 and v6, multicast and unicast |
//! | [`garp`] | gratuitous ARP / unsolicited NA through AF_PACKET |
//! | [`netlink`] | addresses, links, and the link/address monitor (rtnetlink) |
//! | [`probe`] | health-check probes: TCP, HTTP, DNS over sockets, MISC via scripts |
//! | [`proc_connector`], [`procfs`] | process events (track_process) and what /proc says of a process |
//! | [`resolve`] | host names without the C resolver (`smtp_server NAME`): hosts file, then DNS |
//! | [`sched`] | the loop's scheduling: SCHED_RR, nice, mlockall, RLIMIT_RTTIME, slice hint |
//! | [`script`] | running scripts in their own process group with a timeout |
//! | [`smtp_alert`] | one alert mail over SMTP, each step under a timeout |
//! | [`fifo`] | notify FIFOs: mkfifo, non-blocking open and write |
//! | [`sysctl`] | per-interface sysctls (the VMAC's arp_ignore, rp_filter, ...) |
//! | [`script_security`] | `enable_script_security` and PATH lookup |
//! | [`users`] | `script_user` names to uid/gid |
//! | [`syslog`], [`logger`] | the `log` backend: syslog or stderr |
//!
//! Errors are typed per module; those that come from a syscall carry the errno.
//!
//! A sketch of how the event loop uses these pieces (each call is real API):
//!
//! ```no_run
//! use vigil::os::{clock, garp, netlink, script, signals, vrrp_socket};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! smol::block_on(async {
//!     let sigs = signals::Signals::install()?;
//!     let nl = netlink::Netlink::open()?;
//!     let link = nl.link_by_name("eth0")?;
//!     let mut monitor = netlink::Monitor::open()?;
//!     monitor.seed(&nl.links()?);
//!
//!     let cfg = vrrp_socket::Config::multicast("eth0", link.index, vrrp_socket::Family::V4);
//!     let vrrp = vrrp_socket::VrrpSocket::open(&cfg)?;
//!     let announce = garp::AnnounceSocket::open(link.index, link.mac6().unwrap_or_default())?;
//!
//!     // Becoming master: add the VIP, announce it, run the notify script.
//!     let mut vip = netlink::AddressSpec::new(link.index, "192.168.1.100".parse()?, 24);
//!     vip.label = Some("eth0:0".into());
//!     nl.add_address(&vip)?;
//!     announce.send_garp("192.168.1.100".parse()?).await?;
//!     vrrp.send(&[0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0, 0]).await?;
//!     let mut notify = script::Script::new(["/etc/vigil/notify.sh", "MASTER"]);
//!     notify.timeout = Some(std::time::Duration::from_secs(10));
//!     let _outcome = script::run(&notify).await?;
//!
//!     // The loop races these futures (e.g. with smol::future::or):
//!     let mut buf = [0u8; 1500];
//!     let _advert = vrrp.recv(&mut buf).await?;     // -> core handle_advert(now)
//!     let _link = monitor.next().await?;            // -> core handle_link
//!     let _sig = sigs.next().await?;                // -> stop / reload
//!     let _now = clock::now_us();                   // -> vigil_vrrp::Instant::from_micros
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })
//! # }
//! ```

pub mod ah_socket;
pub mod child_load;
pub mod clock;
pub mod fifo;
pub mod garp;
pub mod inotify;
pub mod ipvs;
pub mod logger;
pub mod netlink;
pub mod nftables;
pub mod probe;
pub mod proc_connector;
pub mod procfs;
pub mod resolve;
pub mod sched;
pub mod script;
pub mod script_security;
pub mod signals;
pub mod smtp_alert;
pub mod sysctl;
pub mod syslog;
pub mod users;
mod vrrp_send;
pub mod vrrp_socket;
