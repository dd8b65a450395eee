//! The loop itself: start-up, the event/timer race, action dispatch, shutdown.

use std::time::Duration;

use vigil_vrrp::{self as vrrp, Action, NotifyTarget, Router};

use super::ah_net::AhNet;
use super::event::Event;
use super::hooks::{self, Running};
use super::net::Net;
use super::plan::Plan;
use super::routes::{kernel, Routes};
use super::slots::Slots;
use super::{Settings, Spawner};
use crate::os::clock;
use crate::os::netlink::{LinkEvent, LinkTable, Monitor, Netlink};
use crate::os::signals::{Signal, Signals};

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

    /// Every interface the configuration names: its own and the tracked ones.
    fn interfaces(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        let groups = self.plan.router.sync_groups.iter();
        let group_ifs = groups.flat_map(|g| g.track_interfaces.iter().map(|t| &t.name));
        for i in &self.plan.router.instances {
            let own = i.track_interfaces.iter().map(|t| &t.name);
            for n in std::iter::once(&i.interface)
                .chain(own)
                .chain(group_ifs.clone())
            {
                if !v.contains(n) {
                    v.push(n.clone());
                }
            }
        }
        v
    }

    /// Tells the router the state and addresses of every interface it uses.
    pub(super) fn sync_links(&mut self, now: vrrp::Instant) {
        for name in self.interfaces() {
            self.sync_link(now, &name);
        }
    }

    /// The link table's state of `name` and its advert sources (one address
    /// dump) to the router; an interface that is not there is down and has
    /// no address.
    fn sync_link(&mut self, now: vrrp::Instant, name: &str) {
        let Some((index, usable)) = self.net.links.by_name(name).map(|l| (l.index, l.usable))
        else {
            log::debug!("interface {name}: not present");
            self.router.handle_link(now, name, false);
            self.router
                .handle_address(now, name, vrrp::Family::V4, None);
            self.router
                .handle_address(now, name, vrrp::Family::V6, None);
            return;
        };
        self.router.handle_link(now, name, usable);
        match self.net.nl.source_addresses(index) {
            Ok((v4, v6)) => {
                let (v4, v6) = (v4.map(Into::into), v6.map(Into::into));
                self.router.handle_address(now, name, vrrp::Family::V4, v4);
                self.router.handle_address(now, name, vrrp::Family::V6, v6);
            }
            Err(e) => log::warn!("addresses of {name}: {e}"),
        }
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

    fn link(&mut self, now: vrrp::Instant, ev: LinkEvent) {
        let watched = self.interfaces();
        match &ev {
            LinkEvent::Up { index, .. }
            | LinkEvent::Down { index, .. }
            | LinkEvent::Gone { index, .. } => {
                let index = *index;
                for name in self.net.links.apply(&ev) {
                    if !watched.contains(&name) {
                        continue;
                    }
                    let state = match self.net.links.by_name(&name) {
                        None => "gone",
                        Some(l) if l.usable => "up",
                        Some(_) => "down",
                    };
                    let index = self.net.links.index_of(&name).unwrap_or(index);
                    log::info!("interface {name} (index {index}) is {state}");
                    self.sync_link(now, &name);
                }
                self.open_sockets();
                if matches!(ev, LinkEvent::Up { .. }) {
                    // The kernel flushed the routes of a link that went down.
                    self.routes.reinstate(&kernel(&self.net));
                }
            }
            LinkEvent::AddressAdded { index, .. } => self.sync_index(now, *index, &watched),
            LinkEvent::AddressRemoved { index, addr, .. } => {
                self.sync_index(now, *index, &watched);
                self.vip_removed(*index, *addr);
                self.static_removed(*index, *addr);
            }
            LinkEvent::Resync => {
                match self.net.nl.links() {
                    Ok(l) => self.net.links.reset(&l),
                    Err(e) => log::warn!("netlink resync: {e}"),
                }
                self.sync_links(now);
                self.open_sockets();
            }
        }
        self.vmac_link_event(&ev);
    }

    fn sync_index(&mut self, now: vrrp::Instant, index: u32, watched: &[String]) {
        if let Some(name) = self.net.links.name_of(index).map(str::to_string) {
            if watched.contains(&name) {
                self.sync_link(now, &name);
            }
        }
    }

    /// A VIP removed from under a master (`ip addr del`) is put back at once:
    /// the master keeps advertising it, so its clients would lose it silently.
    /// Our own removals clear `installed` first, and an interface going down
    /// or away faults its instances first, so neither comes back.
    fn vip_removed(&mut self, index: u32, addr: std::net::IpAddr) {
        let usable = self.net.links.by_index(index).is_some_and(|l| l.usable);
        if !usable {
            return;
        }
        let mut lost = Vec::new();
        for id in self.router.instance_ids() {
            let master = self
                .router
                .instance(id)
                .is_some_and(|i| i.state == vrrp::State::Master);
            let Some(slot) = self.slots.get(id).filter(|_| master) else {
                continue;
            };
            for v in slot.installed.iter().flatten() {
                if v.addr == addr && self.net.links.index_of(&v.dev) == Some(index) {
                    lost.push((slot.name.clone(), v.clone()));
                }
            }
        }
        for (name, v) in lost {
            self.net.restore_vip(&name, &v);
        }
    }

    /// Carries out every pending action.
    /// Adverts are queued and go out together (one sendmmsg per socket),
    /// before any other action and at the end, so their order relative to
    /// the rest (an advert before the ARPs of a new master) holds.
    pub(super) async fn drain(&mut self) {
        while let Some(a) = self.router.poll_action() {
            self.breather.breathe();
            // AH adverts go out one by one in order (dispatch), after the queue.
            if let Action::SendAdvert {
                instance,
                repr,
                src,
                dst,
                checksum,
                ah_seq: None,
            } = &a
            {
                if let Some(slot) = self.slots.get(*instance) {
                    self.net
                        .queue_advert(&slot.plan, repr, *src, *dst, *checksum);
                }
                continue;
            }
            self.net.flush_adverts().await;
            self.dispatch(a).await;
        }
        self.notifier.watch(&self.router, &self.running);
        self.net.flush_adverts().await;
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
                ah_seq,
            } => {
                if let Some(slot) = self.slots.get(instance) {
                    match ah_seq {
                        Some(seq) => {
                            let links = &self.net.links;
                            self.ah
                                .send_advert(links, &slot.plan, &repr, (src, dst), seq)
                                .await
                        }
                        None => {
                            self.net.queue_advert(&slot.plan, &repr, src, dst, checksum);
                        }
                    }
                }
                self.net.flush_adverts().await;
            }
            Action::AddVips { instance } => {
                if let Some(slot) = self.slots.get_mut(instance) {
                    self.firewall.sync(&slot.name, slot.plan.dropped());
                    self.net.add_vips(&slot.name, &slot.plan.vips);
                    slot.installed = Some(slot.plan.vips.clone());
                    self.routes.master(&kernel(&self.net), &slot.name);
                }
                self.held_changed();
            }
            Action::RemoveVips { instance } => {
                if let Some(slot) = self.slots.get_mut(instance) {
                    self.routes.leave_master(&kernel(&self.net), &slot.name);
                    let vips = slot
                        .installed
                        .take()
                        .unwrap_or_else(|| slot.plan.vips.clone());
                    self.net.del_vips(&slot.name, &vips, false);
                    self.firewall.sync(&slot.name, Vec::new());
                }
                self.held_changed();
            }
            Action::SendGratuitous { instance, addrs } => {
                if let Some(slot) = self.slots.get(instance) {
                    let inst = slot.plan.clone();
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
                    if let Some(slot) = self.slots.get(id) {
                        self.notifier.notify(
                            &self.running,
                            &slot.plan.hooks,
                            false,
                            &slot.name,
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
                        self.notifier
                            .notify(&self.running, h, true, &name, state, priority);
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
                if let Some(lvs) = &self.lvs {
                    lvs.vrrp_state(&name, to == vrrp::State::Master);
                }
            }
        }
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

    /// Tells the LVS thread which VIPs this host holds (`ha_suspend`).
    fn held_changed(&self) {
        if let Some(lvs) = &self.lvs {
            lvs.set_held(self.slots.installed().map(|v| v.addr).collect());
        }
    }

    /// Tells a newly started LVS thread every instance's state.
    fn vrrp_states_to_lvs(&self) {
        let Some(lvs) = &self.lvs else { return };
        for id in self.router.instance_ids() {
            if let Some(s) = self.router.instance(id) {
                lvs.vrrp_state(s.name, s.state == vrrp::State::Master);
            }
        }
    }

    /// Hands a reloaded configuration to the LVS thread, starting it when
    /// the configuration gained its first `virtual_server` and stopping it
    /// when it lost the last one.
    pub(super) fn reload_lvs(&mut self, config: vigil_model::Config) {
        match (&self.lvs, !super::lvs::needed(&config)) {
            (Some(lvs), false) => lvs.reload(config),
            (Some(_), true) => {
                if let Some(lvs) = self.lvs.take() {
                    self.spawner.spawn(lvs.stop()).detach();
                }
            }
            (None, false) => match super::lvs::start_for(config) {
                Ok(l) => {
                    self.lvs = l;
                    self.held_changed();
                    self.vrrp_states_to_lvs();
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
