//! `vrrp_sync_group NAME { group { ... } notify... }`.

use alloc::string::String;
use alloc::vec::Vec;

use vigil_model::{Notify, SyncGroup, VrrpInstance};

use super::global::set;
use super::instance::notify;
use super::Ctx;
use crate::error::Problem;
use crate::parser::Stmt;
use crate::span::Span;

/// A sync group with the spans needed to check its members.
pub(super) struct Draft {
    group: SyncGroup,
    at: Span,
    members: Vec<Span>,
}

/// Reads one `vrrp_sync_group` block.
pub(super) fn parse(ctx: &mut Ctx, stmt: &Stmt) -> Option<Draft> {
    let (name, at) = ctx.name(stmt)?;
    let body = ctx.block(stmt)?;
    let mut group = SyncGroup {
        name,
        instances: Vec::new(),
        notify: Notify::default(),
        smtp_alert: false,
    };
    let mut members = Vec::new();
    for s in body {
        match s.keyword.text.as_str() {
            "group" => {
                if let Some(list) = ctx.block(s) {
                    for item in list {
                        ctx.at_most(item, 0);
                        group.instances.push(item.keyword.text.clone());
                        members.push(item.keyword.span);
                    }
                }
            }
            "smtp_alert" => set(&mut group.smtp_alert, ctx.flag_bool(s)),
            kw => {
                if !notify(ctx, s, kw, &mut group.notify) {
                    ctx.unknown(s, "vrrp_sync_group");
                }
            }
        }
    }
    Some(Draft { group, at, members })
}

/// Checks names and members against the instances.
pub(super) fn resolve(
    ctx: &mut Ctx,
    drafts: Vec<Draft>,
    instances: &[VrrpInstance],
) -> Vec<SyncGroup> {
    let mut seen: Vec<&str> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for d in &drafts {
        if seen.contains(&d.group.name.as_str()) {
            ctx.error(
                d.at,
                Problem::DuplicateName("vrrp_sync_group", d.group.name.clone()),
            );
        }
        seen.push(&d.group.name);
        for (m, at) in d.group.instances.iter().zip(&d.members) {
            if !instances.iter().any(|i| &i.name == m) {
                ctx.error(*at, Problem::UnknownSyncMember(m.clone()));
            } else if taken.contains(m) {
                ctx.error(*at, Problem::InTwoSyncGroups(m.clone()));
            } else {
                taken.push(m.clone());
            }
        }
    }
    drafts.into_iter().map(|d| d.group).collect()
}
