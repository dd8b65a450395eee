//! Carrying out the router's actions: adverts (batched), VIPs, gratuitous
//! ARP/NA, tracking scripts, notifications and state changes.

use vigil_vrrp::{self as vrrp, Action, NotifyTarget, Router};

use super::Daemon;
use crate::runtime::hooks;
use crate::runtime::routes::kernel;

impl Daemon {
    /// Carries out every pending action.
    /// Adverts are queued and go out together (one sendmmsg per socket),
    /// before any other action and at the end, so their order relative to
    /// the rest (an advert before the ARPs of a new master) holds.
    pub(in crate::runtime) async fn drain(&mut self) {
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
}
