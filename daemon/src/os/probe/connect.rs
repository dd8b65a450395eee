//! Sockets for the probes: created non-blocking, bound to `bindto` /
//! `bind_port` when configured, connected under a deadline, and every error
//! sorted into a failure of the server or a check that could not run.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use nix::libc;
use smol::{future, Async, Timer};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vigil_check::{FailReason, ProbeResult};

/// Where a probe goes and where it comes from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target {
    pub ip: IpAddr,
    pub port: u16,
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
}

impl Target {
    /// From a probe's `connect_ip`, port, `bindto` and `bind_port`.
    pub fn new(
        ip: &IpAddr,
        port: &u16,
        bindto: &Option<IpAddr>,
        bind_port: &Option<u16>,
    ) -> Target {
        Target {
            ip: *ip,
            port: *port,
            bindto: *bindto,
            bind_port: *bind_port,
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

/// A socket that could not be made ready: never the server's fault.
pub(super) fn not_run(e: &io::Error) -> ProbeResult {
    ProbeResult::NotRun(FailReason::Socket(e.raw_os_error().unwrap_or(0)))
}

/// keepalived's reading of a connect or I/O errno: the listed ones say the
/// server (or the path to it) is down; anything else means the check could
/// not run.
pub(super) fn classify(e: &io::Error) -> ProbeResult {
    let reason = match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => FailReason::Refused,
        Some(libc::ENETUNREACH | libc::EHOSTUNREACH | libc::EHOSTDOWN | libc::ENETDOWN) => {
            FailReason::Unreachable
        }
        Some(libc::ECONNRESET | libc::ECONNABORTED | libc::EPIPE) => FailReason::Reset,
        Some(libc::ETIMEDOUT) => FailReason::ConnectTimeout,
        _ => return not_run(e),
    };
    ProbeResult::Failed(reason)
}

/// A new non-blocking socket for `t`'s family, bound as configured.
pub(super) fn socket(t: &Target, ty: Type, proto: Protocol) -> Result<Socket, ProbeResult> {
    let domain = Domain::for_address(t.addr());
    let s =
        Socket::new(domain, ty.nonblocking().cloexec(), Some(proto)).map_err(|e| not_run(&e))?;
    if t.bindto.is_some() || t.bind_port.is_some() {
        if t.bind_port.is_some() {
            // A fixed port must be reusable by the next probe right away.
            s.set_reuse_address(true).map_err(|e| not_run(&e))?;
        }
        let any = match t.ip {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let local = SocketAddr::new(t.bindto.unwrap_or(any), t.bind_port.unwrap_or(0));
        s.bind(&SockAddr::from(local)).map_err(|e| not_run(&e))?;
    }
    Ok(s)
}

/// A TCP connection to `t` established before `deadline`.
pub(super) async fn tcp(t: &Target, deadline: Instant) -> Result<Async<TcpStream>, ProbeResult> {
    let s = socket(t, Type::STREAM, Protocol::TCP)?;
    if t.bind_port.is_some() {
        // Close with a reset: no TIME_WAIT on our fixed port (see mod.rs).
        s.set_linger(Some(Duration::ZERO))
            .map_err(|e| not_run(&e))?;
    }
    match s.connect(&SockAddr::from(t.addr())) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(classify(&e)),
    }
    let stream = Async::new_nonblocking(TcpStream::from(s)).map_err(|e| not_run(&e))?;
    let established = async {
        if let Err(e) = stream.writable().await {
            return Err(classify(&e));
        }
        match stream.get_ref().take_error() {
            Ok(None) => Ok(()),
            Ok(Some(e)) | Err(e) => Err(classify(&e)),
        }
    };
    let timeout = async {
        Timer::at(deadline).await;
        Err(ProbeResult::Failed(FailReason::ConnectTimeout))
    };
    future::or(established, timeout).await?;
    Ok(stream)
}

/// A UDP socket bound as configured and connected to `t`, so the kernel
/// only hands us datagrams from the server (and its ICMP errors).
pub(super) fn udp(t: &Target) -> Result<Async<UdpSocket>, ProbeResult> {
    let s = socket(t, Type::DGRAM, Protocol::UDP)?;
    s.connect(&SockAddr::from(t.addr()))
        .map_err(|e| classify(&e))?;
    Async::new_nonblocking(UdpSocket::from(s)).map_err(|e| not_run(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errnos_split_into_failures_and_not_run() {
        let f = |n| classify(&io::Error::from_raw_os_error(n));
        assert_eq!(
            f(libc::ECONNREFUSED),
            ProbeResult::Failed(FailReason::Refused)
        );
        assert_eq!(
            f(libc::EHOSTUNREACH),
            ProbeResult::Failed(FailReason::Unreachable)
        );
        assert_eq!(
            f(libc::ETIMEDOUT),
            ProbeResult::Failed(FailReason::ConnectTimeout)
        );
        assert_eq!(
            f(libc::EINVAL),
            ProbeResult::NotRun(FailReason::Socket(libc::EINVAL))
        );
        assert_eq!(
            f(libc::EADDRNOTAVAIL),
            ProbeResult::NotRun(FailReason::Socket(libc::EADDRNOTAVAIL))
        );
    }
}
