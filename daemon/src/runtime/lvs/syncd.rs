//! The director-wide IPVS settings that follow VRRP: the connection sync
//! daemon (`lvs_sync_daemon`) and the connection timeouts (`lvs_timeouts`).
//!
//! As keepalived 2.2.7 does: DEL_DAEMON of both roles at start, errors
//! ignored (leftovers of a crash); then the backup daemon; on MASTER stop
//! backup and start master, on leaving MASTER the reverse; at stop, stop
//! the one running. Timeouts are read once (GET_CONFIG) before the first
//! change so the originals can be put back at stop, or when a reload drops
//! `lvs_timeouts`.

use std::collections::HashMap;

use vigil_model::{GlobalDefs, LvsTimeouts};

use super::backend::{Backend, BackendError};
use crate::os::ipvs::{SyncConfig, SyncRole, Timeouts};

/// What the sync daemon follows: its settings and the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    config: SyncConfig,
    instance: String,
}

/// The sync daemon and timeouts this thread manages.
#[derive(Debug, Default)]
pub struct Director {
    wanted: Option<Wanted>,
    /// The role running now (as far as our commands succeeded).
    running: Option<SyncRole>,
    /// Last known MASTER-ness of each VRRP instance.
    master: HashMap<String, bool>,
    /// The kernel's timeouts before our first change.
    original: Option<Timeouts>,
    timeouts: LvsTimeouts,
}

fn log_err(r: Result<(), BackendError>) {
    if let Err(e) = r {
        log::error!("{e}");
    }
}

impl Director {
    /// Applies the globals at start.
    pub fn start<B: Backend>(&mut self, b: &mut B, g: &GlobalDefs) {
        self.set_timeouts(b, g.lvs_timeouts);
        let wanted = wanted(g);
        if let Some(w) = &wanted {
            // Crash leftovers; "not running" is the normal answer.
            for role in [SyncRole::Master, SyncRole::Backup] {
                let _ = b.stop_daemon(role, w.config.sync_id);
            }
        }
        self.wanted = wanted;
        self.follow(b);
    }

    /// A VRRP instance changed state.
    pub fn instance_state<B: Backend>(&mut self, b: &mut B, instance: &str, master: bool) {
        self.master.insert(instance.to_string(), master);
        self.follow(b);
    }

    /// A reload: a changed daemon is restarted, a dropped one stopped.
    pub fn reload<B: Backend>(&mut self, b: &mut B, g: &GlobalDefs) {
        self.set_timeouts(b, g.lvs_timeouts);
        let wanted = wanted(g);
        if wanted != self.wanted {
            self.stop_daemon(b);
            self.wanted = wanted;
        }
        self.follow(b);
    }

    /// Stop: the daemon stops, the original timeouts come back.
    pub fn stop<B: Backend>(&mut self, b: &mut B) {
        self.stop_daemon(b);
        self.wanted = None;
        self.set_timeouts(b, LvsTimeouts::default());
    }

    /// The role running now.
    pub fn role(&self) -> Option<SyncRole> {
        self.running
    }

    fn stop_daemon<B: Backend>(&mut self, b: &mut B) {
        if let (Some(role), Some(w)) = (self.running.take(), &self.wanted) {
            log::info!("stopping the {role} sync daemon");
            log_err(b.stop_daemon(role, w.config.sync_id));
        }
    }

    /// Runs the role the instance's state asks for.
    fn follow<B: Backend>(&mut self, b: &mut B) {
        let Some(w) = &self.wanted else { return };
        let master = self.master.get(&w.instance).copied().unwrap_or(false);
        let role = if master {
            SyncRole::Master
        } else {
            SyncRole::Backup
        };
        if self.running == Some(role) {
            return;
        }
        if let Some(old) = self.running.take() {
            log_err(b.stop_daemon(old, w.config.sync_id));
        }
        log::info!(
            "starting the {role} sync daemon on {} (sync id {}) for ({})",
            w.config.interface,
            w.config.sync_id,
            w.instance
        );
        match b.start_daemon(role, &w.config) {
            Ok(()) => self.running = Some(role),
            Err(e) => log::error!("{e}"),
        }
    }

    /// Sets `t` (saving the originals first), or puts the originals back
    /// when nothing is asked for any more.
    fn set_timeouts<B: Backend>(&mut self, b: &mut B, t: LvsTimeouts) {
        if t == self.timeouts {
            return;
        }
        self.timeouts = t;
        if !t.any() {
            if let Some(o) = self.original.take() {
                log::info!(
                    "restoring IPVS timeouts tcp {} tcpfin {} udp {}",
                    o.tcp,
                    o.tcp_fin,
                    o.udp
                );
                log_err(b.set_timeouts(&o));
            }
            return;
        }
        if self.original.is_none() {
            match b.timeouts() {
                Ok(o) => self.original = Some(o),
                Err(e) => log::error!("{e}"),
            }
        }
        // Unset ones go back to the originals (a 0 would leave whatever an
        // earlier configuration set).
        let o = self.original.unwrap_or_default();
        let pick = |v: u32, orig: u32| if v != 0 { v } else { orig };
        let set = Timeouts {
            tcp: pick(t.tcp, o.tcp),
            tcp_fin: pick(t.tcp_fin, o.tcp_fin),
            udp: pick(t.udp, o.udp),
        };
        log_err(b.set_timeouts(&set));
    }
}

fn wanted(g: &GlobalDefs) -> Option<Wanted> {
    g.lvs_sync_daemon.as_ref().map(|d| Wanted {
        config: SyncConfig::of(d),
        instance: d.instance.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::lvs::backend::{DirectorOp, MemoryBackend};
    use vigil_model::SyncDaemon;

    fn globals() -> GlobalDefs {
        GlobalDefs {
            lvs_sync_daemon: Some(SyncDaemon {
                interface: "eth1".into(),
                instance: "VI_1".into(),
                sync_id: 51,
                maxlen: None,
                port: None,
                ttl: None,
                group: None,
            }),
            ..GlobalDefs::default()
        }
    }

    fn ops(b: &mut MemoryBackend) -> Vec<DirectorOp> {
        std::mem::take(&mut b.director_log)
    }

    #[test]
    fn follows_the_instance_like_keepalived() {
        use DirectorOp::*;
        use SyncRole::*;
        let mut b = MemoryBackend::default();
        let mut d = Director::default();
        d.start(&mut b, &globals());
        assert_eq!(
            ops(&mut b),
            vec![Stop(Master), Stop(Backup), Start(Backup, "eth1".into(), 51)]
        );
        d.instance_state(&mut b, "VI_2", true);
        assert_eq!(ops(&mut b), vec![]);
        d.instance_state(&mut b, "VI_1", true);
        assert_eq!(
            ops(&mut b),
            vec![Stop(Backup), Start(Master, "eth1".into(), 51)]
        );
        d.instance_state(&mut b, "VI_1", true);
        assert_eq!(ops(&mut b), vec![]);
        d.instance_state(&mut b, "VI_1", false);
        assert_eq!(
            ops(&mut b),
            vec![Stop(Master), Start(Backup, "eth1".into(), 51)]
        );
        d.stop(&mut b);
        assert_eq!(ops(&mut b), vec![Stop(Backup)]);
        assert_eq!(d.role(), None);
    }

    #[test]
    fn reload_restarts_a_changed_daemon_and_stops_a_dropped_one() {
        use DirectorOp::*;
        use SyncRole::*;
        let mut b = MemoryBackend::default();
        let mut d = Director::default();
        d.start(&mut b, &globals());
        d.instance_state(&mut b, "VI_1", true);
        ops(&mut b);
        d.reload(&mut b, &globals());
        assert_eq!(ops(&mut b), vec![]);
        let mut g = globals();
        if let Some(s) = &mut g.lvs_sync_daemon {
            s.interface = "eth2".into();
        }
        d.reload(&mut b, &g);
        assert_eq!(
            ops(&mut b),
            vec![Stop(Master), Start(Master, "eth2".into(), 51)]
        );
        d.reload(&mut b, &GlobalDefs::default());
        assert_eq!(ops(&mut b), vec![Stop(Master)]);
    }

    #[test]
    fn a_failed_start_is_retried_on_the_next_transition() {
        use DirectorOp::*;
        use SyncRole::*;
        let mut b = MemoryBackend {
            refuse_daemons: true,
            ..MemoryBackend::default()
        };
        let mut d = Director::default();
        d.start(&mut b, &globals());
        assert_eq!(d.role(), None);
        b.refuse_daemons = false;
        ops(&mut b);
        d.instance_state(&mut b, "VI_1", true);
        assert_eq!(ops(&mut b), vec![Start(Master, "eth1".into(), 51)]);
    }

    #[test]
    fn timeouts_saved_set_and_restored() {
        use DirectorOp::*;
        let orig = Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        };
        let mut b = MemoryBackend {
            timeouts: orig,
            ..MemoryBackend::default()
        };
        let mut d = Director::default();
        let g = GlobalDefs {
            lvs_timeouts: LvsTimeouts {
                tcp: 7200,
                tcp_fin: 0,
                udp: 50,
            },
            ..GlobalDefs::default()
        };
        d.start(&mut b, &g);
        let want = Timeouts {
            tcp: 7200,
            tcp_fin: 120,
            udp: 50,
        };
        assert_eq!(ops(&mut b), vec![GetTimeouts, SetTimeouts(want)]);
        assert_eq!(b.timeouts, want);
        // A reload to other values does not take the changed ones as originals.
        let mut g2 = g.clone();
        g2.lvs_timeouts.tcp = 60;
        d.reload(&mut b, &g2);
        assert_eq!(b.timeouts.tcp, 60);
        d.stop(&mut b);
        assert_eq!(b.timeouts, orig);
    }

    #[test]
    fn no_timeouts_no_kernel_calls() {
        let mut b = MemoryBackend::default();
        let mut d = Director::default();
        d.start(&mut b, &GlobalDefs::default());
        d.stop(&mut b);
        assert_eq!(ops(&mut b), vec![]);
    }
}
