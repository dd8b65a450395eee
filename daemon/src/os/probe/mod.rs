//! Health-check probes: what an `Action::Probe` of `vigil_check` asks for,
//! performed on smol without blocking the loop, and always time-bounded.
//!
//! | probe | bound (C = connect_timeout) | pass |
//! | --- | --- | --- |
//! | TCP_CHECK | handshake within C | SYN-ACK to our SYN (half-open, [`TcpPool`]), or connected (closed at once, no data) |
//! | HTTP_GET | per URL: connect within C, then request + whole response within C; URL after URL | every URL's status (and digest) accepted |
//! | DNS_CHECK | query + answer within C | our id, QR, RCODE 0 |
//! | MISC_CHECK | `misc_timeout`, then SIGKILL to its process group | exit status (reported as [`ProbeResult::MiscExit`]) |
//! | SMTP_CHECK | connect within C, then the conversation within C | greeting 220, HELO 250, QUIT answered |
//! | UDP_CHECK | C | no ICMP unreachable (and a reply with `require_reply`) |
//! | PING_CHECK | C | echo reply |
//! | FILE_CHECK | a local read | the number, judged by vigil-check ([`ProbeResult::FileValue`]) |
//!
//! `ProbeKind::watchdog` in vigil-check is these bounds plus a grace.
//!
//! Failures versus checks that could not run (keepalived's
//! `socket_bind_connect`, notes 3.3): only the errnos that say something
//! about the server (ENETUNREACH, EHOSTUNREACH, ECONNREFUSED, EHOSTDOWN,
//! ENETDOWN, ECONNRESET, ECONNABORTED, ETIMEDOUT) and timeouts are
//! failures. A socket that cannot be created or bound (a `bindto` address
//! that is gone, a `bind_port` in use) or any other connect errno (EINVAL
//! from a blackhole route, EACCES from a prohibit route, EADDRNOTAVAIL) is
//! [`ProbeResult::NotRun`]: the checker keeps its state and probes again
//! after `delay_loop`, so removing a local address does not take every real
//! server down (keepalived #1637). A MISC_CHECK whose program is refused by
//! `enable_script_security` or whose user is unknown is `NotRun` too
//! (keepalived disables such a checker); one that cannot be spawned
//! (missing, not executable) is a failure, as keepalived counts it.
//!
//! With `bind_port`, sockets close with SO_LINGER 0 (a reset): a graceful
//! close would leave our fixed port in TIME_WAIT and the next probe, one
//! delay_loop later, could not reuse it. The LVS thread runs TCP_CHECK on
//! its own epoll loop ([`TcpPool`]: half-open SYNs, else connects closed
//! by reset); the other kinds
//! are the futures of [`run`].

mod bell;
mod connect;
mod dns;
mod file;
mod halfopen;
mod http;
mod misc;
mod nexthop;
mod ping;
mod pool;
mod rawio;
mod rawsock;
mod smtp;
mod syn;
mod tcp;
mod udp;

use vigil_check::{FailReason, ProbeKind, ProbeResult};
use vigil_model::GlobalDefs;

use super::users;

pub use bell::Bell;
pub use pool::{TcpEngine, TcpPool, Woken};

/// What MISC_CHECK needs from the global configuration, resolved once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeEnv {
    /// `enable_script_security`: refuse programs non-root users could
    /// change when they run as root.
    pub script_security: bool,
    /// The uid/gid of programs without their own `user`: `script_user`,
    /// else `keepalived_script`, else root.
    pub script_user: (u32, u32),
}

impl ProbeEnv {
    /// From `global_defs`; an unknown `script_user` is logged and the
    /// default user taken, as the notify scripts do.
    pub fn from_globals(g: &GlobalDefs) -> ProbeEnv {
        let script_user = match &g.script_user {
            Some(u) => users::resolve(&u.user, u.group.as_deref()).unwrap_or_else(|e| {
                log::error!("script_user {}: {e}; using the default", u.user);
                users::default_script_user()
            }),
            None => users::default_script_user(),
        };
        ProbeEnv {
            script_security: g.enable_script_security,
            script_user,
        }
    }
}

/// Performs one probe; resolves within the bounds above.
pub async fn run(kind: &ProbeKind, env: &ProbeEnv) -> ProbeResult {
    match kind {
        ProbeKind::Tcp {
            connect_ip,
            port,
            bindto,
            bind_port,
            timeout,
        } => {
            let target = connect::Target::new(connect_ip, port, bindto, bind_port);
            tcp::probe(&target, *timeout).await
        }
        ProbeKind::Http { tls: true, .. } => ProbeResult::Failed(FailReason::TlsUnsupported),
        ProbeKind::Http {
            tls: false,
            connect_ip,
            port,
            bindto,
            bind_port,
            timeout,
            protocol,
            urls,
        } => {
            let target = connect::Target::new(connect_ip, port, bindto, bind_port);
            http::probe(&target, *timeout, *protocol, urls).await
        }
        ProbeKind::Dns {
            connect_ip,
            port,
            bindto,
            bind_port,
            timeout,
            query_type,
            name,
        } => {
            let target = connect::Target::new(connect_ip, port, bindto, bind_port);
            dns::probe(&target, *timeout, *query_type, name).await
        }
        ProbeKind::Misc {
            command, timeout, ..
        } => misc::probe(command, *timeout, env).await,
        ProbeKind::Smtp {
            connect_ip,
            port,
            bindto,
            bind_port,
            timeout,
            helo_name,
        } => {
            let target = connect::Target::new(connect_ip, port, bindto, bind_port);
            smtp::probe(&target, *timeout, helo_name).await
        }
        ProbeKind::Udp {
            connect_ip,
            port,
            bindto,
            bind_port,
            timeout,
            payload,
            require_reply,
            reply,
        } => {
            let target = connect::Target::new(connect_ip, port, bindto, bind_port);
            udp::probe(&target, *timeout, payload, *require_reply, reply.as_deref()).await
        }
        ProbeKind::Ping {
            connect_ip,
            bindto,
            timeout,
        } => ping::probe(*connect_ip, *bindto, *timeout).await,
        ProbeKind::File { path, .. } => file::probe(path),
    }
}

/// Lowers the calling thread's scheduling priority to `nice` (Linux keeps
/// a nice value per thread), so on a one-CPU router the VRRP loop wins
/// when both are runnable. A failure is logged and changes nothing.
pub fn nice_this_thread(nice: i32) {
    let tid = nix::unistd::gettid().as_raw();
    // SAFETY: plain syscall with integer arguments; PRIO_PROCESS with a
    // tid addresses that one thread on Linux.
    let r =
        unsafe { nix::libc::setpriority(nix::libc::PRIO_PROCESS, tid as nix::libc::id_t, nice) };
    if r != 0 {
        log::debug!(
            "cannot lower the LVS thread's priority: {}",
            std::io::Error::last_os_error()
        );
    }
}
