//! `vrrp_sync_group NAME { group { ... } notify... }`.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use vigil_model::{Notify, SyncGroup, TrackInterface, TrackScript, VrrpInstance, VrrpScript};

use super::instance::notify;
use super::track::weight;
use super::Ctx;
use crate::error::Problem;
use crate::parser::Stmt;
use crate::span::Span;

/// A sync group with the spans needed to check its members.
pub(super) struct Draft {
    group: SyncGroup,
    at: Span,
    members: Vec<Span>,
    /// `track_script` entries: name, explicit weight, position.
    scripts: Vec<super::instance::TrackDraft>,
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
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
        track_files: Vec::new(),
        track_processes: Vec::new(),
        tracking_weight: false,
    };
    let mut members = Vec::new();
    let mut scripts = Vec::new();
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
            "track_interface" => {
                for item in ctx.block(s).unwrap_or_default() {
                    let (weight, reverse) = weight(ctx, item).unwrap_or((0, false));
                    let name = item.keyword.text.clone();
                    group.track_interfaces.push(TrackInterface {
                        name,
                        weight,
                        reverse,
                    });
                }
            }
            "track_script" => {
                for item in ctx.block(s).unwrap_or_default() {
                    let w = weight(ctx, item);
                    scripts.push((item.keyword.text.clone(), w, item.keyword.span));
                }
            }
            "sync_group_tracking_weight" => {
                ctx.flag(s);
                group.tracking_weight = true;
            }
            "global_tracking" => {
                // Deprecated in 2.2.7 for the same effect.
                ctx.flag(s);
                let what = "global_tracking is deprecated: sync_group_tracking_weight".into();
                ctx.ignored(s.keyword.span, what);
                group.tracking_weight = true;
            }
            kw => {
                let (files, procs) = (&mut group.track_files, &mut group.track_processes);
                if !notify(ctx, s, kw, &mut group.notify)
                    && !super::track::tracked(ctx, s, files, procs)
                {
                    ctx.unknown(s, "vrrp_sync_group");
                }
            }
        }
    }
    Some(Draft {
        group,
        at,
        members,
        scripts,
    })
}

/// Checks names and members against the instances.
pub(super) fn resolve(
    ctx: &mut Ctx,
    drafts: Vec<Draft>,
    instances: &[VrrpInstance],
    scripts: &[VrrpScript],
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
            for (name, w, at) in d.scripts {
                match scripts.iter().find(|s| s.name == name) {
                    None => ctx.warn(at, Problem::UnknownTrackScript(name)),
                    Some(s) => {
                        let (weight, reverse) = w.unwrap_or((s.weight, s.weight_reverse));
                        d.group.track_scripts.push(TrackScript {
                            name,
                            weight,
                            reverse,
                        });
                    }
                }
            }
            d.group
        })
        .collect()
}
