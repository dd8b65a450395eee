//! Once every block is read: `virtual_server group NAME` gets its group
//! (defined anywhere in the file, as keepalived links them at the end), and
//! each real and sorry server is checked against the family of the services
//! it will be a destination of.

use alloc::format;
use alloc::vec::Vec;
use core::net::IpAddr;

use vigil_model::{IpFamily, LbKind, VirtualServer, VsGroup, VsGroupEntry, VsKey};

use super::lvs::Parsed;
use super::Ctx;
use crate::error::Problem;
use crate::span::Span;

/// The virtual servers with their groups linked and families checked.
pub(super) fn link(
    ctx: &mut Ctx,
    groups: Vec<(VsGroup, Span)>,
    parsed: Vec<Parsed>,
) -> Vec<VirtualServer> {
    let mut known: Vec<VsGroup> = Vec::new();
    for (g, span) in groups {
        if known.iter().any(|k| k.name == g.name) {
            let p = Problem::DuplicateName("virtual_server_group", g.name.clone());
            ctx.warn(span, p);
            continue;
        }
        known.push(g);
    }
    let mut out = Vec::new();
    for mut p in parsed {
        if let Some((name, span)) = p.group.take() {
            let Some(g) = known.iter().find(|g| g.name == name) else {
                let what = format!(
                    "virtual server group {name} specified but not configured; \
                     virtual server ignored"
                );
                ctx.ignored(span, what);
                continue;
            };
            p.vs.key = first_key(g);
            p.vs.group = Some(g.clone());
        }
        check_families(ctx, &p);
        out.push(p.vs);
    }
    out
}

/// The key of a group's first kernel service.
fn first_key(g: &VsGroup) -> VsKey {
    match g.entries.first() {
        Some(VsGroupEntry::Range { first, port, .. }) => VsKey::Addr {
            addr: *first,
            port: *port,
        },
        Some(VsGroupEntry::Fwmark { mark, .. }) => VsKey::Fwmark(*mark),
        None => VsKey::Fwmark(0),
    }
}

fn family(a: &IpAddr) -> IpFamily {
    if a.is_ipv4() {
        IpFamily::V4
    } else {
        IpFamily::V6
    }
}

/// The families of the services a virtual server stands for; empty for a
/// fwmark service without a group, whose family its servers decide.
fn service_families(vs: &VirtualServer) -> Vec<IpFamily> {
    let mut fams = Vec::new();
    match (&vs.group, vs.key) {
        (Some(g), _) => {
            for e in &g.entries {
                let f = match e {
                    VsGroupEntry::Range { first, .. } => family(first),
                    VsGroupEntry::Fwmark { family, .. } => family.unwrap_or(g.default_family()),
                };
                if !fams.contains(&f) {
                    fams.push(f);
                }
            }
        }
        (None, VsKey::Addr { addr, .. }) => fams.push(family(&addr)),
        (None, VsKey::Fwmark(_)) => {}
    }
    fams
}

/// A destination of the other family than its service is accepted by the
/// kernel only with tunnelling (IPVS_DEST_ATTR_ADDR_FAMILY); anything else
/// would be refused at every install, so it is refused here.
fn check_families(ctx: &mut Ctx, p: &Parsed) {
    let vs = &p.vs;
    let mut fams = service_families(vs);
    let sorry = vs
        .sorry_server
        .map(|s| (s.addr, s.lb_kind.unwrap_or(vs.lb_kind), p.sorry_span));
    let servers = vs
        .real_servers
        .iter()
        .zip(&p.rs_spans)
        .map(|(rs, span)| (rs.addr, rs.lb_kind, Some(*span)))
        .chain(sorry);
    for (addr, kind, span) in servers {
        if kind == LbKind::Tun {
            continue;
        }
        let f = family(&addr);
        // A fwmark service takes the family of its first untunnelled server.
        if fams.is_empty() {
            fams.push(f);
        }
        if fams.iter().any(|&x| x != f) {
            let span = span.unwrap_or(p.vs_span);
            ctx.error(span, Problem::MixedFamily(format!("{addr}")));
        }
    }
}
