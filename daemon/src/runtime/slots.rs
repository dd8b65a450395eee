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

    /// The plans of the live and the retired instances.
    pub fn all(&self) -> impl Iterator<Item = &InstancePlan> {
        self.live().chain(self.retired.iter().map(|s| &s.plan))
    }
}
