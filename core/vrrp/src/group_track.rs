//! Sync-group tracking, as keepalived 2.2.7 sets it up (`vrrp.c`): without
//! `sync_group_tracking_weight` a member's own weighted trackers lose their
//! weight (a group fails over as one, so no member may float its priority),
//! as do an address owner's; then the group's `track_*` entries are added
//! to every member, with their weights cleared when a member is the owner.

use crate::config::{RouterConfig, TrackedScript};
use crate::instance::PRIORITY_OWNER;

/// Rewrites the members' tracker lists of every sync group in `config`.
pub(crate) fn apply(config: &mut RouterConfig) {
    let RouterConfig {
        instances,
        scripts,
        sync_groups,
        ..
    } = config;
    let script_weight = |t: &TrackedScript| {
        t.weight
            .or_else(|| scripts.iter().find(|s| s.name == t.name).map(|s| s.weight))
            .unwrap_or(0)
    };
    for inst in instances.iter_mut() {
        let group = sync_groups.iter().find(|g| g.members.contains(&inst.name));
        let sync_unweighted = group.is_some_and(|g| !g.tracking_weight);
        if sync_unweighted || inst.priority == PRIORITY_OWNER {
            strip_weights(inst, sync_unweighted, &script_weight);
        }
    }
    for g in sync_groups.iter() {
        let members = || instances.iter().filter(|i| g.members.contains(&i.name));
        let has_owner = members().any(|i| i.priority == PRIORITY_OWNER);
        if has_owner {
            log::warn!(
                "({}) a member has priority 255: tracker weights of the group cleared",
                g.name
            );
        }
        let clear = |w: i32| if has_owner { 0 } else { w };
        for inst in instances.iter_mut().filter(|i| g.members.contains(&i.name)) {
            for t in &g.track_interfaces {
                let mut t = t.clone();
                t.weight = clear(t.weight);
                inst.track_interfaces.push(t);
            }
            for t in &g.track_scripts {
                let mut t = t.clone();
                t.weight = Some(clear(script_weight(&t)));
                inst.track_scripts.push(t);
            }
            for t in &g.track_files {
                let mut t = t.clone();
                t.weight = clear(t.weight);
                inst.track_files.push(t);
            }
            for t in &g.track_processes {
                let mut t = t.clone();
                t.weight = clear(t.weight);
                inst.track_processes.push(t);
            }
        }
    }
}

/// keepalived's `vrrp_complete_instance` for a sync-group member (or an
/// owner): a weighted interface becomes unweighted (an owner's is dropped),
/// weighted scripts are dropped, a file at the default weight 1 becomes
/// unweighted and others are dropped. Processes keep their weights (2.2.7
/// does not touch them there).
fn strip_weights(
    inst: &mut crate::config::InstanceConfig,
    sync: bool,
    script_weight: &impl Fn(&TrackedScript) -> i32,
) {
    let name = inst.name.clone();
    let why = if sync { "SYNC group" } else { "address owner" };
    inst.track_interfaces.retain_mut(|t| {
        if t.weight == 0 {
            return true;
        }
        log::warn!(
            "({name}) ignoring weight of tracked interface {} due to {why}",
            t.name
        );
        t.weight = 0;
        sync
    });
    inst.track_scripts.retain(|t| {
        let keep = script_weight(t) == 0;
        if !keep {
            log::warn!(
                "({name}) ignoring tracked script {} with weights due to {why}",
                t.name
            );
        }
        keep
    });
    inst.track_files.retain_mut(|t| match t.weight {
        0 => true,
        1 => {
            t.weight = 0;
            true
        }
        _ => {
            log::warn!(
                "({name}) ignoring tracked file {} with weight due to {why}",
                t.name
            );
            false
        }
    });
}
