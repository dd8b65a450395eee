//! The loop itself: start-up, the event/timer race, action dispatch, shutdown.
//! This file holds the state, start-up, event handling and the stop; the
//! children hold the rest, one concern each.

use std::time::Duration;

use vigil_vrrp::{self as vrrp, Router};

use super::ah_net::AhNet;
use super::event::Event;
use super::hooks::Running;
use super::net::Net;
use super::plan::Plan;
use super::routes::{kernel, Routes};
use super::slots::Slots;
use super::{Settings, Spawner};
use crate::os::clock;
use crate::os::netlink::{LinkTable, Monitor, Netlink};
use crate::os::signals::{Signal, Signals};

mod dispatch;
mod links;
mod status;
mod to_lvs;

/// How long a stopping daemon waits for its notify_stop hooks.
const STOP_GRACE: Duration = Duration::from_secs(5);
pub struct Daemon {
    pub(super) settings: Settings,
    pub(super) spawner: Spawner,
    pub(super) tx: smol::channel::Sender<Event>,
    pub(super) rx: smol::channel::Receiver<Event>,
    pub(super) router: Router,
    pub(super) plan: Plan,
    pub(super) net: Net,
    /// Protocol-51 sockets of `auth_type AH` instances.
    pub(super) ah: AhNet,
    running: Running,
    pub(super) started: std::time::Instant,
    /// The shell's side of each instance, by the router's instance id.
    pub(super) slots: Slots,
    /// The `use_vmac` macvlans this run owns.
    pub(super) vmacs: super::vmac::Vmacs,
    /// The health checkers and IPVS table, on their own thread; `None`
    /// without `virtual_server` blocks.
    lvs: Option<super::lvs::Lvs>,
    /// Static and virtual routes, rules and static addresses.
    pub(super) routes: Routes,
    /// `control_socket_group`, read at start (the socket is bound once).
    control_group: Option<String>,
    /// FIFO lines and alert mails.
    pub(super) notifier: super::notify::Notifier,
    /// The track_file / track_process watchers (restarted by a reload).
    pub(super) trackers: super::track::Trackers,
    /// no_accept's drop table.
    pub(super) firewall: super::firewall::Firewall,
    /// A SIGHUP's load on the helper thread, and one asked for meanwhile.
    pub(super) reload_gate: super::reload::Gate,
    /// Naps of a realtime loop (RLIMIT_RTTIME).
    pub(super) breather: super::turns::Breather,
}

pub(super) fn now() -> vrrp::Instant {
    vrrp::Instant::from_micros(clock::now_us())
}

impl Daemon {
    /// Builds the router and opens what it needs. An error here is fatal (the
    /// configuration cannot run at all on this host).
    pub fn start(
        settings: Settings,
        config: vigil_model::Config,
        spawner: Spawner,
    ) -> Result<Daemon, String> {
        let plan = Plan::new(&config).map_err(|e| e.to_string())?;
        let router = Router::new(plan.router.clone());
        let notifier = super::notify::Notifier::new(&config, spawner);
        let nl = Netlink::open().map_err(|e| format!("rtnetlink: {e}"))?;
        let control_group = config.global.control_socket_group.clone();
        let nftables = config.global.nftables.clone();
        let routes = Routes::new(&config);
        // The configuration moves on to the LVS thread, which keeps it.
        let lvs = super::lvs::start_for(config)?;
        // Events are rare (packets are read by the loop, not sent here).
        let (tx, rx) = smol::channel::bounded(1024);
        let slots = Slots::new(&plan);
        let mut d = Daemon {
            settings,
            spawner,
            tx,
            rx,
            router,
            plan,
            net: Net::new(nl, LinkTable::default()),
            ah: AhNet::new(),
            running: Running::default(),
            started: std::time::Instant::now(),
            slots,
            vmacs: Default::default(),
            lvs,
            routes,
            control_group,
            notifier,
            trackers: Default::default(),
            firewall: super::firewall::Firewall::new(&nftables),
            reload_gate: Default::default(),
            breather: super::turns::Breather::new(None),
        };
        d.spawn_signals()?;
        d.spawn_control();
        d.spawn_monitor()?;
        d.vmac_reload();
        for name in d.interfaces() {
            if d.net.links.index_of(&name).is_none() {
                log::warn!(
                    "interface {name} is not present: its instances stay in FAULT until it appears"
                );
            }
        }
        d.sync_links(now());
        for (name, inst) in &d.plan.instances {
            d.net.del_vips(name, &inst.vips, true);
        }
        d.start_routes()?;
        d.open_sockets();
        let (watch, spawner, tx) = (d.plan.watch.clone(), d.spawner, d.tx.clone());
        d.trackers = super::track::Trackers::start(&watch, spawner, &tx, &mut d.router, now());
        d.firewall.ensure(&d.plan);
        log::info!(
            "vigil {} started: {} VRRP instance(s), config {}",
            env!("CARGO_PKG_VERSION"),
            d.plan.instances.len(),
            d.settings.config_path.display()
        );
        d.router.handle_start(now());
        Ok(d)
    }

    fn spawn_signals(&self) -> Result<(), String> {
        let sigs = Signals::install().map_err(|e| format!("signals: {e}"))?;
        let tx = self.tx.clone();
        self.spawner
            .spawn(async move {
                while let Ok(s) = sigs.next().await {
                    if tx.send(Event::Signal(s)).await.is_err() {
                        return;
                    }
                }
            })
            .detach();
        Ok(())
    }

    /// The control socket is an aid, not a necessity: failing to bind it is
    /// logged and the daemon runs on.
    fn spawn_control(&self) {
        let Some(path) = self.settings.control.clone() else {
            return;
        };
        let mut server = match crate::control::Server::bind(&path) {
            Ok(s) => s,
            Err(e) => {
                log::error!("control socket {}: {e}", path.display());
                return;
            }
        };
        if let Some(name) = &self.control_group {
            match nix::unistd::Group::from_name(name) {
                Ok(Some(g)) => {
                    if let Err(e) = server.allow_group(g.gid.as_raw()) {
                        log::error!("control socket {}: group {name}: {e}", path.display());
                    }
                }
                _ => log::error!("control_socket_group {name}: no such group; root only"),
            }
        }
        let tx = self.tx.clone();
        self.spawner
            .spawn(async move {
                loop {
                    let conn = server.accept().await;
                    if tx.send(Event::Control(conn)).await.is_err() {
                        return;
                    }
                }
            })
            .detach();
    }

    /// Subscribes first, then dumps the links once: the dump seeds both the
    /// monitor and the link table, and no change falls between the two.
    fn spawn_monitor(&mut self) -> Result<(), String> {
        let mut mon = Monitor::open().map_err(|e| format!("netlink monitor: {e}"))?;
        let links = self.net.nl.links().map_err(|e| format!("netlink: {e}"))?;
        mon.seed(&links);
        self.net.links = LinkTable::from_links(&links);
        let tx = self.tx.clone();
        self.spawner
            .spawn(async move {
                loop {
                    match mon.next().await {
                        Ok(ev) => {
                            if tx.send(Event::Link(ev)).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            log::warn!("netlink monitor: {e}");
                            smol::Timer::after(Duration::from_millis(200)).await;
                        }
                    }
                }
            })
            .detach();
        Ok(())
    }

    /// Sockets for the live instances on the interfaces present now.
    pub(super) fn open_sockets(&mut self) {
        self.net.reconcile(self.slots.live());
        self.ah.reconcile(&self.net.links, self.slots.live());
    }

    /// Feeds one event to the router; `Some(code)` when the daemon must exit.
    pub(super) async fn handle(&mut self, now: vrrp::Instant, ev: Event) -> Option<u8> {
        match ev {
            Event::Link(l) => self.link(now, l),
            Event::ScriptDone { script, result } => {
                if let Some(id) = self.router.script_id(&script) {
                    self.router.handle_script_result(now, id, result);
                }
            }
            Event::Process { name, count, cause } => {
                log::debug!("track_process {name}: {count} running");
                self.router.handle_process_count(now, &name, count, cause);
            }
            Event::File { name, value } => self.router.handle_file_value(now, &name, value),
            Event::Signal(Signal::Terminate | Signal::Interrupt) => return Some(self.stop().await),
            Event::Signal(Signal::Reload) => self.reload_requested(),
            Event::Loaded(l) => self.loaded(now, l).await,
            Event::Signal(Signal::Child) => {}
            Event::Control(conn) => self.status(now, conn),
            Event::RoutesLost => self.routes.reinstate(&kernel(&self.net)),
        }
        None
    }

    /// Graceful stop: priority-0 adverts, VIPs removed, notify_stop, then exit.
    async fn stop(&mut self) -> u8 {
        log::info!("stopping");
        self.router.handle_shutdown(now());
        self.drain().await;
        self.routes.stop(&kernel(&self.net));
        self.net
            .del_vips("static", &self.routes.static_vips(), false);
        self.vmac_stop();
        if let Some(lvs) = self.lvs.take() {
            lvs.stop().await;
        }
        let t0 = std::time::Instant::now();
        while self.running.count() > 0 && t0.elapsed() < STOP_GRACE {
            smol::Timer::after(Duration::from_millis(10)).await;
        }
        // The STOP mails, but a dead mail server must not hold the stop long.
        let mail_grace = STOP_GRACE
            .saturating_sub(t0.elapsed())
            .min(Duration::from_secs(2));
        super::mail::drain(mail_grace).await;
        self.notifier.close().await;
        self.firewall.stop();
        if let Some(p) = &self.settings.control {
            let _ = std::fs::remove_file(p);
        }
        log::info!("stopped");
        0
    }
}
