//! What the shell is asked to probe, and what it reports back.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;
use core::time::Duration;

use vigil_model::{CheckKind, Checker, Command, DnsType, HttpProtocol, StatusRange};

/// keepalived's UDP_CHECK datagram without `payload`: 32 bytes of this
/// text repeated (`set_buf`).
const UDP_FILLER: &[u8; 32] = b"keepalived check - keepalived ch";

/// One probe to perform; built once per checker from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeKind {
    /// `TCP_CHECK`: success when a TCP connection is established within
    /// `timeout`.
    Tcp {
        /// Address to connect to (`connect_ip`, else the real server's).
        connect_ip: IpAddr,
        /// Port (`connect_port`, else the real server's).
        port: u16,
        /// Source address (`bindto`), else the kernel's choice.
        bindto: Option<IpAddr>,
        /// Source port (`bind_port`), else an ephemeral one.
        bind_port: Option<u16>,
        /// `connect_timeout`.
        timeout: Duration,
    },
    /// `HTTP_GET` / `SSL_GET`: every URL in order, each answered with an
    /// accepted status (and body digest if given); one failing URL fails the
    /// probe. Per URL, `timeout` bounds the connect, then again the whole
    /// response (see [`ProbeKind::watchdog`]).
    Http {
        /// `SSL_GET` (TLS) rather than `HTTP_GET`.
        tls: bool,
        /// Address to connect to.
        connect_ip: IpAddr,
        /// Port.
        port: u16,
        /// Source address.
        bindto: Option<IpAddr>,
        /// Source port.
        bind_port: Option<u16>,
        /// `connect_timeout`.
        timeout: Duration,
        /// `http_protocol`.
        protocol: HttpProtocol,
        /// The URLs, in configuration order.
        urls: Vec<HttpUrl>,
    },
    /// `MISC_CHECK`: run a program; its exit status is the verdict.
    Misc {
        /// `misc_path` (with its user).
        command: Command,
        /// `misc_timeout`: kill the program after this long.
        timeout: Duration,
        /// `misc_dynamic`: exit codes 2..=255 set the weight.
        dynamic: bool,
    },
    /// `DNS_CHECK`: a query answered without error.
    Dns {
        /// Server address.
        connect_ip: IpAddr,
        /// Server port.
        port: u16,
        /// Source address.
        bindto: Option<IpAddr>,
        /// Source port.
        bind_port: Option<u16>,
        /// `connect_timeout`.
        timeout: Duration,
        /// Query type.
        query_type: DnsType,
        /// Query name.
        name: String,
    },
    /// `SMTP_CHECK` (one host): greeting 220, `HELO` answered 250, `QUIT`
    /// answered (see [`crate::smtp`]).
    Smtp {
        /// Server address.
        connect_ip: IpAddr,
        /// Server port.
        port: u16,
        /// Source address.
        bindto: Option<IpAddr>,
        /// Source port.
        bind_port: Option<u16>,
        /// `connect_timeout`: the connect, then the whole conversation.
        timeout: Duration,
        /// `helo_name`.
        helo_name: String,
    },
    /// `UDP_CHECK`: send `payload`; an ICMP error fails; a reply passes;
    /// silence for `timeout` passes unless `require_reply`.
    Udp {
        /// Server address.
        connect_ip: IpAddr,
        /// Server port.
        port: u16,
        /// Source address.
        bindto: Option<IpAddr>,
        /// Source port.
        bind_port: Option<u16>,
        /// `connect_timeout`.
        timeout: Duration,
        /// The datagram (keepalived's filler when not configured).
        payload: Vec<u8>,
        /// `require_reply`.
        require_reply: bool,
        /// How a reply is judged with `require_reply HEX` (boxed: most
        /// UDP_CHECKs have none, and every checker holds a ProbeKind).
        reply: Option<Box<crate::udp::ReplyMatch>>,
    },
    /// `PING_CHECK`: an ICMP / ICMPv6 echo answered within `timeout`.
    Ping {
        /// Address pinged.
        connect_ip: IpAddr,
        /// Source address.
        bindto: Option<IpAddr>,
        /// `connect_timeout`.
        timeout: Duration,
    },
    /// `FILE_CHECK`: read the number in `path` ([`ProbeResult::FileValue`]).
    File {
        /// The tracked file.
        path: String,
        /// `weight` (see [`crate::file::verdict`]).
        weight: i32,
        /// `reverse`.
        reverse: bool,
    },
}

/// One URL of an HTTP probe, its virtual host resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// Request path.
    pub path: String,
    /// Host header: the URL's `virtualhost`, else the checker's, else none
    /// (the shell then sends the address).
    pub virtualhost: Option<String>,
    /// Accepted status codes (never empty: default 200-299).
    pub status: Vec<StatusRange>,
    /// Expected MD5 of the body, lowercase hex as configured.
    pub digest: Option<String>,
}

impl ProbeKind {
    /// The probe a configured checker asks for.
    pub fn from_checker(c: &Checker) -> ProbeKind {
        let co = &c.common;
        match &c.kind {
            CheckKind::Tcp => ProbeKind::Tcp {
                connect_ip: co.connect_ip,
                port: co.connect_port,
                bindto: co.bindto,
                bind_port: co.bind_port,
                timeout: co.connect_timeout,
            },
            CheckKind::HttpGet(h) | CheckKind::SslGet(h) => ProbeKind::Http {
                tls: matches!(c.kind, CheckKind::SslGet(_)),
                connect_ip: co.connect_ip,
                port: co.connect_port,
                bindto: co.bindto,
                bind_port: co.bind_port,
                timeout: co.connect_timeout,
                protocol: h.protocol,
                urls: h
                    .urls
                    .iter()
                    .map(|u| HttpUrl {
                        path: u.path.clone(),
                        virtualhost: u.virtualhost.clone().or_else(|| h.virtualhost.clone()),
                        status: if u.status_codes.is_empty() {
                            alloc::vec![StatusRange {
                                first: 200,
                                last: 299
                            }]
                        } else {
                            u.status_codes.clone()
                        },
                        digest: u.digest.clone(),
                    })
                    .collect(),
            },
            CheckKind::Misc(m) => ProbeKind::Misc {
                command: m.path.clone(),
                timeout: m.timeout,
                dynamic: m.dynamic,
            },
            CheckKind::Dns(d) => ProbeKind::Dns {
                connect_ip: co.connect_ip,
                port: co.connect_port,
                bindto: co.bindto,
                bind_port: co.bind_port,
                timeout: co.connect_timeout,
                query_type: d.query_type,
                name: d.name.clone(),
            },
            CheckKind::Smtp(m) => ProbeKind::Smtp {
                connect_ip: co.connect_ip,
                port: co.connect_port,
                bindto: co.bindto,
                bind_port: co.bind_port,
                timeout: co.connect_timeout,
                helo_name: m.helo_name.clone(),
            },
            CheckKind::Udp(u) => ProbeKind::Udp {
                connect_ip: co.connect_ip,
                port: co.connect_port,
                bindto: co.bindto,
                bind_port: co.bind_port,
                timeout: co.connect_timeout,
                payload: u.payload.clone().unwrap_or_else(|| UDP_FILLER.to_vec()),
                require_reply: u.require_reply,
                reply: Some(crate::udp::ReplyMatch::of(u))
                    .filter(|m| m.pattern.is_some())
                    .map(Box::new),
            },
            CheckKind::Ping => ProbeKind::Ping {
                connect_ip: co.connect_ip,
                bindto: co.bindto,
                timeout: co.connect_timeout,
            },
            CheckKind::File(f) => ProbeKind::File {
                path: f.path.clone(),
                weight: f.weight,
                reverse: f.reverse,
            },
        }
    }

    /// The per-step timeout the shell applies.
    pub fn timeout(&self) -> Duration {
        match self {
            ProbeKind::Tcp { timeout, .. }
            | ProbeKind::Http { timeout, .. }
            | ProbeKind::Misc { timeout, .. }
            | ProbeKind::Dns { timeout, .. }
            | ProbeKind::Smtp { timeout, .. }
            | ProbeKind::Udp { timeout, .. }
            | ProbeKind::Ping { timeout, .. } => *timeout,
            // A local read; the watchdog's grace bounds it.
            ProbeKind::File { .. } => Duration::ZERO,
        }
    }

    /// How long a probe may stay unanswered before the checkers give up on
    /// the shell and count it as timed out: the probe's own worst case plus
    /// [`WATCHDOG_GRACE`] (scheduling, killing and reaping a MISC_CHECK
    /// program). The shell's bounds (`vigil::os::probe`) are: TCP_CHECK and
    /// DNS_CHECK one `timeout`; MISC_CHECK `timeout` then SIGKILL; HTTP_GET
    /// per URL one `timeout` for the connect and one for the whole response,
    /// URL after URL; SMTP_CHECK one for the connect and one for the
    /// conversation; UDP_CHECK and PING_CHECK one; FILE_CHECK none.
    pub fn watchdog(&self) -> Duration {
        let steps = match self {
            ProbeKind::Http { urls, .. } => {
                u32::try_from(urls.len().max(1).saturating_mul(2)).unwrap_or(u32::MAX)
            }
            ProbeKind::Smtp { .. } => 2,
            _ => 1,
        };
        self.timeout()
            .checked_mul(steps)
            .unwrap_or(Duration::MAX)
            .saturating_add(WATCHDOG_GRACE)
    }

    /// Whether an exit status sets the weight (`misc_dynamic`).
    pub(crate) fn dynamic(&self) -> bool {
        matches!(self, ProbeKind::Misc { dynamic: true, .. })
    }
}

/// Slack after a probe's own timeouts before the watchdog fires.
pub const WATCHDOG_GRACE: Duration = Duration::from_secs(5);

/// The outcome of a probe, as reported by the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    /// The check passed (for MISC_CHECK, the same as exit status 0).
    Ok,
    /// The check failed for this reason.
    Failed(FailReason),
    /// The probe's timeout expired (a MISC_CHECK program was killed).
    TimedOut,
    /// A MISC_CHECK program exited with this status.
    MiscExit(u8),
    /// The check could not run (no socket, a bind to a missing address, an
    /// unexpected errno): not a failure, keepalived just probes again after
    /// `delay_loop` (notes 3.3, #1637).
    NotRun(FailReason),
    /// A FILE_CHECK file holds this number (0 when missing or empty).
    FileValue(i64),
}

/// Why a probe failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// The connection was refused (RST).
    Refused,
    /// No route, host or network unreachable.
    Unreachable,
    /// The connection was reset or closed mid-exchange.
    Reset,
    /// Another socket error (errno).
    Socket(i32),
    /// TLS handshake failed.
    Tls,
    /// The HTTP status was not among the accepted ones.
    HttpStatus(u16),
    /// The body's MD5 did not match `digest`.
    DigestMismatch,
    /// The answer could not be parsed (HTTP or DNS).
    Malformed,
    /// The DNS server answered with this error rcode, or without an answer.
    DnsRcode(u8),
    /// The MISC_CHECK program could not be started.
    Spawn,
    /// The MISC_CHECK program died from this signal.
    Signal(i32),
    /// No TCP connection within `connect_timeout`.
    ConnectTimeout,
    /// Connected, but no complete answer within `connect_timeout`.
    ResponseTimeout,
    /// The connection closed before the HTTP header's end (`\r\n\r\n`).
    HttpNoHeaderEnd,
    /// The HTTP status line has no 3-digit code between spaces.
    HttpNoStatus,
    /// The response exceeds the probe's size cap (1 MiB) and must be read
    /// whole (a header without end, a body with a `digest`).
    HttpTooLarge,
    /// `SSL_GET` is not implemented in this build.
    TlsUnsupported,
    /// The DNS query name cannot be encoded.
    BadDnsName,
    /// The MISC_CHECK program failed `enable_script_security`, or its user
    /// is unknown: disabled.
    ScriptDisabled,
    /// The MISC_CHECK program's exit status was lost (reaped elsewhere).
    StatusLost,
    /// The SMTP greeting was not 220 (0: no reply code on the line).
    SmtpGreeting(u16),
    /// The reply to HELO was not 250 (0: no reply code on the line).
    SmtpHelo(u16),
    /// An SMTP reply line longer than 512 bytes.
    SmtpLineTooLong,
    /// No echo reply (PING_CHECK) or no UDP reply with `require_reply`
    /// within connect_timeout.
    NoReply,
    /// The UDP reply does not match `require_reply HEX` or its lengths.
    ReplyMismatch,
    /// The FILE_CHECK file holds a number out of range: reading ignored.
    FileNumber,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::Refused => f.write_str("connection refused"),
            FailReason::Unreachable => f.write_str("unreachable"),
            FailReason::Reset => f.write_str("connection reset"),
            FailReason::Socket(e) => write!(f, "socket error {e}"),
            FailReason::Tls => f.write_str("TLS handshake failed"),
            FailReason::HttpStatus(s) => write!(f, "HTTP status {s} not accepted"),
            FailReason::DigestMismatch => f.write_str("body digest mismatch"),
            FailReason::Malformed => f.write_str("malformed answer"),
            FailReason::DnsRcode(r) => write!(f, "DNS rcode {r} ({})", crate::dns::rcode_name(*r)),
            FailReason::Spawn => f.write_str("program could not be started"),
            FailReason::Signal(s) => write!(f, "program killed by signal {s}"),
            FailReason::ConnectTimeout => f.write_str("no connection within connect_timeout"),
            FailReason::ResponseTimeout => f.write_str("no complete answer within connect_timeout"),
            FailReason::HttpNoHeaderEnd => {
                f.write_str("no HTTP header end before the connection closed")
            }
            FailReason::HttpNoStatus => f.write_str("no HTTP status code in the status line"),
            FailReason::HttpTooLarge => f.write_str("HTTP response larger than 1 MiB"),
            FailReason::TlsUnsupported => f.write_str("SSL_GET is not supported by this build"),
            FailReason::BadDnsName => f.write_str("DNS name cannot be encoded"),
            FailReason::ScriptDisabled => f.write_str("script disabled"),
            FailReason::StatusLost => f.write_str("program's exit status was lost"),
            FailReason::SmtpGreeting(0) => f.write_str("SMTP greeting without a reply code"),
            FailReason::SmtpGreeting(c) => write!(f, "SMTP greeting {c}, not 220"),
            FailReason::SmtpHelo(0) => f.write_str("SMTP HELO reply without a reply code"),
            FailReason::SmtpHelo(c) => write!(f, "SMTP HELO reply {c}, not 250"),
            FailReason::SmtpLineTooLong => f.write_str("SMTP reply line over 512 bytes"),
            FailReason::NoReply => f.write_str("no reply within connect_timeout"),
            FailReason::ReplyMismatch => f.write_str("reply data mismatch"),
            FailReason::FileNumber => f.write_str("tracked file holds a number out of range"),
        }
    }
}

impl fmt::Display for ProbeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeResult::Ok => f.write_str("ok"),
            ProbeResult::Failed(r) => write!(f, "failed: {r}"),
            ProbeResult::TimedOut => f.write_str("timed out"),
            ProbeResult::MiscExit(c) => write!(f, "exit status {c}"),
            ProbeResult::NotRun(r) => write!(f, "not run: {r}"),
            ProbeResult::FileValue(v) => write!(f, "file value {v}"),
        }
    }
}

/// What a result means for the checker: passed (with a weight for
/// `misc_dynamic`), or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Up; `Some(w)` sets the real server's weight, `None` restores the
    /// configured one when dynamic, leaves it otherwise.
    Pass(Option<u32>),
    /// Up, with this FILE_CHECK offset to the real server's weight.
    Offset(i64),
    /// Down (after retries).
    Fail,
    /// The check could not run: nothing changes, probe again later.
    Skip,
}

/// keepalived's reading of a result: exit 0 passes; with `misc_dynamic`,
/// 1 fails and 2..=255 pass with weight `code - 2`; without it any nonzero
/// status fails.
/// A FILE_CHECK value goes through [`crate::file::verdict`].
pub(crate) fn outcome(result: ProbeResult, kind: &ProbeKind) -> Outcome {
    let dynamic = kind.dynamic();
    match result {
        ProbeResult::FileValue(v) => {
            let (weight, reverse) = match kind {
                ProbeKind::File {
                    weight, reverse, ..
                } => (*weight, *reverse),
                _ => (0, false),
            };
            match crate::file::verdict(v, weight, reverse) {
                Some(d) => Outcome::Offset(d),
                None => Outcome::Fail,
            }
        }
        ProbeResult::Ok | ProbeResult::MiscExit(0) => Outcome::Pass(None),
        ProbeResult::MiscExit(c) if dynamic && c >= 2 => Outcome::Pass(Some(u32::from(c - 2))),
        ProbeResult::MiscExit(_) | ProbeResult::Failed(_) | ProbeResult::TimedOut => Outcome::Fail,
        ProbeResult::NotRun(_) => Outcome::Skip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misc(dynamic: bool) -> ProbeKind {
        ProbeKind::Misc {
            command: Command::new("true", None),
            timeout: Duration::from_secs(1),
            dynamic,
        }
    }

    #[test]
    fn file_values_pass_with_an_offset_or_fail() {
        let f = |weight, reverse| ProbeKind::File {
            path: "/x".into(),
            weight,
            reverse,
        };
        assert_eq!(
            outcome(ProbeResult::FileValue(0), &f(0, false)),
            Outcome::Offset(0)
        );
        assert_eq!(
            outcome(ProbeResult::FileValue(2), &f(0, false)),
            Outcome::Fail
        );
        assert_eq!(
            outcome(ProbeResult::FileValue(2), &f(5, true)),
            Outcome::Offset(-10)
        );
    }

    #[test]
    fn exit_codes_follow_misc_dynamic() {
        assert_eq!(
            outcome(ProbeResult::MiscExit(0), &misc(true)),
            Outcome::Pass(None)
        );
        assert_eq!(
            outcome(ProbeResult::MiscExit(1), &misc(true)),
            Outcome::Fail
        );
        assert_eq!(
            outcome(ProbeResult::MiscExit(2), &misc(true)),
            Outcome::Pass(Some(0))
        );
        assert_eq!(
            outcome(ProbeResult::MiscExit(255), &misc(true)),
            Outcome::Pass(Some(253))
        );
        assert_eq!(
            outcome(ProbeResult::MiscExit(7), &misc(false)),
            Outcome::Fail
        );
        assert_eq!(outcome(ProbeResult::TimedOut, &misc(true)), Outcome::Fail);
        assert_eq!(
            outcome(ProbeResult::Failed(FailReason::Refused), &misc(false)),
            Outcome::Fail
        );
        assert_eq!(
            outcome(ProbeResult::NotRun(FailReason::Socket(99)), &misc(false)),
            Outcome::Skip
        );
    }

    #[test]
    fn watchdog_covers_every_url() {
        let url = HttpUrl {
            path: "/".into(),
            virtualhost: None,
            status: alloc::vec![],
            digest: None,
        };
        let p = ProbeKind::Http {
            tls: false,
            connect_ip: IpAddr::from([10, 0, 0, 1]),
            port: 80,
            bindto: None,
            bind_port: None,
            timeout: Duration::from_secs(2),
            protocol: HttpProtocol::V10,
            urls: alloc::vec![url.clone(), url],
        };
        // Connect plus response, per URL.
        assert_eq!(p.watchdog(), Duration::from_secs(8) + WATCHDOG_GRACE);
        let tcp = ProbeKind::Tcp {
            connect_ip: IpAddr::from([10, 0, 0, 1]),
            port: 80,
            bindto: None,
            bind_port: None,
            timeout: Duration::from_secs(3),
        };
        assert_eq!(tcp.watchdog(), Duration::from_secs(3) + WATCHDOG_GRACE);
    }

    #[test]
    fn reasons_display_distinctly() {
        assert_eq!(
            alloc::format!("{}", ProbeResult::Failed(FailReason::HttpStatus(503))),
            "failed: HTTP status 503 not accepted"
        );
        assert_eq!(
            alloc::format!("{}", ProbeResult::Failed(FailReason::DnsRcode(5))),
            "failed: DNS rcode 5 (REFUSED)"
        );
    }
}
