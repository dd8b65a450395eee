//! The shell's side of each router instance, indexed like the router's own
//! table (`vigil_vrrp::InstanceId`): an action names its instance by id, and
//! the shell finds its plan and installed VIPs without looking names up.
//!
//! Ids follow the router across a reload: live instances take the new
//! configuration order, instances the reload stopped come after them (in
//! their old order) until the next reload, so their last actions still
//! resolve.

use vigil_vrrp::{InstanceId, ReloadReport};

use super::plan::{InstancePlan, Plan, Vip};

/// One instance as the shell runs it.
#[derive(Debug, Clone)]
pub struct Slot {
    pub name: String,
    pub plan: InstancePlan,
    /// What AddVips installed: RemoveVips removes exactly that, even after a
    /// reload changed the configured list.
    pub installed: Option<Vec<Vip>>,
}

/// Live slots in router order, then the ones the last reload stopped.
#[derive(Debug, Default)]
pub struct Slots {
    live: Vec<Option<Slot>>,
    retired: Vec<Slot>,
}

fn slots_of(plan: &Plan) -> Vec<Option<Slot>> {
    plan.router
        .instances
        .iter()
        .map(|c| {
            let p = plan.instances.get(&c.name)?;
            Some(Slot {
                name: c.name.clone(),
                plan: p.clone(),
                installed: None,
            })
        })
        .collect()
}

impl Slots {
    pub fn new(plan: &Plan) -> Slots {
        Slots {
            live: slots_of(plan),
            retired: Vec::new(),
        }
    }

    /// Follow a successful `Router::reconfigure` to `plan`: kept and updated
    /// instances carry their installed VIPs to their new id; removed and
    /// restarted ones become the retired slots, numbered as the router does.
    pub fn reload(&mut self, plan: &Plan, report: &ReloadReport) {
        let mut old = std::mem::take(&mut self.live);
        let mut live = slots_of(plan);
        for (from, to) in &report.instance_ids {
            let installed = old
                .get_mut(from.index())
                .and_then(Option::as_mut)
                .and_then(|s| s.installed.take());
            if let Some(Some(s)) = live.get_mut(to.index()) {
                s.installed = installed;
            }
        }
        let stopped = |n: &str| {
            report
                .removed
                .iter()
                .chain(&report.restarted)
                .any(|r| r == n)
        };
        self.retired = old
            .into_iter()
            .flatten()
            .filter(|s| stopped(&s.name))
            .collect();
        self.live = live;
    }

    pub fn get(&self, id: InstanceId) -> Option<&Slot> {
        let n = id.index();
        match n.checked_sub(self.live.len()) {
            None => self.live.get(n).and_then(Option::as_ref),
            Some(r) => self.retired.get(r),
        }
    }

    pub fn get_mut(&mut self, id: InstanceId) -> Option<&mut Slot> {
        let n = id.index();
        match n.checked_sub(self.live.len()) {
            None => self.live.get_mut(n).and_then(Option::as_mut),
            Some(r) => self.retired.get_mut(r),
        }
    }

    /// The plans of the live instances.
    pub fn live(&self) -> impl Iterator<Item = &InstancePlan> {
        self.live.iter().flatten().map(|s| &s.plan)
    }

    /// Every VIP installed now, by live and retired instances alike.
    pub fn installed(&self) -> impl Iterator<Item = &Vip> {
        self.live
            .iter()
            .flatten()
            .chain(self.retired.iter())
            .flat_map(|s| s.installed.iter().flatten())
    }

    /// What no_accept drops now: each instance holding VIPs, by name.
    pub fn dropped(&self) -> Vec<(String, Vec<std::net::IpAddr>)> {
        self.live
            .iter()
            .flatten()
            .chain(self.retired.iter())
            .filter(|s| s.installed.is_some())
            .map(|s| (s.name.clone(), s.plan.dropped()))
            .collect()
    }

    /// The plans of the live and the retired instances.
    pub fn all(&self) -> impl Iterator<Item = &InstancePlan> {
        self.live().chain(self.retired.iter().map(|s| &s.plan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_vrrp::{Action, Family, Instant, Router};

    fn plan(tag: &str, instances: &[(&str, u8)]) -> Plan {
        let mut text = String::new();
        for (name, vrid) in instances {
            text.push_str(&format!(
                "vrrp_instance {name} {{\n interface eth0\n virtual_router_id {vrid}\n \
                 priority 100\n virtual_ipaddress {{\n  10.0.0.{vrid}/24\n }}\n}}\n"
            ));
        }
        let dir = std::env::temp_dir().join(format!("vigil-slots-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.conf");
        std::fs::write(&path, text).unwrap();
        let loaded = crate::loader::load(path.to_str().unwrap(), Default::default());
        std::fs::remove_dir_all(&dir).unwrap();
        let Ok((config, _)) = loaded else {
            panic!("{tag} does not load")
        };
        Plan::new(&config).unwrap()
    }

    fn id_of(a: &Action) -> Option<InstanceId> {
        match a {
            Action::SendAdvert { instance, .. }
            | Action::AddVips { instance }
            | Action::RemoveVips { instance }
            | Action::SendGratuitous { instance, .. }
            | Action::StateChanged { instance, .. } => Some(*instance),
            _ => None,
        }
    }

    #[test]
    fn slots_follow_the_router_ids_across_a_reload() {
        let a = plan("a", &[("VI_1", 1), ("VI_2", 2), ("VI_3", 3)]);
        let mut r = Router::new(a.router.clone());
        r.handle_address(
            Instant::ZERO,
            "eth0",
            Family::V4,
            Some([10, 0, 0, 9].into()),
        );
        r.handle_start(Instant::ZERO);
        while r.poll_action().is_some() {}
        let mut slots = Slots::new(&a);
        let vi3 = r.instance_id("VI_3").unwrap();
        slots.get_mut(vi3).unwrap().installed = Some(slots.get(vi3).unwrap().plan.vips.clone());

        // VI_3 kept (now first), VI_1 restarted (new VRID), VI_2 removed, VI_4 added.
        let b = plan("b", &[("VI_3", 3), ("VI_1", 11), ("VI_4", 4)]);
        let report = r.reconfigure(Instant::from_secs(1), b.router.clone());
        slots.reload(&b, &report);
        for id in r.instance_ids() {
            assert_eq!(slots.get(id).map(|s| s.name.as_str()), r.instance_name(id));
        }
        // The stopped instances' actions carry ids after the live ones.
        let mut retired = Vec::new();
        while let Some(act) = r.poll_action() {
            let Some(id) = id_of(&act) else { continue };
            let name = slots.get(id).map(|s| s.name.clone());
            assert_eq!(name.as_deref(), r.instance_name(id), "{act:?}");
            if id.index() >= 3 {
                retired.extend(name);
            }
        }
        retired.dedup();
        assert_eq!(retired, vec!["VI_1".to_string(), "VI_2".to_string()]);
        let vi3 = r.instance_id("VI_3").unwrap();
        assert_eq!(vi3.index(), 0);
        assert!(
            slots.get(vi3).unwrap().installed.is_some(),
            "kept VIPs follow"
        );
        assert_eq!(slots.live().count(), 3);
        assert_eq!(slots.all().count(), 5);
    }
}
