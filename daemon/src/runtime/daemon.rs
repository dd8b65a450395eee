//! The loop itself: start-up, the event/timer race, action dispatch, shutdown.

use std::time::Duration;

use vigil_vrrp::{self as vrrp, Action, NotifyTarget, Router, RxMeta};

use super::event::Event;
use super::hooks::{self, Running};
use super::net::Net;
use super::plan::{Plan, Vip};
use super::{Settings, Spawner};
use crate::os::clock;
use crate::os::netlink::{LinkEvent, Monitor, Netlink};
use crate::os::signals::{Signal, Signals};

/// How long a stopping daemon waits for its notify_stop hooks.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub struct Daemon {
    pub(super) settings: Settings,
    pub(super) spawner: Spawner,
    pub(super) tx: smol::channel::Sender<Event>,
    rx: smol::channel::Receiver<Event>,
    pub(super) router: Router,
    pub(super) plan: Plan,
    pub(super) net: Net,
    running: Running,
    pub(super) started: std::time::Instant,
    /// What AddVips installed, per instance name: RemoveVips removes exactly
    /// that, even after a reload changed the configured list.
    installed: std::collections::HashMap<String, Vec<Vip>>,
    /// The health checkers and IPVS table, on their own thread; `None`
    /// without `virtual_server` blocks.
    lvs: Option<super::lvs::Lvs>,
}

fn now() -> vrrp::Instant {
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
        let router =
            Router::new(plan.router.clone()).map_err(|e| format!("configuration refused: {e}"))?;
        let nl = Netlink::open().map_err(|e| format!("rtnetlink: {e}"))?;
        let lvs = super::lvs::start_for(&config)?;
        // Packets are bounded (a flood must not eat memory: the kernel drops
        // instead); other events are rare.
        let (tx, rx) = smol::channel::bounded(1024);
        let mut d = Daemon {
            settings,
            spawner,
            tx,
            rx,
            router,
            plan,
            net: Net::new(nl),
            running: Running::default(),
            started: std::time::Instant::now(),
            installed: Default::default(),
            lvs,
        };
        d.spawn_signals()?;
        d.spawn_control();
        d.spawn_monitor()?;
        d.sync_links(now());
        for (name, inst) in &d.plan.instances {
            d.net.del_vips(name, &inst.vips, true);
        }
        d.open_sockets();
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

    fn spawn_monitor(&self) -> Result<(), String> {
        let mut mon = Monitor::open().map_err(|e| format!("netlink monitor: {e}"))?;
        mon.seed(&self.net.nl.links().map_err(|e| format!("netlink: {e}"))?);
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

    /// Every interface the configuration names: its own and the tracked ones.
    fn interfaces(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for i in &self.plan.router.instances {
            for n in std::iter::once(&i.interface).chain(i.track_interfaces.iter().map(|t| &t.name))
            {
                if !v.contains(n) {
                    v.push(n.clone());
                }
            }
        }
        v
    }

    /// Tells the router the state and addresses of every interface it uses.
    fn sync_links(&mut self, now: vrrp::Instant) {
        for name in self.interfaces() {
            self.sync_link(now, &name);
        }
    }

    fn sync_link(&mut self, now: vrrp::Instant, name: &str) {
        match self.net.nl.link_by_name(name) {
            Ok(link) => {
                self.router.handle_link(now, name, link.is_usable());
                let v4 = self
                    .net
                    .nl
                    .primary_ipv4(link.index)
                    .ok()
                    .flatten()
                    .map(Into::into);
                let v6 = self
                    .net
                    .nl
                    .link_local_ipv6(link.index)
                    .ok()
                    .flatten()
                    .map(Into::into);
                self.router.handle_address(now, name, vrrp::Family::V4, v4);
                self.router.handle_address(now, name, vrrp::Family::V6, v6);
            }
            Err(e) => {
                log::warn!("interface {name}: {e}");
                self.router.handle_link(now, name, false);
            }
        }
    }

    pub(super) fn open_sockets(&mut self) {
        for (name, inst) in &self.plan.instances {
            let any_mc =
                self.plan.instances.values().any(|o| {
                    o.multicast && o.interface == inst.interface && o.family == inst.family
                });
            log::debug!("({name}) on {} {:?}", inst.interface, inst.family);
            self.net.open_for(inst, any_mc, &self.spawner, &self.tx);
        }
    }

    /// Runs until stopped; returns the exit code.
    pub async fn run(mut self) -> u8 {
        loop {
            self.drain().await;
            let ev = match self.router.poll_timeout() {
                Some(deadline) => {
                    let wait = clock::until(clock::now_us(), deadline.as_micros());
                    let rx = &self.rx;
                    smol::future::or(async { rx.recv().await.ok() }, async {
                        smol::Timer::after(wait).await;
                        None
                    })
                    .await
                }
                None => self.rx.recv().await.ok(),
            };
            let now = now();
            if let Some(ev) = ev {
                if let Some(code) = self.handle(now, ev).await {
                    return code;
                }
            }
            if self.router.poll_timeout().is_some_and(|d| d <= now) {
                self.router.handle_timeout(now);
            }
        }
    }

    /// Feeds one event to the router; `Some(code)` when the daemon must exit.
    async fn handle(&mut self, now: vrrp::Instant, ev: Event) -> Option<u8> {
        match ev {
            Event::Packet {
                interface,
                v6,
                bytes,
            } => self.packet(now, &interface, v6, &bytes),
            Event::Link(l) => self.link(now, l),
            Event::ScriptDone { script, result } => {
                if let Some(id) = self.router.script_id(&script) {
                    self.router.handle_script_result(now, id, result);
                }
            }
            Event::Signal(Signal::Terminate | Signal::Interrupt) => return Some(self.stop().await),
            Event::Signal(Signal::Reload) => self.reload(now),
            Event::Signal(Signal::Child) => {}
            Event::Control(conn) => self.status(now, conn),
        }
        None
    }

    fn packet(
        &mut self,
        now: vrrp::Instant,
        interface: &str,
        v6: Option<(std::net::IpAddr, std::net::IpAddr, u8)>,
        bytes: &[u8],
    ) {
        match v6 {
            Some((src, dst, hl)) => {
                let meta = RxMeta {
                    interface,
                    src,
                    dst,
                    ttl: Some(hl),
                };
                self.router.handle_packet(now, &meta, bytes);
            }
            None => match vigil_wire::ipv4::payload(bytes) {
                Ok((ip, payload)) => {
                    let meta = RxMeta {
                        interface,
                        src: ip.src.into(),
                        dst: ip.dst.into(),
                        ttl: Some(ip.ttl),
                    };
                    self.router.handle_packet(now, &meta, payload);
                }
                Err(e) => log::debug!("{interface}: dropped a datagram: {e}"),
            },
        }
    }

    fn link(&mut self, now: vrrp::Instant, ev: LinkEvent) {
        let watched = self.interfaces();
        match ev {
            LinkEvent::Up { name, .. }
            | LinkEvent::Down { name, .. }
            | LinkEvent::Gone { name, .. } => {
                if watched.contains(&name) {
                    log::info!(
                        "interface {name} is {}",
                        if self.net.nl.link_by_name(&name).is_ok_and(|l| l.is_usable()) {
                            "up"
                        } else {
                            "down"
                        }
                    );
                    self.sync_link(now, &name);
                    self.open_sockets();
                }
            }
            LinkEvent::AddressAdded { index, .. } | LinkEvent::AddressRemoved { index, .. } => {
                if let Ok(name) = self.net.nl.ifname(index) {
                    if watched.contains(&name) {
                        self.sync_link(now, &name);
                    }
                }
            }
            LinkEvent::Resync => self.sync_links(now),
        }
    }

    /// Carries out every pending action.
    async fn drain(&mut self) {
        while let Some(a) = self.router.poll_action() {
            self.dispatch(a).await;
        }
    }

    async fn dispatch(&mut self, a: Action) {
        let name_of = |r: &Router, id| r.instance_name(id).unwrap_or("?").to_string();
        match a {
            Action::SendAdvert {
                instance,
                repr,
                src,
                dst,
                checksum,
            } => {
                let name = name_of(&self.router, instance);
                if let Some(inst) = self.plan.instances.get(&name) {
                    self.net.send_advert(inst, &repr, src, dst, checksum).await;
                }
            }
            Action::AddVips { instance } => {
                let name = name_of(&self.router, instance);
                if let Some(inst) = self.plan.instances.get(&name) {
                    self.net.add_vips(&name, &inst.vips);
                    self.installed.insert(name, inst.vips.clone());
                    self.held_changed();
                }
            }
            Action::RemoveVips { instance } => {
                let name = name_of(&self.router, instance);
                let vips = self
                    .installed
                    .remove(&name)
                    .or_else(|| self.plan.instances.get(&name).map(|i| i.vips.clone()));
                if let Some(vips) = vips {
                    self.net.del_vips(&name, &vips, false);
                }
                self.held_changed();
            }
            Action::SendGratuitous { instance, addrs } => {
                let name = name_of(&self.router, instance);
                if let Some(inst) = self.plan.instances.get(&name) {
                    let inst = inst.clone();
                    self.net.announce(&inst, &addrs).await;
                }
            }
            Action::RunScript { script, timeout } => {
                let name = self.router.script_name(script).unwrap_or("?").to_string();
                if let Some(r) = self.plan.scripts.get(&name) {
                    hooks::run_tracking(&self.spawner, &self.tx, &name, r, timeout);
                }
            }
            Action::Notify {
                target,
                state,
                priority,
            } => match target {
                NotifyTarget::Instance(id) => {
                    let name = name_of(&self.router, id);
                    if let Some(inst) = self.plan.instances.get(&name) {
                        hooks::notify(
                            &self.spawner,
                            &self.running,
                            &inst.hooks,
                            false,
                            &name,
                            state,
                            priority,
                        );
                    }
                }
                NotifyTarget::Group(id) => {
                    let Some((name, _)) = self.router.group(id) else {
                        return;
                    };
                    let name = name.to_string();
                    if let Some(h) = self.plan.groups.get(&name) {
                        hooks::notify(
                            &self.spawner,
                            &self.running,
                            h,
                            true,
                            &name,
                            state,
                            priority,
                        );
                    }
                }
            },
            Action::StateChanged {
                instance,
                from,
                to,
                reason,
            } => {
                let name = name_of(&self.router, instance);
                log::info!("({name}) Entering {to} STATE");
                log::debug!("({name}) {from} -> {to}: {reason}");
            }
        }
    }

    /// Graceful stop: priority-0 adverts, VIPs removed, notify_stop, then exit.
    async fn stop(&mut self) -> u8 {
        log::info!("stopping");
        self.router.handle_shutdown(now());
        self.drain().await;
        if let Some(lvs) = self.lvs.take() {
            lvs.stop().await;
        }
        let t0 = std::time::Instant::now();
        while self.running.count() > 0 && t0.elapsed() < STOP_GRACE {
            smol::Timer::after(Duration::from_millis(10)).await;
        }
        if let Some(p) = &self.settings.control {
            let _ = std::fs::remove_file(p);
        }
        log::info!("stopped");
        0
    }

    /// SIGHUP: read the configuration again. A configuration with errors is
    /// refused and the running one kept; otherwise the router carries unchanged
    /// instances over untouched (no VIP flap) and restarts only what changed.
    fn reload(&mut self, now: vrrp::Instant) {
        let path = self.settings.config_path.display().to_string();
        log::info!("reloading {path}");
        let config = match crate::loader::load_logged(&path) {
            Some(c) => c,
            None => {
                log::error!("reload refused: {path} has errors; the running configuration is kept");
                return;
            }
        };
        let plan = match Plan::new(&config) {
            Ok(p) => p,
            Err(e) => {
                log::error!("reload refused: {e}; the running configuration is kept");
                return;
            }
        };
        match self.router.reconfigure(now, plan.router.clone()) {
            Ok(report) => {
                log::info!("reload: {report}");
                self.reload_lvs(config);
                self.plan = plan;
                self.sync_links(now);
                self.open_sockets();
            }
            Err(e) => log::error!("reload refused: {e}; the running configuration is kept"),
        }
    }

    /// Tells the LVS thread which VIPs this host holds (`ha_suspend`).
    fn held_changed(&self) {
        if let Some(lvs) = &self.lvs {
            lvs.set_held(self.installed.values().flatten().map(|v| v.addr).collect());
        }
    }

    /// Hands a reloaded configuration to the LVS thread, starting it when
    /// the configuration gained its first `virtual_server` and stopping it
    /// when it lost the last one.
    fn reload_lvs(&mut self, config: vigil_model::Config) {
        match (&self.lvs, config.virtual_servers.is_empty()) {
            (Some(lvs), false) => lvs.reload(config),
            (Some(_), true) => {
                if let Some(lvs) = self.lvs.take() {
                    self.spawner.spawn(lvs.stop()).detach();
                }
            }
            (None, false) => match super::lvs::start_for(&config) {
                Ok(l) => {
                    self.lvs = l;
                    self.held_changed();
                }
                Err(e) => log::error!("load balancing not started: {e}"),
            },
            (None, true) => {}
        }
    }

    /// Answers a control request from the router's snapshots; the reply is sent
    /// by its own task so a slow reader never holds the loop.
    fn status(&mut self, now: vrrp::Instant, conn: crate::control::Connection) {
        use crate::control::{InstanceExtra, StatusExtra};
        let instances = self
            .router
            .instance_ids()
            .map(|id| {
                let name = self.router.instance_name(id).unwrap_or("");
                let cfg = self.plan.router.instances.iter().find(|c| c.name == name);
                let plan = self.plan.instances.get(name);
                InstanceExtra {
                    interface: cfg.map(|c| c.interface.clone()).unwrap_or_default(),
                    vrid: cfg.map_or(0, |c| c.vrid),
                    vips: plan
                        .map(|p| p.vips.iter().map(|v| (v.addr, v.prefix_len)).collect())
                        .unwrap_or_default(),
                }
            })
            .collect();
        let extra = StatusExtra {
            pid: std::process::id(),
            uptime: self.started.elapsed(),
            config_path: self.settings.config_path.clone(),
            now,
            instances,
            scripts: self
                .plan
                .router
                .scripts
                .iter()
                .map(|s| s.name.clone())
                .collect(),
            sync_groups: self
                .plan
                .router
                .sync_groups
                .iter()
                .map(|g| g.name.clone())
                .collect(),
            lvs: self.lvs.as_ref().map(|l| l.views()).unwrap_or_default(),
        };
        let body = crate::control::render(&conn.request(), &self.router, &extra);
        self.spawner
            .spawn(async move {
                if let Err(e) = conn.reply(body).await {
                    log::debug!("control reply: {e}");
                }
            })
            .detach();
    }
}
