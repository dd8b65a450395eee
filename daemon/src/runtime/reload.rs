//! SIGHUP off the VRRP loop: a helper thread reads the configuration and
//! builds the plan, and the loop only swaps the finished result in. Parsing
//! a 1,000 x 4 text configuration takes tens of milliseconds natively and
//! seconds on a slow router, while an advert is due every 100 ms; the loop
//! must never wait for it.
//!
//! A SIGHUP while a load runs is coalesced: one more load follows the
//! current one (the file may have changed after it was read), however many
//! signals came meanwhile. A configuration that fails to load or plan
//! changes nothing; the helper has logged why.

use vigil_model::Config;
use vigil_vrrp as vrrp;

use super::daemon::Daemon;
use super::event::Event;
use super::plan::Plan;
use super::routes::kernel;

/// A configuration read and planned by the helper, ready to swap in.
pub struct Loaded {
    pub config: Config,
    pub plan: Plan,
}

/// Whether a load runs and whether another must follow it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    busy: bool,
    again: bool,
}

impl Gate {
    /// A reload was asked for: `true` when a load must start now, `false`
    /// when one runs (another will follow it).
    pub fn request(&mut self) -> bool {
        if self.busy {
            self.again = true;
            return false;
        }
        self.busy = true;
        true
    }

    /// The running load finished: `true` when another must start now.
    pub fn finished(&mut self) -> bool {
        self.busy = std::mem::take(&mut self.again);
        self.busy
    }
}

/// Reads `path` and plans it; `None` (logged) when either fails. Runs on
/// the helper thread.
pub fn load_and_plan(path: &str) -> Option<Loaded> {
    let Some(config) = crate::loader::load_logged(path) else {
        log::error!("reload refused: {path} has errors; the running configuration is kept");
        return None;
    };
    match Plan::new(&config) {
        Ok(plan) => Some(Loaded { config, plan }),
        Err(e) => {
            log::error!("reload refused: {e}; the running configuration is kept");
            None
        }
    }
}

impl Daemon {
    /// SIGHUP: starts a load, or marks one to follow the running one.
    pub(super) fn reload_requested(&mut self) {
        if self.reload_gate.request() {
            self.start_load();
        } else {
            log::info!("reload already in progress: the configuration is read again after it");
        }
    }

    fn start_load(&mut self) {
        let path = self.settings.config_path.display().to_string();
        log::info!("reloading {path}");
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name("vigil-load".into())
            .spawn(move || {
                let loaded = load_and_plan(&path).map(Box::new);
                // The loop may be gone (stopping): nothing to hand over then.
                let _ = tx.send_blocking(Event::Loaded(loaded));
            });
        if let Err(e) = spawned {
            log::error!("reload refused: cannot start the loading thread: {e}");
            if self.reload_gate.finished() {
                self.start_load();
            }
        }
    }

    /// The helper's result: swaps a good configuration in, then starts the
    /// load a SIGHUP asked for meanwhile.
    pub(super) async fn loaded(&mut self, now: vrrp::Instant, loaded: Option<Box<Loaded>>) {
        if let Some(l) = loaded {
            let Loaded { config, plan } = *l;
            self.swap_in(now, config, plan).await;
        }
        if self.reload_gate.finished() {
            self.start_load();
        }
    }

    /// The router carries unchanged instances over untouched (no VIP flap)
    /// and restarts only what changed; the configuration goes on to the LVS
    /// thread, which keeps it.
    async fn swap_in(&mut self, now: vrrp::Instant, config: Config, plan: Plan) {
        // The configuration was validated when loaded: the router cannot
        // refuse it (core/config is the one validator).
        let report = self.router.reconfigure(now, plan.router.clone());
        log::info!("{report}");
        let (gone, came) = self.routes.reload(&kernel(&self.net), &config);
        self.net.del_vips("static", &gone, false);
        self.net.add_vips("static", &came);
        self.slots.reload(&plan, &report);
        self.notifier.reload(&config, &report.removed);
        self.firewall.configure(&config.global.nftables);
        if config.global.fifo_write_vrrp_states_on_reload {
            let groups: Vec<(&str, &[String])> = config
                .sync_groups
                .iter()
                .map(|g| (g.name.as_str(), g.instances.as_slice()))
                .collect();
            for line in super::reload_states::lines(&self.router, &report, &groups) {
                self.notifier.fifo_line(&line);
            }
        }
        self.reload_lvs(config);
        if plan.watch != self.plan.watch {
            // Stop the old watchers before the new ones start.
            self.trackers = Default::default();
            let (spawner, tx) = (self.spawner, self.tx.clone());
            self.trackers =
                super::track::Trackers::start(&plan.watch, spawner, &tx, &mut self.router, now);
        }
        self.plan = plan;
        self.vmac_reload();
        self.firewall.ensure(&self.plan);
        self.firewall.resync(self.slots.dropped());
        self.sync_links(now);
        // Stopped instances still send their priority-0 adverts: their
        // sockets close only once those are out.
        self.net.reconcile(self.slots.all());
        self.drain().await;
        self.vmac_prune().await;
        self.open_sockets();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_during_a_load_is_coalesced_into_one_more() {
        let mut g = Gate::default();
        assert!(g.request(), "idle: start");
        assert!(!g.request(), "busy: wait");
        assert!(!g.request(), "still one more, not two");
        assert!(g.finished(), "one more load");
        assert_eq!(
            g,
            Gate {
                busy: true,
                again: false
            }
        );
        assert!(!g.finished(), "and no other");
        assert_eq!(g, Gate::default());
        assert!(g.request(), "idle again");
        assert!(!g.finished());
    }

    #[test]
    fn a_bad_file_loads_nothing() {
        let dir = std::env::temp_dir().join(format!("vigil-reload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.conf");
        std::fs::write(&bad, "vrrp_instance VI_1 {\n virtual_router_id 300\n}\n").unwrap();
        assert!(load_and_plan(bad.to_str().unwrap()).is_none());
        assert!(load_and_plan(dir.join("missing.conf").to_str().unwrap()).is_none());
        let good = dir.join("good.conf");
        std::fs::write(
            &good,
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n \
             virtual_ipaddress {\n  192.168.67.150/24\n }\n}\n\
             virtual_server 192.168.67.150 80 {\n real_server 192.168.67.10 80 {\n  TCP_CHECK {\n  }\n }\n}\n",
        )
        .unwrap();
        let l = load_and_plan(good.to_str().unwrap()).unwrap();
        assert_eq!(l.plan.router.instances.len(), 1);
        assert_eq!(l.config.virtual_servers.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
