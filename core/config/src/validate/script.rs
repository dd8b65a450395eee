//! `vrrp_script NAME { ... }`.

use alloc::collections::BTreeSet;
use core::time::Duration;

use vigil_model::VrrpScript;

use super::global::set;
use super::Ctx;
use crate::error::Problem;
use crate::parser::Stmt;
use crate::span::Span;

/// Reads one `vrrp_script` block; `None` if it is unusable (errors reported).
pub(super) fn parse(ctx: &mut Ctx, stmt: &Stmt) -> Option<(VrrpScript, Span)> {
    let (name, at) = ctx.name(stmt)?;
    let body = ctx.block(stmt)?;
    let mut script = None;
    let mut run_as = None;
    let mut interval = Duration::from_secs(1);
    let mut timeout = None;
    let (mut weight, mut weight_reverse) = (0i16, false);
    let (mut fall, mut rise) = (1u32, 1u32);
    let mut init_fail = false;
    for s in body {
        match s.keyword.text.as_str() {
            "script" => script = ctx.command(s).or(script),
            "interval" => set(&mut interval, positive(ctx, s)),
            "timeout" => timeout = positive(ctx, s).or(timeout),
            "weight" => {
                ctx.at_most(s, 2);
                if let Some(w) = ctx.nth(s, 0) {
                    set(&mut weight, ctx.int_word(s, w, -253, 253));
                }
                if let Some(r) = s.args.get(1) {
                    weight_reverse =
                        ctx.choice_of(s, r, |t| (t == "reverse").then_some(true), "reverse")
                            == Some(true);
                }
            }
            "fall" => set(&mut fall, ctx.int(s, 1, 1_000_000)),
            "rise" => set(&mut rise, ctx.int(s, 1, 1_000_000)),
            "user" => {
                if ctx.nth(s, 0).is_some() {
                    run_as = ctx.run_as(s, 0);
                }
            }
            "init_fail" => set(&mut init_fail, ctx.flag_bool(s)),
            _ => ctx.unknown(s, "vrrp_script"),
        }
    }
    let Some(mut script) = script else {
        // keepalived removes it (and ignores the tracks naming it).
        let what = alloc::format!("vrrp_script without script, removed ({name})");
        ctx.ignored(at, what);
        return None;
    };
    if run_as.is_some() {
        script.run_as = run_as;
    }
    let timeout = timeout.unwrap_or(interval);
    Some((
        VrrpScript {
            name,
            script,
            interval,
            timeout,
            weight,
            weight_reverse,
            fall,
            rise,
            init_fail,
        },
        at,
    ))
}

/// A duration; 0 is turned into 1 s with a warning, as keepalived does.
fn positive(ctx: &mut Ctx, s: &Stmt) -> Option<Duration> {
    let d = ctx.duration(s, u64::from(u32::MAX / 1_000_000))?;
    if d.is_zero() {
        let value = s.args.first().map(|w| w.text.clone()).unwrap_or_default();
        let at = s.args.first().map_or(s.keyword.span, |w| w.span);
        ctx.warn(
            at,
            Problem::OutOfRange {
                keyword: s.keyword.text.clone(),
                value,
                min: 1,
                max: 4294,
            },
        );
        return Some(Duration::from_secs(1));
    }
    Some(d)
}

/// Reports scripts defined twice (every definition after the first).
pub(super) fn check_names(ctx: &mut Ctx, scripts: &[(VrrpScript, Span)]) {
    let mut seen = BTreeSet::new();
    for (s, at) in scripts {
        if !seen.insert(s.name.as_str()) {
            ctx.error(*at, Problem::DuplicateName("vrrp_script", s.name.clone()));
        }
    }
}
