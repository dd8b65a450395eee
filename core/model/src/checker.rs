//! Real server health checkers (`HTTP_GET`, `SSL_GET`, `TCP_CHECK`,
//! `MISC_CHECK`, `DNS_CHECK`, `SMTP_CHECK`, `UDP_CHECK`, `PING_CHECK`,
//! `FILE_CHECK`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;
use serde::{Deserialize, Serialize};

use crate::command::Command;

/// One health checker of a real server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checker {
    /// Options every checker has, resolved (checker, else real server, else
    /// virtual server, else the checker kind's default).
    pub common: CheckCommon,
    /// What is checked.
    pub kind: CheckKind,
}

/// Options shared by the checkers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckCommon {
    /// `connect_ip ADDR`; default the real server's address.
    pub connect_ip: IpAddr,
    /// `connect_port PORT`; default the real server's port.
    pub connect_port: u16,
    /// `bindto ADDR`: source address; default none (kernel's choice).
    pub bindto: Option<IpAddr>,
    /// `bind_port PORT`: source port; default none (an ephemeral port).
    pub bind_port: Option<u16>,
    /// `connect_timeout SECS`; default 5 s.
    #[serde(with = "crate::compact_duration")]
    pub connect_timeout: Duration,
    /// `retry N` (`nb_get_retry`): extra attempts before declaring a live
    /// server down; default 1, DNS_CHECK 3, MISC_CHECK 0.
    pub retry: u32,
    /// `delay_before_retry SECS`; default 3 s for HTTP_GET/SSL_GET, the
    /// delay_loop for DNS_CHECK, 1 s otherwise.
    #[serde(with = "crate::compact_duration")]
    pub delay_before_retry: Duration,
    /// `warmup SECS`: random delay (0..warmup) before the first check;
    /// default the delay_loop.
    #[serde(with = "crate::compact_duration")]
    pub warmup: Duration,
    /// `delay_loop SECS`: time between checks; default the virtual server's.
    #[serde(with = "crate::compact_duration")]
    pub delay_loop: Duration,
    /// `log_all_failures [BOOL]`: log every failed attempt of this checker
    /// while it is up (as `checker_log_all_failures` does for all).
    pub log_all_failures: bool,
}

/// The checker kinds. The rare, large options are boxed so that the common
/// `TCP_CHECK` costs a few bytes per real server, not the size of the
/// largest kind (a `Box` encodes as its content: the binary form is the
/// same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckKind {
    /// `HTTP_GET { ... }`.
    HttpGet(Box<HttpCheck>),
    /// `SSL_GET { ... }`: the same over TLS.
    SslGet(Box<HttpCheck>),
    /// `TCP_CHECK { ... }`: a TCP connect succeeds.
    Tcp,
    /// `MISC_CHECK { ... }`: a program's exit status.
    Misc(Box<MiscCheck>),
    /// `DNS_CHECK { ... }`: a DNS query is answered.
    Dns(DnsCheck),
    /// `SMTP_CHECK { ... }`: greeting 220, HELO answered 250. Each `host`
    /// block is a checker of its own, as keepalived 2.2.7 makes it.
    Smtp(SmtpCheck),
    /// `UDP_CHECK { ... }`: a datagram sent draws no ICMP unreachable (and a
    /// reply with `require_reply`).
    Udp(Box<UdpCheck>),
    /// `PING_CHECK { ... }`: an ICMP / ICMPv6 echo is answered.
    Ping,
    /// `FILE_CHECK { track_file NAME; weight N [reverse] }`: the number in a
    /// file sets the checker down or the weight.
    File(Box<FileCheck>),
}

/// `SMTP_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpCheck {
    /// `helo_name NAME`; default `smtpchecker.keepalived.org`.
    pub helo_name: String,
}

/// keepalived's `SMTP_DEFAULT_HELO`.
pub const SMTP_DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// `UDP_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpCheck {
    /// `payload HEX`; default none (keepalived then sends 32 bytes of
    /// filler text).
    pub payload: Option<Vec<u8>>,
    /// `require_reply`: silence until connect_timeout is a failure; without
    /// it silence passes and only an ICMP error fails.
    pub require_reply: bool,
    /// `require_reply HEX`: the reply's first bytes must match; default
    /// none (any reply passes).
    pub reply: Option<ReplyPattern>,
    /// `min_reply_length N`; default 0. Judged only with a pattern, as in
    /// keepalived 2.2.7.
    pub min_reply_length: u16,
    /// `max_reply_length N`; default 255. Judged only with a pattern.
    pub max_reply_length: u16,
}

/// keepalived's reply pattern: bytes, and per byte the bits that are
/// wildcards (`x` nibbles); `mask` is empty when there are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPattern {
    /// The expected bytes (a wildcard nibble is 0 here).
    pub data: Vec<u8>,
    /// Bits to ignore, one byte per byte of `data`, or empty.
    pub mask: Vec<u8>,
}

/// `FILE_CHECK` options, its `track_file` block resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCheck {
    /// The `track_file NAME` referenced.
    pub name: String,
    /// The `file PATH` of that block.
    pub path: String,
    /// `weight N`: 0 means a nonzero value is down; otherwise the value
    /// times `weight` is added to the real server's weight. Default the
    /// track_file block's weight, else 0.
    pub weight: i32,
    /// `weight N reverse`: the value counts negatively (with weight 0: a
    /// zero value is down).
    pub reverse: bool,
}

/// A top-level `track_file NAME { file PATH; weight N [reverse] }` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackFile {
    /// The block's name.
    pub name: String,
    /// `file PATH`; required.
    pub path: String,
    /// `weight N`; default 1 (keepalived's default for a tracked file).
    pub weight: i32,
    /// `weight N reverse`.
    pub reverse: bool,
    /// `init_file [VALUE] [overwrite]`.
    pub init_file: Option<crate::InitFile>,
}

impl CheckKind {
    /// The block's keyword in the configuration.
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckKind::HttpGet(_) => "HTTP_GET",
            CheckKind::SslGet(_) => "SSL_GET",
            CheckKind::Tcp => "TCP_CHECK",
            CheckKind::Misc(_) => "MISC_CHECK",
            CheckKind::Dns(_) => "DNS_CHECK",
            CheckKind::Smtp(_) => "SMTP_CHECK",
            CheckKind::Udp(_) => "UDP_CHECK",
            CheckKind::Ping => "PING_CHECK",
            CheckKind::File(_) => "FILE_CHECK",
        }
    }
}

/// `HTTP_GET` / `SSL_GET` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpCheck {
    /// `url { ... }` blocks; at least one.
    pub urls: Vec<Url>,
    /// `virtualhost NAME` (Host header); default the real server's, else the
    /// virtual server's, else none (the address).
    pub virtualhost: Option<String>,
    /// `http_protocol 1.0|1.0C|1.1`; default 1.0.
    pub protocol: HttpProtocol,
}

/// The request's HTTP version (`http_protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum HttpProtocol {
    /// `GET ... HTTP/1.0`, no `Connection` header (the default).
    #[default]
    V10,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    V10Close,
    /// `GET ... HTTP/1.1` with `Connection: close`.
    V11,
}

impl HttpProtocol {
    /// Every value, for lookups by name.
    pub const ALL: [HttpProtocol; 3] =
        [HttpProtocol::V10, HttpProtocol::V10Close, HttpProtocol::V11];

    /// The value as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            HttpProtocol::V10 => "1.0",
            HttpProtocol::V10Close => "1.0C",
            HttpProtocol::V11 => "1.1",
        }
    }

    /// The version on the request line.
    pub fn version(self) -> &'static str {
        match self {
            HttpProtocol::V10 | HttpProtocol::V10Close => "HTTP/1.0",
            HttpProtocol::V11 => "HTTP/1.1",
        }
    }

    /// Whether the request carries `Connection: close`.
    pub fn close(self) -> bool {
        !matches!(self, HttpProtocol::V10)
    }
}

/// `url { path P; status_code C...; digest D; virtualhost H }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Url {
    /// `path`; required.
    pub path: String,
    /// `status_code N|A-B ...`; default 200-299.
    pub status_codes: Vec<StatusRange>,
    /// `digest HEX`: MD5 of the body (genhash); default none.
    pub digest: Option<String>,
    /// `virtualhost`; default the checker's.
    pub virtualhost: Option<String>,
}

/// An inclusive range of HTTP status codes (`200` is 200-200).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRange {
    /// First accepted code.
    pub first: u16,
    /// Last accepted code (>= first).
    pub last: u16,
}

/// `MISC_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiscCheck {
    /// `misc_path CMD` (`user USER [GROUP]` lands in `run_as`); required.
    pub path: Command,
    /// `misc_timeout SECS`; default the virtual server's delay_loop.
    #[serde(with = "crate::compact_duration")]
    pub timeout: Duration,
    /// `misc_dynamic`: exit codes 2..=255 set the weight; default false.
    pub dynamic: bool,
}

/// `DNS_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsCheck {
    /// `type`; default SOA.
    pub query_type: DnsType,
    /// `name`; default `.`.
    pub name: String,
}

/// DNS query types for `DNS_CHECK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnsType {
    /// A (1).
    A,
    /// NS (2).
    Ns,
    /// CNAME (5).
    Cname,
    /// SOA (6), the default.
    Soa,
    /// MX (15).
    Mx,
    /// TXT (16).
    Txt,
    /// AAAA (28).
    Aaaa,
}

impl DnsType {
    /// Every type, for lookups by name.
    pub const ALL: [DnsType; 7] = [
        DnsType::A,
        DnsType::Ns,
        DnsType::Cname,
        DnsType::Soa,
        DnsType::Mx,
        DnsType::Txt,
        DnsType::Aaaa,
    ];

    /// The keyword as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            DnsType::A => "A",
            DnsType::Ns => "NS",
            DnsType::Cname => "CNAME",
            DnsType::Soa => "SOA",
            DnsType::Mx => "MX",
            DnsType::Txt => "TXT",
            DnsType::Aaaa => "AAAA",
        }
    }

    /// The query type's number on the wire.
    pub fn code(self) -> u16 {
        match self {
            DnsType::A => 1,
            DnsType::Ns => 2,
            DnsType::Cname => 5,
            DnsType::Soa => 6,
            DnsType::Mx => 15,
            DnsType::Txt => 16,
            DnsType::Aaaa => 28,
        }
    }
}
