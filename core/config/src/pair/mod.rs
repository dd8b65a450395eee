//! `vigil check --peer`: are two routers' configurations a consistent pair?
//!
//! Each side is read as usual (its own diagnostics first), then compared:
//! instances are paired by VRID and address family, sync groups by the
//! VRIDs they hold, virtual servers by address and port. A finding is
//! located in the file where the thing is written, and names the line of
//! the other file it was compared with.
//!
//! Errors are what makes the pair misbehave on the wire or lose service
//! after a failover (a VIP with no backup, adverts the peer drops, a
//! weight that never moves the VIP, a service the backup lacks); warnings
//! are what works but not as the author probably meant (equal priorities,
//! both MASTER with nopreempt, differing service options).

mod lvs;
mod spans;
mod vrrp;
mod vrrp_track;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use vigil_model::Config;

use crate::error::Severity;
use crate::findings::Findings;
use crate::limits::Limits;
use crate::loader::Loader;
use crate::{include, parse_file, parser, preproc, Diagnostic, Options};

pub use spans::{Loc, Spans};

/// One router's configuration and where its keywords are written.
#[derive(Debug, Clone)]
pub struct Side {
    /// The validated configuration.
    pub config: Config,
    /// The positions of its keywords.
    pub spans: Spans,
}

/// Reads the configuration at `path` like [`parse_file`], and keeps the
/// positions of its keywords. `Err`: the file is refused (its diagnostics).
pub fn read(
    loader: &dyn Loader,
    path: &str,
    opts: Options,
) -> Result<(Side, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (config, diags) = parse_file(loader, path, opts)?;
    // The tree again, for positions only: the validator's own reading
    // stays the one source of the model, and its findings are not repeated.
    let limits = Limits::DEFAULT;
    let spans = match loader.read(path, limits.file_bytes) {
        Ok(text) => {
            let mut found = Findings::new(&limits);
            let mut pre = preproc::Preproc::new(opts.config_id, false, &limits);
            let seed = config
                .global
                .random_seed
                .map(u64::from)
                .or(opts.random_seed);
            pre.set_random_seed(seed.unwrap_or(0));
            let ex = include::expand_pre(path, &text, loader, &limits, &mut found, &mut pre);
            let stmts = parser::parse(ex.tokens, &limits, &mut found);
            Spans::new(path, &stmts, ex.sources)
        }
        Err(_) => Spans::new(path, &[], include::SourceMap::default()),
    };
    Ok((Side { config, spans }, diags))
}

/// What kind of inconsistency a [`PairFinding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// An instance with no partner of its VRID and family.
    Unpaired,
    /// Instances of one name (or one VIP) with different VRIDs.
    Vrid,
    /// Different `virtual_ipaddress` sets.
    Vips,
    /// Different `virtual_ipaddress_excluded` sets.
    ExcludedVips,
    /// Different authentication.
    Auth,
    /// Different `advert_int`.
    AdvertInt,
    /// Different VRRP version.
    Version,
    /// Equal priorities.
    EqualPriority,
    /// Unicast source and peers not mirrored (or one side multicast).
    Unicast,
    /// Both `state MASTER` with `nopreempt`.
    MasterNopreempt,
    /// A tracking weight that does not move the VIP past the peer.
    WeightTooSmall,
    /// A tracking weight that takes the priority below 1.
    WeightTooLarge,
    /// Sync groups that do not match.
    SyncGroup,
    /// A virtual server on one side only.
    VirtualServer,
    /// Different real servers of one virtual server.
    RealServers,
    /// Different options of one virtual server.
    ServiceOptions,
    /// Different checkers of one real server.
    Checkers,
}

/// One inconsistency between the two configurations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairFinding {
    /// Error (exit 1) or warning.
    pub severity: Severity,
    /// What kind.
    pub rule: Rule,
    /// Where it is written.
    pub here: Loc,
    /// What it was compared with in the other file.
    pub peer: Loc,
    /// One readable sentence.
    pub message: String,
}

impl PairFinding {
    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for PairFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = self.severity.word();
        write!(
            f,
            "{}: {sev}: {} (peer: {})",
            self.here, self.message, self.peer
        )
    }
}

/// Collects findings, oriented: `here` is in the side being looked at.
pub(crate) struct Out<'a> {
    pub a: &'a Side,
    pub b: &'a Side,
    pub list: Vec<PairFinding>,
}

impl Out<'_> {
    /// Records a finding located at `here` in side `a_side` (true: A).
    pub fn push(
        &mut self,
        severity: Severity,
        rule: Rule,
        (here, peer): (Loc, Loc),
        message: String,
    ) {
        self.list.push(PairFinding {
            severity,
            rule,
            here,
            peer,
            message,
        });
    }
}

/// Every inconsistency between router `a` and router `b`, A's first, in
/// file order within each kind.
pub fn check_pair(a: &Side, b: &Side) -> Vec<PairFinding> {
    let mut out = Out {
        a,
        b,
        list: Vec::new(),
    };
    let pairs = vrrp::check(&mut out);
    lvs::sync_groups(&mut out, &pairs);
    lvs::virtual_servers(&mut out);
    out.list
}
