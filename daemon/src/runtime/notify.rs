//! Everything a VRRP notification sets off besides the notify scripts'
//! arguments: the FIFO line, the alert mail, and keepalived 2.2.7's
//! variants of both (vrrp_notify.c): `notify_deleted` (an instance removed
//! by a reload notifies DELETED and runs its script, else FAULT, as before
//! 2.0), `notify_master_rx_lower_pri` (a MASTER that hears a lower
//! priority runs the script; the FIFO gets `MASTER_RX_LOWER_PRI` always)
//! and `notify_priority_changes` (`MASTER_PRIORITY` / `BACKUP_PRIORITY`
//! lines at each change of the effective priority).

use std::collections::HashMap;

use vigil_model::Config;
use vigil_notify::fifo::{group_line, instance_line, InstanceEvent};
use vigil_notify::mail::Mail;
use vigil_notify::VrrpState;
use vigil_vrrp::{NotifyState, Router, State};

use super::fifo::FifoSet;
use super::hooks::{self, Running};
use super::mail::Mailer;
use super::plan::{self, Hooks, Runnable};
use super::Spawner;

/// One instance's notification settings, resolved against `global_defs`.
#[derive(Debug, Default)]
struct Settings {
    smtp: bool,
    deleted: bool,
    deleted_script: Option<Runnable>,
    rx_lower: Option<Runnable>,
    priority_changes: bool,
}

/// What the loop last saw of an instance, to spot priority changes and
/// lower-priority adverts heard as MASTER.
#[derive(Debug, Clone, Copy)]
struct Seen {
    priority: u8,
    lower_heard: u64,
}

pub struct Notifier {
    spawner: Spawner,
    fifos: FifoSet,
    mailer: Mailer,
    instances: HashMap<String, Settings>,
    /// The settings of the instances the last reload removed, for their
    /// last notification.
    retired: HashMap<String, Settings>,
    /// The last state notified per instance.
    last: HashMap<String, VrrpState>,
    /// Sync groups with mail on.
    group_mail: HashMap<String, bool>,
    /// keepalived mails a state once: the last one mailed, per name.
    mailed: HashMap<(bool, String), VrrpState>,
    seen: HashMap<String, Seen>,
    /// Instances the last reload removed: their STOP is a deletion.
    removed: Vec<String>,
    /// Whether [`Notifier::watch`] has anything to do.
    watching: bool,
    /// `no_email_faults`.
    no_fault_mail: bool,
}

fn state_of(s: NotifyState) -> VrrpState {
    match s {
        NotifyState::Master => VrrpState::Master,
        NotifyState::Backup => VrrpState::Backup,
        NotifyState::Fault => VrrpState::Fault,
        NotifyState::Stop => VrrpState::Stop,
    }
}

impl Notifier {
    /// Opens the FIFOs (starting their scripts) and reads the settings.
    pub fn new(config: &Config, spawner: Spawner) -> Notifier {
        let mut n = Notifier {
            spawner,
            fifos: FifoSet::open(&config.global, spawner),
            mailer: Mailer::new(&config.global),
            instances: HashMap::new(),
            retired: HashMap::new(),
            last: HashMap::new(),
            group_mail: HashMap::new(),
            mailed: HashMap::new(),
            seen: HashMap::new(),
            removed: Vec::new(),
            watching: false,
            no_fault_mail: false,
        };
        n.configure(config);
        n
    }

    fn configure(&mut self, config: &Config) {
        let g = &config.global;
        let group_of = |name: &str| {
            config
                .sync_groups
                .iter()
                .find(|s| s.instances.iter().any(|m| m == name))
        };
        self.instances = config
            .instances
            .iter()
            .map(|i| {
                let who = format!("({})", i.name);
                let run = |c: &Option<vigil_model::Command>, kind: &str| {
                    c.as_ref()
                        .and_then(|c| plan::runnable(g, c, &format!("{who} {kind}")))
                };
                let s = Settings {
                    smtp: g.vrrp_alert(i.smtp_alert),
                    deleted: i.notify_deleted,
                    deleted_script: run(&i.notify_deleted_script, "notify_deleted"),
                    rx_lower: run(&i.notify_master_rx_lower_pri, "notify_master_rx_lower_pri"),
                    priority_changes: i
                        .notify_priority_changes
                        .or_else(|| group_of(&i.name).and_then(|s| s.notify_priority_changes))
                        .unwrap_or(g.vrrp_notify_priority_changes),
                };
                (i.name.clone(), s)
            })
            .collect();
        self.group_mail = config
            .sync_groups
            .iter()
            .map(|s| (s.name.clone(), g.vrrp_alert(s.smtp_alert)))
            .collect();
        self.no_fault_mail = g.no_email_faults;
        self.watching =
            !self.fifos.vrrp().is_empty() || self.instances.values().any(|s| s.rx_lower.is_some());
    }

    /// A reload: new settings, FIFOs reopened if they changed, and the
    /// names of removed instances (their coming STOP is a deletion).
    pub fn reload(&mut self, config: &Config, removed: &[String]) {
        self.fifos.reload(&config.global, self.spawner);
        self.mailer = Mailer::new(&config.global);
        self.removed = removed.to_vec();
        self.seen.retain(|n, _| !removed.contains(n));
        self.retired = removed
            .iter()
            .filter_map(|n| self.instances.remove_entry(n))
            .collect();
        self.configure(config);
    }

    /// Writes `line` to the VRRP FIFOs only (no script, no mail).
    pub fn fifo_line(&self, line: &str) {
        self.fifos.vrrp().write(line);
    }

    /// Runs an instance's or group's notify scripts (as `hooks::notify`),
    /// writes its FIFO line and mails it.
    pub fn notify(
        &mut self,
        running: &Running,
        hooks: &Hooks,
        group: bool,
        name: &str,
        state: NotifyState,
        priority: u8,
    ) {
        let mut st = state_of(state);
        if !group && st == VrrpState::Stop {
            if let Some(i) = self.removed.iter().position(|n| n == name) {
                self.removed.swap_remove(i);
                let deleted = self.settings(name).is_some_and(|s| s.deleted);
                // keepalived says nothing of a removed instance already in
                // FAULT, unless notify_deleted.
                if !deleted && self.last.get(name) == Some(&VrrpState::Fault) {
                    return;
                }
                st = self.deleted(running, hooks, name, priority);
            }
        }
        if !group {
            self.last.insert(name.to_string(), st);
        }
        if st != VrrpState::Deleted {
            let state = match st {
                VrrpState::Fault => NotifyState::Fault,
                _ => state,
            };
            hooks::notify(&self.spawner, running, hooks, group, name, state, priority);
        }
        let line = if group {
            group_line(name, st)
        } else {
            instance_line(name, InstanceEvent::State(st), priority)
        };
        self.fifos.vrrp().write(&line);
        self.mail(group, name, st);
    }

    /// An instance removed by a reload: DELETED with `notify_deleted`
    /// (its script, then `notify ... DELETED`), else FAULT.
    fn deleted(&mut self, running: &Running, hooks: &Hooks, name: &str, priority: u8) -> VrrpState {
        let Some(s) = self.settings(name).filter(|s| s.deleted) else {
            return VrrpState::Fault;
        };
        hooks::notify_with(
            &self.spawner,
            running,
            s.deleted_script.as_ref().map(|r| ("notify_deleted", r)),
            hooks.any.as_ref(),
            false,
            name,
            "DELETED",
            priority,
        );
        VrrpState::Deleted
    }

    /// An instance's settings, a just removed one's included.
    fn settings(&self, name: &str) -> Option<&Settings> {
        self.instances.get(name).or_else(|| self.retired.get(name))
    }

    fn mail(&mut self, group: bool, name: &str, st: VrrpState) {
        if !self.mailer.enabled() {
            return;
        }
        let on = if group {
            self.group_mail.get(name).copied().unwrap_or(false)
        } else {
            self.settings(name).is_some_and(|s| s.smtp)
        };
        let key = (group, name.to_string());
        let muted = self.no_fault_mail && st == VrrpState::Fault;
        if !on || muted || self.mailed.get(&key) == Some(&st) {
            return;
        }
        let rid = self.mailer.router_id();
        let mail = if group {
            Mail::group(rid, name, st)
        } else {
            Some(Mail::instance(rid, name, st))
        };
        if let Some(m) = mail {
            self.mailer.send(m);
            self.mailed.insert(key, st);
        }
    }

    /// After each turn of the loop: priority changes and lower-priority
    /// adverts heard as MASTER since the last look.
    pub fn watch(&mut self, router: &Router, running: &Running) {
        if !self.watching {
            return;
        }
        for id in router.instance_ids() {
            let Some(i) = router.instance(id) else {
                continue;
            };
            let now = Seen {
                priority: i.effective_priority,
                lower_heard: i.counters.lower_priority_received,
            };
            // No allocation on the loop's hot path: a name is copied once.
            let was = match self.seen.get_mut(i.name) {
                Some(w) => std::mem::replace(w, now),
                None => {
                    self.seen.insert(i.name.to_string(), now);
                    continue;
                }
            };
            let Some(s) = self.instances.get(i.name) else {
                continue;
            };
            let master = i.state == State::Master;
            if now.lower_heard > was.lower_heard && master {
                if let Some(r) = &s.rx_lower {
                    hooks::notify_with(
                        &self.spawner,
                        running,
                        Some(("notify_master_rx_lower_pri", r)),
                        None,
                        false,
                        i.name,
                        "",
                        0,
                    );
                }
                let line = instance_line(i.name, InstanceEvent::MasterRxLowerPri, now.priority);
                self.fifos.vrrp().write(&line);
            }
            if now.priority != was.priority && s.priority_changes {
                let ev = InstanceEvent::PriorityChanged { master };
                self.fifos
                    .vrrp()
                    .write(&instance_line(i.name, ev, now.priority));
            }
        }
    }

    /// At the end of a stop: the FIFOs closed, their scripts given a
    /// second to read the last lines, then stopped.
    pub async fn close(&mut self) {
        self.fifos.close(std::time::Duration::from_secs(1)).await;
    }
}
