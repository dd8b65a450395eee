//! `fifo_write_vrrp_states_on_reload`: after a reload keepalived 2.2.7
//! (`vrrp_init_state`) writes the FIFO line of what did not change state,
//! since no notification tells a FIFO reader that it is still current:
//! every kept sync group (in any state), and every kept instance that stays
//! BACKUP or FAULT. A kept MASTER takes 2.2.7's "reload master" path, which
//! writes nothing, and so it writes nothing here either. Added and restarted
//! instances notify as at a start.

use vigil_notify::fifo::{group_line, instance_line, InstanceEvent};
use vigil_notify::VrrpState;
use vigil_vrrp::{ReloadReport, Router, State};

/// The lines, groups first (keepalived's order). `groups`: the sync groups
/// of the new configuration with their members.
pub fn lines(router: &Router, report: &ReloadReport, groups: &[(&str, &[String])]) -> Vec<String> {
    let kept = |n: &str| report.kept.iter().chain(&report.updated).any(|k| k == n);
    let mut out = Vec::new();
    for (name, members) in groups {
        if !members.iter().all(|m| kept(m)) {
            continue;
        }
        let state = router
            .group_id(name)
            .and_then(|g| router.group(g))
            .and_then(|(_, s)| word(s));
        if let Some(s) = state {
            out.push(group_line(name, s));
        }
    }
    for name in report.kept.iter().chain(&report.updated) {
        let Some(snap) = router.instance_id(name).and_then(|i| router.instance(i)) else {
            continue;
        };
        if let Some(s @ (VrrpState::Backup | VrrpState::Fault)) = word(snap.state) {
            let ev = InstanceEvent::State(s);
            out.push(instance_line(name, ev, snap.effective_priority));
        }
    }
    out
}

fn word(s: State) -> Option<VrrpState> {
    match s {
        State::Master => Some(VrrpState::Master),
        State::Backup => Some(VrrpState::Backup),
        State::Fault => Some(VrrpState::Fault),
        State::Init => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_vrrp::{Family, InstanceConfig, Instant, RouterConfig, SyncGroupConfig};

    fn inst(name: &str, vrid: u8, prio: u8) -> InstanceConfig {
        let mut c = InstanceConfig::new(name, "eth0", vrid);
        c.priority = prio;
        c.virtual_addresses = vec![format!("10.0.0.{vrid}").parse().unwrap()];
        c
    }

    #[test]
    fn kept_backups_and_groups_are_written_masters_and_new_ones_not() {
        let cfg = RouterConfig {
            instances: vec![inst("A", 1, 100), inst("B", 2, 255), inst("C", 3, 100)],
            sync_groups: vec![SyncGroupConfig {
                name: "G".into(),
                members: vec!["C".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut r = Router::new(cfg.clone());
        let ip = Some("10.0.0.200".parse().unwrap());
        r.handle_address(Instant::ZERO, "eth0", Family::V4, ip);
        r.handle_start(Instant::ZERO);
        r.handle_timeout(Instant::from_millis(10));
        while r.poll_action().is_some() {}
        let mut next = cfg;
        next.instances.push(inst("D", 4, 100));
        let report = r.reconfigure(Instant::from_secs(1), next);
        let members = vec!["C".to_string()];
        let got = lines(&r, &report, &[("G", &members)]);
        assert_eq!(
            got,
            [
                "GROUP \"G\" BACKUP 0\n",
                "INSTANCE \"A\" BACKUP 100\n",
                "INSTANCE \"C\" BACKUP 100\n"
            ],
            "B is a kept MASTER, D is new"
        );
    }
}
