//! The lifecycle of routes, rules and static addresses, as keepalived 2.2.7
//! runs them:
//! - `static_ipaddress`, `static_routes`, `static_rules`: leftovers of an
//!   earlier run removed at start, then installed; put back when removed
//!   from outside (unless `no_track`; a route without `dev` is not tracked,
//!   as in keepalived); removed at stop.
//! - `virtual_routes`, `virtual_rules`: installed after an instance's VIPs
//!   when it becomes MASTER, removed before them when it leaves MASTER
//!   (and at stop). vigil puts back a tracked one removed while MASTER, as
//!   it does for VIPs (keepalived 2.2.7 drops to BACKUP instead).
//! - reload: removed or changed entries deleted, new or changed ones added.
//!
//! A kernel refusal is one log line naming the entry and the errno; nothing
//! here stops the daemon.

use std::collections::{HashMap, HashSet};

use vigil_model::{Config, Route, Rule, RuleAction, Table, VirtualAddress};

use std::time::Duration;

use super::daemon::Daemon;
use super::event::Event;
use super::net::Net;
use super::plan::Vip;
use crate::os::netlink::route::{self, RouteTarget};
use crate::os::netlink::watch::RouteWatch;
use crate::os::netlink::{Change, LinkTable, Netlink, NetlinkError, Scope};

/// One instance's virtual entries.
#[derive(Debug, Clone, Default, PartialEq)]
struct Virtual {
    routes: Vec<Route>,
    rules: Vec<Rule>,
}

/// What is installed and what the configuration asks for.
pub struct Routes {
    /// `/etc/iproute2/rt_tables`, read at start and at each reload.
    tables: Vec<(String, u32)>,
    addresses: Vec<VirtualAddress>,
    routes: Vec<Route>,
    rules: Vec<Rule>,
    virtuals: HashMap<String, Virtual>,
    /// Instances whose virtual entries are installed (MASTER).
    installed: HashSet<String>,
}

/// The kernel's view needed to send an entry: interface indexes.
pub struct Kernel<'a> {
    pub nl: &'a Netlink,
    pub links: &'a LinkTable,
}

fn virtuals_of(config: &Config) -> HashMap<String, Virtual> {
    config
        .instances
        .iter()
        .map(|i| {
            let v = Virtual {
                routes: i.virtual_routes.clone(),
                rules: i.virtual_rules.clone(),
            };
            (i.name.clone(), v)
        })
        .collect()
}

fn vip_of(a: &VirtualAddress) -> Option<Vip> {
    Some(Vip {
        addr: a.addr,
        prefix_len: a.prefix_len,
        dev: a.dev.clone()?,
        label: a.label.clone(),
        broadcast: a.broadcast,
        scope: Scope::from(a.scope.kernel_value()),
    })
}

/// Tracked: put back when removed from outside.
fn route_tracked(r: &Route) -> bool {
    !r.no_track && r.dev.is_some()
}

impl Routes {
    pub fn new(config: &Config) -> Routes {
        Routes {
            tables: route::rt_tables(),
            addresses: config.static_addresses.clone(),
            routes: config.static_routes.clone(),
            rules: config.static_rules.clone(),
            virtuals: virtuals_of(config),
            installed: HashSet::new(),
        }
    }

    /// True if there is nothing to manage (no watcher needed).
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
            && self.routes.is_empty()
            && self.rules.is_empty()
            && self
                .virtuals
                .values()
                .all(|v| v.routes.is_empty() && v.rules.is_empty())
    }

    /// The static addresses as the shell's VIPs (for add/remove logging).
    pub fn static_vips(&self) -> Vec<Vip> {
        self.addresses.iter().filter_map(vip_of).collect()
    }

    /// The static addresses put back when removed (not `no_track`).
    fn tracked_static_vips(&self) -> Vec<Vip> {
        let tracked = self.addresses.iter().filter(|a| !a.no_track);
        tracked.filter_map(vip_of).collect()
    }

    fn table(&self, who: &str, t: &Table) -> Option<u32> {
        match t {
            Table::Id(n) => Some(*n),
            Table::Name(n) => {
                let id = self.tables.iter().find(|(name, _)| name == n).map(|e| e.1);
                if id.is_none() {
                    log::debug!("{who}: skipped: table {n} is not in /etc/iproute2/rt_tables");
                }
                id
            }
        }
    }

    /// The table and interface indexes of `r`; `Err` names a missing
    /// interface (the caller decides whether that is worth a line).
    fn target(&self, k: &Kernel, who: &str, r: &Route) -> Option<Result<RouteTarget, String>> {
        let table = self.table(who, &r.table)?;
        let index = |dev: &Option<String>| -> Result<Option<u32>, String> {
            match dev {
                None => Ok(None),
                Some(d) => k.links.index_of(d).map(Some).ok_or_else(|| d.clone()),
            }
        };
        let found = index(&r.dev).and_then(|oif| {
            let nh: Result<Vec<_>, _> = r.nexthops.iter().map(|n| index(&n.dev)).collect();
            Ok((oif, nh?))
        });
        Some(found.map(|(oif, nexthop_oifs)| RouteTarget {
            table,
            oif,
            nexthop_oifs,
        }))
    }

    fn rule_table(&self, who: &str, r: &Rule) -> Option<u32> {
        match &r.action {
            RuleAction::Table(t) => self.table(who, t),
            _ => Some(0),
        }
    }

    fn add_route(&self, k: &Kernel, who: &str, r: &Route, restore: bool) {
        let t = match self.target(k, who, r) {
            Some(Ok(t)) => t,
            Some(Err(dev)) => {
                return log::error!("{who}: cannot add route {r}: no interface {dev}")
            }
            None => return,
        };
        match k.nl.add_route(r, &t) {
            Ok(Change::Applied) if restore => {
                log::warn!("{who}: route {r} was removed: restored")
            }
            Ok(_) => log::debug!("{who}: route {r} added"),
            Err(e) => log::error!("{who}: cannot add route {r}: {}", refusal(&e)),
        }
    }

    fn del_route(&self, k: &Kernel, who: &str, r: &Route) {
        // An interface that is gone took its routes with it.
        let Some(Ok(t)) = self.target(k, who, r) else {
            return;
        };
        match k.nl.del_route(r, &t) {
            Ok(Change::Applied) => log::debug!("{who}: route {r} removed"),
            Ok(Change::Unchanged) => {}
            Err(e) => log::error!("{who}: cannot remove route {r}: {}", refusal(&e)),
        }
    }

    fn add_rule(&self, k: &Kernel, who: &str, r: &Rule, restore: bool) {
        let Some(t) = self.rule_table(who, r) else {
            return;
        };
        match k.nl.add_rule(r, t) {
            Ok(Change::Applied) if restore => log::warn!("{who}: rule {r} was removed: restored"),
            Ok(_) => log::debug!("{who}: rule {r} added"),
            Err(e) => log::error!("{who}: cannot add rule {r}: {}", refusal(&e)),
        }
    }

    fn del_rule(&self, k: &Kernel, who: &str, r: &Rule) {
        let Some(t) = self.rule_table(who, r) else {
            return;
        };
        match k.nl.del_rule(r, t) {
            Ok(Change::Applied) => log::debug!("{who}: rule {r} removed"),
            Ok(Change::Unchanged) => {}
            Err(e) => log::error!("{who}: cannot remove rule {r}: {}", refusal(&e)),
        }
    }

    /// Rules then routes go (a rule may point at a table of these routes).
    fn del_all(&self, k: &Kernel, who: &str, routes: &[Route], rules: &[Rule]) {
        for r in rules {
            self.del_rule(k, who, r);
        }
        for r in routes {
            self.del_route(k, who, r);
        }
    }

    /// Routes then rules come, the order keepalived uses.
    fn add_all(&self, k: &Kernel, who: &str, routes: &[Route], rules: &[Rule]) {
        for r in routes {
            self.add_route(k, who, r, false);
        }
        for r in rules {
            self.add_rule(k, who, r, false);
        }
    }

    /// Start: sweep what an earlier run may have left (static and virtual),
    /// then install the static routes and rules. The static addresses are
    /// the caller's (they go through the VIP code).
    pub fn start(&mut self, k: &Kernel) {
        self.report_unknown_tables();
        for (name, v) in &self.virtuals {
            self.del_all(k, &format!("({name})"), &v.routes, &v.rules);
        }
        self.del_all(k, "static", &self.routes, &self.rules);
        self.add_all(k, "static", &self.routes, &self.rules);
    }

    /// One line per table name `/etc/iproute2/rt_tables` lacks, at start and
    /// reload: the entries naming it are skipped (keepalived refuses them).
    fn report_unknown_tables(&self) {
        let route_tables = self.routes.iter().map(|r| &r.table);
        let rule_tables = self.rules.iter().filter_map(|r| match &r.action {
            RuleAction::Table(t) => Some(t),
            _ => None,
        });
        let virtual_tables = self.virtuals.values().flat_map(|v| {
            let rt = v.routes.iter().map(|r| &r.table);
            rt.chain(v.rules.iter().filter_map(|r| match &r.action {
                RuleAction::Table(t) => Some(t),
                _ => None,
            }))
        });
        let mut seen = HashSet::new();
        for t in route_tables.chain(rule_tables).chain(virtual_tables) {
            if let Table::Name(n) = t {
                if !self.tables.iter().any(|(name, _)| name == n) && seen.insert(n.clone()) {
                    log::error!(
                        "routing table {n} is not in /etc/iproute2/rt_tables: \
                         the routes and rules naming it are skipped"
                    );
                }
            }
        }
    }

    /// `instance` became MASTER (its VIPs are in): add its virtual entries.
    pub fn master(&mut self, k: &Kernel, instance: &str) {
        let Some(v) = self.virtuals.get(instance) else {
            return;
        };
        self.add_all(k, &format!("({instance})"), &v.routes, &v.rules);
        self.installed.insert(instance.to_string());
    }

    /// `instance` leaves MASTER (before its VIPs go): remove them.
    pub fn leave_master(&mut self, k: &Kernel, instance: &str) {
        self.installed.remove(instance);
        let Some(v) = self.virtuals.get(instance) else {
            return;
        };
        self.del_all(k, &format!("({instance})"), &v.routes, &v.rules);
    }

    /// Stop: whatever virtual entries are still in, then the static ones.
    pub fn stop(&mut self, k: &Kernel) {
        let names: Vec<String> = self.installed.iter().cloned().collect();
        for n in names {
            self.leave_master(k, &n);
        }
        self.del_all(k, "static", &self.routes, &self.rules);
    }

    /// Something of ours was deleted: put back every tracked entry that is
    /// installed (adding what is there already changes nothing).
    pub fn reinstate(&self, k: &Kernel) {
        for r in self.routes.iter().filter(|r| route_tracked(r)) {
            self.add_route(k, "static", r, true);
        }
        for r in self.rules.iter().filter(|r| !r.no_track) {
            self.add_rule(k, "static", r, true);
        }
        for name in &self.installed {
            let Some(v) = self.virtuals.get(name) else {
                continue;
            };
            let who = format!("({name})");
            for r in v.routes.iter().filter(|r| route_tracked(r)) {
                self.add_route(k, &who, r, true);
            }
            for r in v.rules.iter().filter(|r| !r.no_track) {
                self.add_rule(k, &who, r, true);
            }
        }
    }

    /// Reload: the entries of the new configuration replace the old ones;
    /// removed and changed ones are deleted, new and changed ones added
    /// (for virtual ones, only where the instance is MASTER). Returns the
    /// static addresses that went and those that came (for the caller).
    pub fn reload(&mut self, k: &Kernel, config: &Config) -> (Vec<Vip>, Vec<Vip>) {
        self.tables = route::rt_tables();
        let new_virtuals = virtuals_of(config);
        for name in self.installed.clone() {
            let old = self.virtuals.get(&name).cloned().unwrap_or_default();
            let new = new_virtuals.get(&name).cloned().unwrap_or_default();
            if !new_virtuals.contains_key(&name) {
                self.installed.remove(&name);
            }
            self.swap(k, &format!("({name})"), &old, &new);
        }
        let old = Virtual {
            routes: std::mem::take(&mut self.routes),
            rules: std::mem::take(&mut self.rules),
        };
        let new = Virtual {
            routes: config.static_routes.clone(),
            rules: config.static_rules.clone(),
        };
        self.swap(k, "static", &old, &new);
        self.routes = new.routes;
        self.rules = new.rules;
        self.virtuals = new_virtuals;
        let gone = self
            .addresses
            .iter()
            .filter(|a| !config.static_addresses.contains(a))
            .filter_map(vip_of)
            .collect();
        let came = config
            .static_addresses
            .iter()
            .filter(|a| !self.addresses.contains(a))
            .filter_map(vip_of)
            .collect();
        self.addresses = config.static_addresses.clone();
        self.report_unknown_tables();
        (gone, came)
    }

    fn swap(&self, k: &Kernel, who: &str, old: &Virtual, new: &Virtual) {
        let gone_routes: Vec<Route> = diff(&old.routes, &new.routes);
        let gone_rules: Vec<Rule> = diff(&old.rules, &new.rules);
        self.del_all(k, who, &gone_routes, &gone_rules);
        let new_routes: Vec<Route> = diff(&new.routes, &old.routes);
        let new_rules: Vec<Rule> = diff(&new.rules, &old.rules);
        self.add_all(k, who, &new_routes, &new_rules);
    }
}

/// The entries of `a` that are not in `b`.
fn diff<T: PartialEq + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// A netlink error as a log line's tail: the errno for a kernel refusal.
fn refusal(e: &NetlinkError) -> String {
    match e {
        NetlinkError::Kernel(errno) => format!("kernel refused: {} ({})", errno.desc(), errno),
        other => other.to_string(),
    }
}

/// The daemon's side: start-up, the removal watcher, static addresses.
impl Daemon {
    /// Static addresses, routes and rules in (leftovers swept first), and
    /// the watcher that reports their removal.
    pub(super) fn start_routes(&mut self) -> Result<(), String> {
        let vips = self.routes.static_vips();
        self.net.del_vips("static", &vips, false);
        self.net.add_vips("static", &vips);
        self.routes.start(&kernel(&self.net));
        if self.routes.is_empty() {
            return Ok(());
        }
        let mut watch = RouteWatch::open().map_err(|e| format!("netlink route watch: {e}"))?;
        let tx = self.tx.clone();
        self.spawner
            .spawn(async move {
                loop {
                    match watch.next().await {
                        Ok(()) => {
                            if tx.send(Event::RoutesLost).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            log::warn!("netlink route watch: {e}");
                            smol::Timer::after(Duration::from_millis(200)).await;
                        }
                    }
                }
            })
            .detach();
        Ok(())
    }

    /// A static address removed from outside is put back (keepalived does).
    pub(super) fn static_removed(&mut self, index: u32, addr: std::net::IpAddr) {
        let usable = self.net.links.by_index(index).is_some_and(|l| l.usable);
        for v in self.routes.tracked_static_vips() {
            if usable && v.addr == addr && self.net.links.index_of(&v.dev) == Some(index) {
                self.net.restore_vip("static", &v);
            }
        }
    }
}

/// The request socket and link table of `net`, as the calls here take them.
pub(super) fn kernel(net: &Net) -> Kernel<'_> {
    Kernel {
        nl: &net.nl,
        links: &net.links,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::Prefix;

    #[test]
    fn diff_keeps_order_and_finds_changed() {
        let r = |len| {
            Route::new(Prefix {
                addr: "10.0.0.0".parse().unwrap(),
                len,
            })
        };
        let mut changed = r(8);
        changed.metric = Some(5);
        let old = vec![r(8), r(16), r(24)];
        let new = vec![changed.clone(), r(24)];
        assert_eq!(diff(&old, &new), vec![r(8), r(16)]);
        assert_eq!(diff(&new, &old), vec![changed]);
    }

    #[test]
    fn untracked_routes() {
        let mut r = Route::new(Prefix {
            addr: "10.0.0.0".parse().unwrap(),
            len: 8,
        });
        assert!(!route_tracked(&r));
        r.dev = Some("eth0".into());
        assert!(route_tracked(&r));
        r.no_track = true;
        assert!(!route_tracked(&r));
    }
}
