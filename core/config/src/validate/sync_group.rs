//! `vrrp_sync_group NAME { group { ... } notify... }`.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use vigil_model::{Notify, SyncGroup, VrrpInstance};

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
        smtp_alert: None,
        notify_priority_changes: None,
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
            "smtp_alert" => group.smtp_alert = ctx.flag_bool(s).or(group.smtp_alert),
            "notify_priority_changes" => {
                group.notify_priority_changes = ctx.flag_bool(s).or(group.notify_priority_changes)
            }
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
    // Sets, not scans: the cost stays linear in groups, members and instances.
    let known: BTreeSet<&str> = instances.iter().map(|i| i.name.as_str()).collect();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    for d in &drafts {
        if !seen.insert(&d.group.name) {
            ctx.error(
                d.at,
                Problem::DuplicateName("vrrp_sync_group", d.group.name.clone()),
            );
        }
        for (m, at) in d.group.instances.iter().zip(&d.members) {
            if !known.contains(m.as_str()) {
                ctx.warn(*at, Problem::UnknownSyncMember(m.clone()));
            } else if !taken.insert(m) {
                ctx.error(*at, Problem::InTwoSyncGroups(m.clone()));
            }
        }
    }
    drafts
        .into_iter()
        .map(|mut d| {
            // keepalived ignores a member that names no instance.
            d.group.instances.retain(|m| known.contains(m.as_str()));
            d.group
        })
        .collect()
}
