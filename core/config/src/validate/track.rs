//! `vrrp_track_process NAME { ... }` and the `track_file` / `track_process`
//! lists of instances and sync groups (keepalived 2.2.7's track_process and
//! vrrp_track parsers). Entries are resolved when read: keepalived looks a
//! tracked block up at parse time, so it must come first.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vigil_model::{ParamMatch, TrackProcess, TrackRef};

use super::{lookup, Ctx};
use crate::error::Problem;
use crate::parser::Stmt;

/// keepalived's range for process and file weights.
const WEIGHT: i64 = 254;
/// keepalived's bound on `delay`, `fork_delay` and `terminate_delay`.
const MAX_DELAY_SECS: u64 = 3600;

/// `weight N [reverse|noreverse]` as the values of `s` from index `at`.
fn weight_at(ctx: &mut Ctx, s: &Stmt, at: usize) -> Option<(i16, bool)> {
    let w = ctx.nth(s, at)?;
    let n = ctx.int_word(s, w, -WEIGHT, WEIGHT)?;
    let reverse = match s.args.get(at + 1).map(|w| w.text.as_str()) {
        None | Some("noreverse") => false,
        Some("reverse") => true,
        Some(other) => {
            let what = format!("unknown weight option {other}");
            if let Some(w) = s.args.get(at + 1) {
                ctx.ignored(w.span, what);
            }
            false
        }
    };
    ctx.at_most(s, at + 2);
    Some((n, reverse))
}

/// One `vrrp_track_process` block; `None` when keepalived drops it (no
/// `process`).
pub(super) fn process(ctx: &mut Ctx, stmt: &Stmt) -> Option<TrackProcess> {
    let (name, _) = ctx.name(stmt)?;
    let body = ctx.block(stmt)?;
    let mut p = TrackProcess::new(name, String::new());
    for s in body {
        match s.keyword.text.as_str() {
            "process" => {
                let Some(first) = ctx.nth(s, 0) else { continue };
                if !p.process.is_empty() {
                    let what = format!("process already set for {}; ignored", p.name);
                    ctx.ignored(first.span, what);
                    continue;
                }
                p.process = first.text.clone();
                p.params = s.args.iter().skip(1).map(|w| w.text.clone()).collect();
                if !p.params.is_empty() {
                    if p.param_match == ParamMatch::None {
                        p.param_match = ParamMatch::Exact;
                    }
                    p.full_command = true;
                }
            }
            "param_match" => {
                ctx.at_most(s, 1);
                let m = match s.args.first().map(|w| w.text.as_str()) {
                    None => Some(ParamMatch::Exact),
                    Some("initial") => Some(ParamMatch::Initial),
                    Some("partial") => Some(ParamMatch::Partial),
                    Some(other) => {
                        let what = format!("invalid param_match type {other}; ignored");
                        ctx.ignored(s.keyword.span, what);
                        None
                    }
                };
                if let Some(m) = m {
                    p.param_match = m;
                    p.full_command = true;
                }
            }
            "full_command" => {
                ctx.flag(s);
                p.full_command = true;
            }
            "weight" => {
                if let Some((w, r)) = weight_at(ctx, s, 0) {
                    p.weight = w;
                    p.reverse = r;
                }
            }
            "quorum" => {
                if let Some(q) = ctx.int_or_ignore::<u32>(s, 1, 65_535) {
                    if q > p.quorum_max {
                        let what = "quorum is greater than quorum_max; ignored".into();
                        ctx.ignored(s.keyword.span, what);
                    } else {
                        p.quorum = q;
                    }
                }
            }
            "quorum_max" => {
                if let Some(q) = ctx.int_or_ignore::<u32>(s, 0, 65_535) {
                    // quorum_max 0 ("must not run") is allowed while quorum is 1.
                    if (q > 0 || p.quorum > 1) && q < p.quorum {
                        let what = "quorum_max is less than quorum; ignored".into();
                        ctx.ignored(s.keyword.span, what);
                    } else {
                        p.quorum_max = q;
                        p.quorum = if q == 0 { 0 } else { p.quorum.max(1) };
                    }
                }
            }
            kw @ ("delay" | "fork_delay" | "terminate_delay") => {
                let Some(d) = ctx.duration(s, MAX_DELAY_SECS) else {
                    continue;
                };
                if kw != "fork_delay" {
                    p.terminate_delay = d;
                }
                if kw != "terminate_delay" {
                    p.fork_delay = d;
                }
            }
            _ => ctx.unknown(s, "vrrp_track_process"),
        }
    }
    if p.process.is_empty() {
        let what = format!("vrrp_track_process {} without process; dropped", p.name);
        ctx.ignored(stmt.keyword.span, what);
        return None;
    }
    Some(p)
}

/// The entries of a `track_file { ... }` block, looked up among the
/// `track_file` blocks read so far; an unknown one is skipped.
pub(super) fn file_refs(ctx: &mut Ctx, s: &Stmt, out: &mut Vec<TrackRef>) {
    let Some(list) = ctx.block(s) else { return };
    for item in list {
        let name = &item.keyword.text;
        let Some(t) = ctx.track_files.iter().find(|t| &t.name == name) else {
            let what = format!("track_file {name} not found; ignored");
            ctx.ignored(item.keyword.span, what);
            continue;
        };
        let default = (i16::try_from(t.weight).unwrap_or(1), t.reverse);
        out.push(entry(ctx, item, default));
    }
}

/// The entries of a `track_process { ... }` block.
pub(super) fn process_refs(ctx: &mut Ctx, s: &Stmt, out: &mut Vec<TrackRef>) {
    let Some(list) = ctx.block(s) else { return };
    for item in list {
        let name = &item.keyword.text;
        let Some(p) = ctx.track_processes.iter().find(|p| &p.name == name) else {
            let what = format!("track_process {name} not found; ignored");
            ctx.ignored(item.keyword.span, what);
            continue;
        };
        let default = (p.weight, p.reverse);
        out.push(entry(ctx, item, default));
    }
}

/// `NAME [weight N [reverse]]`; without `weight` the block's own.
fn entry(ctx: &mut Ctx, item: &Stmt, default: (i16, bool)) -> TrackRef {
    let (weight, reverse) = match item.args.first().map(|w| w.text.as_str()) {
        None => default,
        Some("weight") => weight_at(ctx, item, 1).unwrap_or(default),
        Some(other) => {
            let p = Problem::BadChoice {
                keyword: item.keyword.text.clone(),
                value: other.into(),
                expected: "weight",
            };
            ctx.warn(item.args[0].span, p);
            default
        }
    };
    TrackRef {
        name: item.keyword.text.clone(),
        weight,
        reverse,
    }
}

/// Handles an instance's or group's `track_file` / `track_process`; false if
/// `s` is neither.
pub(super) fn tracked(
    ctx: &mut Ctx,
    s: &Stmt,
    files: &mut Vec<TrackRef>,
    processes: &mut Vec<TrackRef>,
) -> bool {
    match s.keyword.text.as_str() {
        "track_file" => file_refs(ctx, s, files),
        "track_process" => process_refs(ctx, s, processes),
        _ => return false,
    }
    true
}

/// A name defined twice is an error (keepalived would track the first).
pub(super) fn check_process_name(ctx: &mut Ctx, stmt: &Stmt, p: &TrackProcess) -> bool {
    if ctx.track_processes.iter().any(|o| o.name == p.name) {
        let at = stmt.args.first().map_or(stmt.keyword.span, |w| w.span);
        let p = Problem::DuplicateName("vrrp_track_process", p.name.clone());
        ctx.error(at, p);
        return false;
    }
    true
}

/// `NAME [weight N [reverse|noreverse|no_reverse]]` of the track lists.
pub(super) fn weight(ctx: &mut Ctx, item: &Stmt) -> Option<(i16, bool)> {
    ctx.at_most(item, 3);
    let kw = item.args.first()?;
    if kw.text != "weight" {
        ctx.choice_of(item, kw, |_| None::<()>, "weight");
        return None;
    }
    let n = ctx.nth(item, 1)?;
    let w = Stmt {
        keyword: kw.clone(),
        args: Vec::new(),
        block: None,
    };
    let weight = ctx.int_word(&w, n, -253, 253)?;
    let reverse = match item.args.get(2) {
        None => false,
        Some(r) => {
            let choices = [
                ("reverse", true),
                ("noreverse", false),
                ("no_reverse", false),
            ];
            ctx.choice_of(item, r, |t| lookup(&choices, t), "reverse|noreverse")?
        }
    };
    Some((weight, reverse))
}
