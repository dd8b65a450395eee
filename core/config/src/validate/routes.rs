//! `virtual_routes`, `virtual_rules` (in a `vrrp_instance`) and the top-level
//! `static_routes`, `static_rules`, `static_ipaddress`: one route, rule or
//! address per line, in `ip route` / `ip rule` words as keepalived 2.2.7
//! reads them (keepalived/vrrp/vrrp_iproute.c, vrrp_iprule.c).
//!
//! keepalived drops a line it cannot read with a configuration error and
//! carries on; so does vigil, as a warning naming the line. What vigil does
//! not implement (`encap`, `vrf`) drops the line the same way rather than
//! install something other than what was written.

mod route;
mod rule;
mod words;

use alloc::format;
use alloc::vec::Vec;

use vigil_model::{Route, Rule, VirtualAddress};

use super::Ctx;
use crate::parser::Stmt;
use route::route_line;
use rule::rule_line;

/// Reads a `virtual_routes` / `static_routes` block.
pub(super) fn routes(ctx: &mut Ctx, stmt: &Stmt) -> Vec<Route> {
    let kw = stmt.keyword.text.as_str();
    let Some(body) = ctx.block(stmt) else {
        return Vec::new();
    };
    body.iter().filter_map(|l| route_line(ctx, kw, l)).collect()
}

/// Reads a `virtual_rules` / `static_rules` block.
pub(super) fn rules(ctx: &mut Ctx, stmt: &Stmt) -> Vec<Rule> {
    let kw = stmt.keyword.text.as_str();
    let Some(body) = ctx.block(stmt) else {
        return Vec::new();
    };
    body.iter().filter_map(|l| rule_line(ctx, kw, l)).collect()
}

/// Reads `static_ipaddress`: the VIP syntax, where `dev` is required (there
/// is no instance interface to fall back on).
pub(super) fn static_addresses(ctx: &mut Ctx, stmt: &Stmt) -> Vec<VirtualAddress> {
    let Some(body) = ctx.block(stmt) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for l in body {
        let Some(a) = super::vip::vip(ctx, l) else {
            continue;
        };
        if a.dev.is_none() {
            let msg = format!("static_ipaddress: {} has no `dev`; skipped", a.addr);
            ctx.ignored(l.keyword.span, msg);
            continue;
        }
        out.push(a);
    }
    out
}
