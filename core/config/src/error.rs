//! Diagnostics: what went wrong (or looks wrong), and where.

use alloc::string::String;
use core::fmt;

use crate::loader::LoadError;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The configuration is not usable.
    Error,
    /// keepalived would carry on (e.g. skip an unknown keyword); so do we,
    /// unless in strict mode.
    Warning,
    /// Information asked for (`vigil check -D`): what a conditional line or
    /// a parameter resolved to. Never affects the verdict.
    Note,
}

impl Severity {
    /// The word diagnostics print: `error`, `warning`, `note`.
    pub fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One finding, located in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file's path as the configuration named it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
    /// What is wrong.
    pub problem: Problem,
}

impl Diagnostic {
    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = self.severity.word();
        write!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file, self.line, self.col, self.problem
        )
    }
}

/// Every reason a configuration can be refused or warned about. The offending
/// text is carried so that the message can quote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    // --- text and structure
    /// The file is not UTF-8 text (nor a binary configuration).
    NotUtf8,
    /// A `"` without its closing `"` on the same line.
    UnterminatedQuote,
    /// A `}` with no open block.
    UnexpectedClose,
    /// A `{` with no keyword before it.
    UnexpectedOpen,
    /// A block opened by this keyword is never closed.
    UnclosedBlock(String),
    /// This keyword needs a `{ ... }` block.
    ExpectedBlock(String),
    /// This keyword takes no block (keepalived ignores it).
    UnexpectedBlock(String),
    // --- include
    /// `include` without a path.
    IncludeWithoutPath,
    /// A file includes itself, directly or not.
    IncludeCycle(String),
    /// Includes nested deeper than 8 levels.
    IncludeTooDeep(String),
    /// An included (or the main) file could not be read.
    Unreadable(String, LoadError),
    /// An include pattern matched no file.
    IncludeNoMatch(String),
    /// More files than [`crate::Limits::files`] (the cap).
    TooManyFiles(usize),
    /// The files read so far plus this one exceed [`crate::Limits::total_bytes`].
    TotalTooLarge(usize, String),
    // --- caps (see [`crate::Limits`])
    /// A physical line longer than the cap, in bytes; the line is skipped.
    LineTooLong(usize),
    /// A word or quoted string longer than the cap, in bytes; it is skipped.
    WordTooLong(usize),
    /// More tokens than the cap in all files together; the rest is skipped.
    TooManyTokens(usize),
    /// Blocks nested deeper than the cap; the inner blocks are skipped.
    TooDeep(usize),
    /// Problems not listed because of [`crate::Limits::reported`].
    MoreProblems {
        /// Errors not listed.
        errors: usize,
        /// Warnings not listed.
        warnings: usize,
    },
    // --- keywords and values
    /// A keyword not known in this block (skipped, with its block).
    UnknownKeyword(String, &'static str),
    /// More values than the keyword takes (ignored).
    ExtraValue(String),
    /// The keyword needs a value.
    MissingValue(String),
    /// Not a number.
    NotANumber(String, String),
    /// A number outside its range.
    OutOfRange {
        /// The keyword.
        keyword: String,
        /// The value as written.
        value: String,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// Not a duration in seconds (decimal, at most 9 fraction digits).
    BadDuration(String, String),
    /// Not one of the accepted words.
    BadChoice {
        /// The keyword.
        keyword: String,
        /// The value as written.
        value: String,
        /// The accepted values.
        expected: &'static str,
    },
    /// Not an IP address.
    BadAddress(String),
    /// A bad `/PREFIX` or netmask.
    BadPrefix(String),
    /// A required keyword is missing from a block.
    MissingKeyword(&'static str, &'static str),
    /// Two blocks of the same kind with the same name.
    DuplicateName(&'static str, String),
    // --- VRRP meaning
    /// `advert_int` not valid for the instance's VRRP version.
    AdvertIntForVersion(String, u8),
    /// `state MASTER` with `auth_type AH` (not the address owner): keepalived
    /// 2.2.7 clears it to BACKUP, to learn the AH sequence number first.
    AhInitialMaster,
    /// `SSL_GET`: this build has no TLS client (see the README: the size
    /// cost was measured and refused).
    SslGetUnsupported,
    /// `auth_pass` longer than 8 characters (only 8 are used).
    AuthPassTruncated(String),
    /// `track_script` names no `vrrp_script`.
    UnknownTrackScript(String),
    /// Two instances share a VRID on one interface and family.
    DuplicateVrid {
        /// The VRID.
        vrid: u8,
        /// The interface (or "-" without one).
        interface: String,
        /// The instance that has it first.
        other: String,
    },
    /// An address of the other family than the instance's.
    WrongFamily(String),
    /// A `virtual_server_group` entry that cannot be used, and why.
    BadGroupEntry(String, &'static str),
    /// A real or sorry server of the other family than its virtual server,
    /// without TUN forwarding (the kernel refuses it).
    MixedFamily(String),
    /// IPv4 and IPv6 addresses mixed in `virtual_ipaddress`.
    MixedFamilies(String),
    /// A sync group names an instance that does not exist.
    UnknownSyncMember(String),
    /// An instance is in two sync groups.
    InTwoSyncGroups(String),
    /// An instance with neither an interface nor unicast peers.
    NoInterface,
    /// A VRRPv2 instance with IPv6 addresses: run as VRRPv3.
    Ipv6ForcesV3,
    /// `use_vmac` with unicast peers: `vmac_xmit_base` is set, as keepalived does.
    VmacUnicastNeedsXmitBase,
    /// An empty script or command.
    EmptyCommand,
    // --- preprocessor (conditionals, parameters, ~SEQ)
    /// Expansion would generate more than the cap (described).
    ExpansionTooLarge(String),
    /// Parameters or sequences nested (or replaced) more than the cap.
    ExpansionTooDeep(usize),
    /// A `~SEQ(...)` keepalived refuses too.
    BadSequence(String),
    /// A `~LST(...)` keepalived refuses too.
    BadList(String),
    /// A `~LST` value set with more values than variables.
    ListTooManyValues(String),
    /// What a preprocessor line resolved to (a note, with `-D`).
    Resolved(crate::preproc::Resolved),
    // --- what vigil reads but does not do, or does not do as asked
    /// Parsed (and checked) but not acted on by this version of vigil.
    NotActedOn(String),
    /// keepalived ignores this (warning and carrying on), and so does vigil.
    Ignored(String),
    /// What `vrrp_strict` / `strict_mode` refuses or resets (keepalived 2.2.7).
    Strict(String),
    /// A keyword keepalived 2.2.7 still reads under an old name: (old, new).
    Deprecated(&'static str, &'static str),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotUtf8 => write!(f, "not UTF-8 text nor a vigil binary configuration"),
            Problem::UnterminatedQuote => write!(f, "unterminated quoted string"),
            Problem::UnexpectedClose => write!(f, "'}}' without an open block"),
            Problem::UnexpectedOpen => write!(f, "'{{' without a keyword before it"),
            Problem::UnclosedBlock(k) => write!(f, "block never closed ({k} {{)"),
            Problem::ExpectedBlock(k) => write!(f, "expected a '{{' block after '{k}'"),
            Problem::UnexpectedBlock(k) => write!(f, "'{k}' takes no block; block ignored"),
            Problem::IncludeWithoutPath => write!(f, "include needs a path"),
            Problem::IncludeCycle(p) => write!(f, "include cycle ({p})"),
            Problem::IncludeTooDeep(p) => write!(f, "includes nested deeper than 8 levels ({p})"),
            Problem::Unreadable(p, e) => write!(f, "cannot read file: {e} ({p})"),
            Problem::IncludeNoMatch(p) => write!(f, "include matches no file ({p})"),
            Problem::TooManyFiles(n) => {
                write!(f, "more than {n} configuration files; include refused")
            }
            Problem::TotalTooLarge(n, p) => write!(
                f,
                "configuration files together exceed the {n}-byte limit; include refused ({p})"
            ),
            Problem::LineTooLong(n) => write!(f, "line longer than the {n}-byte limit; skipped"),
            Problem::WordTooLong(n) => write!(f, "word longer than the {n}-byte limit; skipped"),
            Problem::TooManyTokens(n) => {
                write!(f, "more than {n} words and braces in all; the rest is skipped")
            }
            Problem::TooDeep(n) => {
                write!(f, "blocks nested deeper than the limit of {n}; inner blocks skipped")
            }
            Problem::MoreProblems { errors, warnings } => write!(
                f,
                "{errors} more error{} and {warnings} more warning{} not shown",
                plural(*errors),
                plural(*warnings)
            ),
            Problem::UnknownKeyword(k, s) => write!(f, "unknown keyword in {s}, skipped ({k})"),
            Problem::ExtraValue(v) => write!(f, "unexpected extra value, ignored ({v})"),
            Problem::MissingValue(k) => write!(f, "missing value ({k})"),
            Problem::NotANumber(k, v) => write!(f, "{k}: not a number ({v})"),
            Problem::OutOfRange { keyword, value, min, max } => {
                write!(f, "{keyword}: out of range {min}..{max} ({value})")
            }
            Problem::BadDuration(k, v) => write!(f, "{k}: not a duration in seconds ({v})"),
            Problem::BadChoice { keyword, value, expected } => {
                write!(f, "{keyword}: expected {expected} ({value})")
            }
            Problem::BadAddress(v) => write!(f, "bad IP address ({v})"),
            Problem::BadPrefix(v) => write!(f, "bad prefix length or netmask ({v})"),
            Problem::MissingKeyword(b, k) => write!(f, "{b} without {k}"),
            Problem::DuplicateName(b, n) => write!(f, "duplicate {b} name ({n})"),
            Problem::AdvertIntForVersion(v, 2) => {
                write!(f, "advert_int for VRRPv2 must be whole seconds 1..255 ({v})")
            }
            Problem::AdvertIntForVersion(v, _) => {
                write!(f, "advert_int for VRRPv3 must be 0.01..40.95 s in steps of 0.01 ({v})")
            }
            Problem::SslGetUnsupported => write!(
                f,
                "SSL_GET is not supported by this build of vigil (no TLS client, to keep the \
                 firmware small); check the plain HTTP port with HTTP_GET, or the TLS port \
                 with TCP_CHECK (SSL_GET)"
            ),
            Problem::AhInitialMaster => write!(
                f,
                "initial state MASTER is incompatible with auth_type AH unless priority is 255; \
                 starting as BACKUP (state MASTER)"
            ),
            Problem::AuthPassTruncated(p) => {
                write!(f, "auth_pass longer than 8 characters; only 8 are used ({p})")
            }
            Problem::UnknownTrackScript(n) => write!(f, "track_script names no vrrp_script ({n})"),
            Problem::DuplicateVrid { vrid, interface, other } => write!(
                f,
                "virtual_router_id {vrid} already used on {interface} by vrrp_instance {other} ({vrid})"
            ),
            Problem::WrongFamily(a) => {
                write!(f, "address family differs from the instance's ({a})")
            }
            Problem::MixedFamilies(a) => {
                write!(f, "virtual_ipaddress mixes IPv4 and IPv6 ({a})")
            }
            Problem::UnknownSyncMember(n) => {
                write!(f, "sync group names no vrrp_instance ({n})")
            }
            Problem::InTwoSyncGroups(n) => write!(f, "instance in two sync groups ({n})"),
            Problem::NoInterface => write!(f, "vrrp_instance needs an interface or unicast peers"),
            Problem::Ipv6ForcesV3 => write!(f, "IPv6 instances always use VRRP version 3"),
            Problem::VmacUnicastNeedsXmitBase => {
                write!(f, "unicast with use_vmac requires vmac_xmit_base - setting")
            }
            Problem::EmptyCommand => write!(f, "empty command"),
            Problem::ExpansionTooLarge(cap) => write!(
                f,
                "parameter or ~SEQ expansion exceeds the limit of {cap}; the rest is refused"
            ),
            Problem::ExpansionTooDeep(n) => write!(
                f,
                "parameter or ~SEQ expansion nested or repeated more than {n} times; line refused"
            ),
            Problem::BadSequence(s) => write!(f, "invalid ~SEQ specification ({s})"),
            Problem::BadList(s) => write!(f, "invalid ~LST specification ({s})"),
            Problem::ListTooManyValues(s) => {
                write!(f, "~LST specification has too many values ({s})")
            }
            Problem::Resolved(r) => write!(f, "{r}"),
            Problem::NotActedOn(k) => {
                write!(f, "parsed but not acted on by this version of vigil ({k})")
            }
            Problem::Ignored(what) => write!(f, "{what}"),
            Problem::Deprecated(old, new) => {
                write!(f, "keyword \"{old}\" is deprecated - please use \"{new}\"")
            }
            Problem::Strict(what) => write!(f, "strict mode: {what}"),
            Problem::BadGroupEntry(e, why) => {
                write!(f, "virtual_server_group entry refused: {why} ({e})")
            }
            Problem::MixedFamily(a) => write!(
                f,
                "server address family differs from the virtual server's; IPVS forwards \
                 across families only with lb_kind TUN ({a})"
            ),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
