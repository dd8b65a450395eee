//! Syntax tree to model: keyword tables, value checks, defaults and
//! cross-references.
//!
//! Each block kind has its own file; they share [`Ctx`], which records
//! diagnostics and reads values. Values that depend on other blocks (the
//! global defaults an instance inherits, the scripts it tracks) are kept in
//! drafts with their spans and resolved once everything is read.

mod checker;
mod complete;
mod extra_if;
mod global;
mod instance;
mod known;
mod lvs;
mod lvs_checks;
mod routes;
mod script;
mod strict;
mod sync_group;
mod syncd;
mod track;
mod vip;
mod vmac;
mod vs_group;
mod vs_link;

pub use complete::effective_preempt;
pub use vmac::default_name as vmac_name;

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;

use vigil_model::{Command, Config, RunAs};

use crate::error::Problem;
use crate::findings::Findings;
use crate::parser::{Stmt, Word};
use crate::span::Span;
use crate::values;

/// Builds the model from the top-level statements; problems go to `found`.
/// Each top-level block is dropped once read: the drafts it made grow while
/// the tree shrinks, and the tree is gone before the drafts are resolved.
pub fn validate(stmts: Vec<Stmt>, strict: bool, found: &mut Findings) -> Config {
    // Sized from the tree: growth by doubling could hold twice what is
    // needed at the peak of a large configuration (see tests/mem_peak.rs).
    let count = |kw: &str| stmts.iter().filter(|s| s.keyword.text == kw).count();
    let sizes = Sizes {
        scripts: count("vrrp_script"),
        instances: count("vrrp_instance"),
        servers: count("virtual_server"),
    };
    let mut v = Validator::new(sizes, strict, found);
    for stmt in stmts {
        v.stmt(&stmt);
    }
    v.finish()
}

/// How many top-level blocks of the large kinds are coming, so that their
/// lists are allocated once at their size.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sizes {
    /// `vrrp_script` blocks.
    pub scripts: usize,
    /// `vrrp_instance` blocks.
    pub instances: usize,
    /// `virtual_server` blocks.
    pub servers: usize,
}

/// A validation fed one top-level statement at a time (the text reader
/// hands it the tree, the binary loader one shown block at a time), then
/// resolved across blocks by [`Validator::finish`].
pub(crate) struct Validator<'a> {
    ctx: Ctx<'a>,
    global: Option<vigil_model::GlobalDefs>,
    scripts: Vec<(vigil_model::VrrpScript, Span)>,
    groups: Vec<sync_group::Draft>,
    instances: Vec<instance::Draft>,
    servers: Vec<lvs::Parsed>,
    sync: Option<syncd::Draft>,
    vs_groups: Vec<(vigil_model::VsGroup, Span)>,
    static_addresses: Vec<vigil_model::VirtualAddress>,
    static_routes: Vec<vigil_model::Route>,
    static_rules: Vec<vigil_model::Rule>,
}

impl<'a> Validator<'a> {
    /// An empty validation; problems go to `found`.
    pub(crate) fn new(sizes: Sizes, strict: bool, found: &'a mut Findings) -> Self {
        Validator {
            ctx: Ctx {
                found,
                strict,
                track_files: Vec::new(),
                next_rule_priority: [16384, 16384],
                track_processes: Vec::new(),
            },
            global: None,
            scripts: Vec::with_capacity(sizes.scripts),
            groups: Vec::new(),
            instances: Vec::with_capacity(sizes.instances),
            servers: Vec::with_capacity(sizes.servers),
            sync: None,
            vs_groups: Vec::new(),
            static_addresses: Vec::new(),
            static_routes: Vec::new(),
            static_rules: Vec::new(),
        }
    }

    /// Reads one top-level statement.
    pub(crate) fn stmt(&mut self, stmt: &Stmt) {
        let ctx = &mut self.ctx;
        match stmt.keyword.text.as_str() {
            "global_defs" => {
                if let Some(body) = ctx.block(stmt) {
                    self.global = Some(global::parse(
                        ctx,
                        body,
                        self.global.take().unwrap_or_default(),
                        &mut self.sync,
                    ));
                }
            }
            "vrrp_script" => self.scripts.extend(script::parse(ctx, stmt)),
            "vrrp_sync_group" => self.groups.extend(sync_group::parse(ctx, stmt)),
            "vrrp_instance" => {
                syncd::parse_instance(ctx, stmt, &mut self.sync);
                self.instances.extend(instance::parse(ctx, stmt))
            }
            "virtual_server" => self.servers.extend(lvs::parse(ctx, stmt)),
            "virtual_server_group" => self.vs_groups.extend(vs_group::parse(ctx, stmt)),
            "static_ipaddress" => self
                .static_addresses
                .extend(routes::static_addresses(ctx, stmt)),
            "static_routes" => self.static_routes.extend(routes::routes(ctx, stmt)),
            "static_rules" => self.static_rules.extend(routes::rules(ctx, stmt)),
            "track_file" | "vrrp_track_file" => {
                if let Some(t) = checker::track_file(ctx, stmt) {
                    ctx.track_files.push(t);
                }
            }
            "vrrp_track_process" => {
                if let Some(p) = track::process(ctx, stmt) {
                    if track::check_process_name(ctx, stmt, &p) {
                        ctx.track_processes.push(p);
                    }
                }
            }
            _ => ctx.unknown(stmt, "the top level"),
        }
    }

    /// Records a problem met outside the keyword rules (lexing, braces).
    pub(crate) fn report(&mut self, f: crate::findings::Found) {
        self.ctx.found.push(f);
    }

    /// Resolves what involves several blocks; the model.
    pub(crate) fn finish(self) -> Config {
        let mut ctx = self.ctx;
        let mut global = self.global.unwrap_or_default();
        script::check_names(&mut ctx, &self.scripts);
        let scripts: Vec<_> = self.scripts.into_iter().map(|(s, _)| s).collect();
        let instances = instance::resolve(&mut ctx, self.instances, &global, &scripts);
        let sync_groups = sync_group::resolve(&mut ctx, self.groups, &instances, &scripts);
        syncd::resolve(&mut ctx, self.sync, &mut global, &instances);
        let servers = vs_link::link(&mut ctx, self.vs_groups, self.servers);
        Config {
            global,
            scripts,
            sync_groups,
            instances,
            virtual_servers: servers,
            static_addresses: self.static_addresses,
            static_routes: self.static_routes,
            static_rules: self.static_rules,
            track_files: core::mem::take(&mut ctx.track_files),
            track_processes: core::mem::take(&mut ctx.track_processes),
        }
    }
}

/// Shared state of a validation: the diagnostics and the strictness.
pub(crate) struct Ctx<'a> {
    found: &'a mut Findings,
    strict: bool,
    /// The `track_file` blocks read so far, for `FILE_CHECK`.
    track_files: Vec<vigil_model::TrackFile>,
    /// The priority the next rule without one gets (IPv4, IPv6), as
    /// keepalived assigns it.
    next_rule_priority: [u32; 2],
    /// The `vrrp_track_process` blocks read so far.
    track_processes: Vec<vigil_model::TrackProcess>,
}

impl Ctx<'_> {
    pub fn error(&mut self, span: Span, problem: Problem) {
        self.found.error(span, problem);
    }

    pub fn warn(&mut self, span: Span, problem: Problem) {
        self.found.warn(span, problem);
    }

    /// A keyword vigil does not handle here, skipped with its block: one
    /// keepalived knows is "parsed but not acted on" (a warning); any other
    /// is unknown (an error when strict).
    pub fn unknown(&mut self, stmt: &Stmt, section: &'static str) {
        if known::keepalived_knows(&stmt.keyword.text) {
            self.not_acted_on(stmt);
            return;
        }
        let p = Problem::UnknownKeyword(stmt.keyword.text.clone(), section);
        if self.strict {
            self.error(stmt.keyword.span, p);
        } else {
            self.warn(stmt.keyword.span, p);
        }
    }

    /// Warns that `stmt` is read but vigil does not act on it yet.
    pub fn not_acted_on(&mut self, stmt: &Stmt) {
        let p = Problem::NotActedOn(stmt.keyword.text.clone());
        self.warn(stmt.keyword.span, p);
    }

    /// Warns that something is ignored, as keepalived ignores it.
    pub fn ignored(&mut self, span: Span, what: String) {
        self.warn(span, Problem::Ignored(what));
    }

    /// [`Ctx::choice`] where keepalived warns about a bad value and keeps
    /// its default: a warning, and `None`.
    pub fn choice_or_default<T>(
        &mut self,
        stmt: &Stmt,
        parse: impl Fn(&str) -> Option<T>,
        expected: &'static str,
    ) -> Option<T> {
        let w = self.one(stmt)?;
        let v = parse(&w.text);
        if v.is_none() {
            self.warn(w.span, bad_choice(stmt, w, expected));
        }
        v
    }

    /// [`Ctx::int`] where keepalived warns about a value out of range and
    /// ignores it: a warning, and `None`.
    pub fn int_or_ignore<T: TryFrom<i64>>(&mut self, stmt: &Stmt, min: i64, max: i64) -> Option<T> {
        let w = self.one(stmt)?;
        match values::int(&w.text) {
            Some(v) if v >= min && v <= max => T::try_from(v).ok(),
            Some(_) => {
                let p = Problem::OutOfRange {
                    keyword: stmt.keyword.text.clone(),
                    value: w.text.clone(),
                    min,
                    max,
                };
                self.warn(w.span, p);
                None
            }
            None => {
                let p = Problem::NotANumber(stmt.keyword.text.clone(), w.text.clone());
                self.warn(w.span, p);
                None
            }
        }
    }

    /// The block of a block keyword; reports its absence.
    pub fn block<'s>(&mut self, stmt: &'s Stmt) -> Option<&'s [Stmt]> {
        match &stmt.block {
            Some(b) => Some(&b.stmts),
            None => {
                self.error(
                    stmt.keyword.span,
                    Problem::ExpectedBlock(stmt.keyword.text.clone()),
                );
                None
            }
        }
    }

    /// Warns about a block after a keyword that takes none.
    pub(super) fn no_block(&mut self, stmt: &Stmt) {
        if let Some(b) = &stmt.block {
            self.warn(b.open, Problem::UnexpectedBlock(stmt.keyword.text.clone()));
        }
    }

    /// Warns about values beyond the first `n`.
    pub fn at_most(&mut self, stmt: &Stmt, n: usize) {
        if let Some(w) = stmt.args.get(n) {
            self.warn(w.span, Problem::ExtraValue(w.text.clone()));
        }
    }

    /// A keyword without values (a flag).
    pub fn flag(&mut self, stmt: &Stmt) {
        self.no_block(stmt);
        self.at_most(stmt, 0);
    }

    /// A flag with an optional boolean (`smtp_alert [BOOL]`); default true.
    pub fn flag_bool(&mut self, stmt: &Stmt) -> Option<bool> {
        self.no_block(stmt);
        self.at_most(stmt, 1);
        match stmt.args.first() {
            None => Some(true),
            Some(w) => self.choice_of(stmt, w, values::boolean, "on|off|true|false|yes|no"),
        }
    }

    /// The single value of a keyword.
    pub fn one<'s>(&mut self, stmt: &'s Stmt) -> Option<&'s Word> {
        self.no_block(stmt);
        self.at_most(stmt, 1);
        self.nth(stmt, 0)
    }

    /// Value `i` (0-based after the keyword); reports its absence.
    pub fn nth<'s>(&mut self, stmt: &'s Stmt, i: usize) -> Option<&'s Word> {
        let w = stmt.args.get(i);
        if w.is_none() {
            let at = stmt.args.last().map_or(stmt.keyword.span, |w| w.span);
            self.error(at, Problem::MissingValue(stmt.keyword.text.clone()));
        }
        w
    }

    /// An integer word within `min..=max`.
    pub fn int_word<T: TryFrom<i64>>(
        &mut self,
        stmt: &Stmt,
        w: &Word,
        min: i64,
        max: i64,
    ) -> Option<T> {
        let kw = &stmt.keyword.text;
        match values::int(&w.text) {
            None => self.error(w.span, Problem::NotANumber(kw.clone(), w.text.clone())),
            Some(v) if v < min || v > max => self.error(
                w.span,
                Problem::OutOfRange {
                    keyword: kw.clone(),
                    value: w.text.clone(),
                    min,
                    max,
                },
            ),
            Some(v) => return T::try_from(v).ok(),
        }
        None
    }

    /// The single integer value of a keyword.
    pub fn int<T: TryFrom<i64>>(&mut self, stmt: &Stmt, min: i64, max: i64) -> Option<T> {
        let w = self.one(stmt)?;
        self.int_word(stmt, w, min, max)
    }

    /// A duration word in seconds.
    pub fn duration_word(&mut self, stmt: &Stmt, w: &Word) -> Option<Duration> {
        let d = values::duration(&w.text);
        if d.is_none() {
            self.error(
                w.span,
                Problem::BadDuration(stmt.keyword.text.clone(), w.text.clone()),
            );
        }
        d
    }

    /// The single duration value of a keyword, at most `max_secs`.
    pub fn duration(&mut self, stmt: &Stmt, max_secs: u64) -> Option<Duration> {
        let w = self.one(stmt)?;
        let d = self.duration_word(stmt, w)?;
        if d > Duration::from_secs(max_secs) {
            let p = Problem::OutOfRange {
                keyword: stmt.keyword.text.clone(),
                value: w.text.clone(),
                min: 0,
                max: i64::try_from(max_secs).unwrap_or(i64::MAX),
            };
            self.error(w.span, p);
            return None;
        }
        Some(d)
    }

    /// An IP address word.
    pub fn ip_word(&mut self, w: &Word) -> Option<IpAddr> {
        let a = values::ip(&w.text);
        if a.is_none() {
            self.error(w.span, Problem::BadAddress(w.text.clone()));
        }
        a
    }

    /// The single IP address value of a keyword.
    pub fn ip(&mut self, stmt: &Stmt) -> Option<IpAddr> {
        let w = self.one(stmt)?;
        self.ip_word(w)
    }

    /// The single text value of a keyword.
    pub fn text(&mut self, stmt: &Stmt) -> Option<String> {
        self.one(stmt).map(|w| w.text.clone())
    }

    /// A word mapped through `parse`, or a [`Problem::BadChoice`].
    pub fn choice_of<T>(
        &mut self,
        stmt: &Stmt,
        w: &Word,
        parse: impl Fn(&str) -> Option<T>,
        expected: &'static str,
    ) -> Option<T> {
        let v = parse(&w.text);
        if v.is_none() {
            self.error(w.span, bad_choice(stmt, w, expected));
        }
        v
    }

    /// The single value of a keyword mapped through `parse`.
    pub fn choice<T>(
        &mut self,
        stmt: &Stmt,
        parse: impl Fn(&str) -> Option<T>,
        expected: &'static str,
    ) -> Option<T> {
        let w = self.one(stmt)?;
        self.choice_of(stmt, w, parse, expected)
    }

    /// `USER [GROUP]` starting at value `i`.
    pub fn run_as(&mut self, stmt: &Stmt, i: usize) -> Option<RunAs> {
        self.at_most(stmt, i + 2);
        let user = stmt.args.get(i)?.text.clone();
        let group = stmt.args.get(i + 1).map(|w| w.text.clone());
        Some(RunAs { user, group })
    }

    /// `KEYWORD "PROGRAM ARGS" [USER [GROUP]]`.
    pub fn command(&mut self, stmt: &Stmt) -> Option<Command> {
        self.no_block(stmt);
        let w = self.nth(stmt, 0)?;
        let argv = values::split_command(&w.text);
        if argv.is_empty() {
            self.error(w.span, Problem::EmptyCommand);
            return None;
        }
        let run_as = self.run_as(stmt, 1);
        Some(Command {
            text: w.text.clone(),
            argv,
            run_as,
        })
    }

    /// The single value of a keyword as a name (instance, script...).
    pub fn name(&mut self, stmt: &Stmt) -> Option<(String, Span)> {
        self.at_most(stmt, 1);
        let w = self.nth(stmt, 0)?;
        Some((w.text.clone(), w.span))
    }
}

/// Case-insensitive lookup of `text` among `(name, value)` pairs.
pub(crate) fn lookup<T: Copy>(table: &[(&str, T)], text: &str) -> Option<T> {
    table
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(text))
        .map(|&(_, v)| v)
}

/// `w`, the value of `stmt`, is none of the words `expected` names.
fn bad_choice(stmt: &Stmt, w: &Word, expected: &'static str) -> Problem {
    Problem::BadChoice {
        keyword: stmt.keyword.text.clone(),
        value: w.text.clone(),
        expected,
    }
}
