//! What the LVS thread learns from the VRRP side: held VIPs, instance
//! states, and reloaded configurations.

use vigil_vrrp as vrrp;

use super::Daemon;

impl Daemon {
    /// Tells the LVS thread which VIPs this host holds (`ha_suspend`).
    pub(super) fn held_changed(&self) {
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
    pub(in crate::runtime) fn reload_lvs(&mut self, config: vigil_model::Config) {
        match (&self.lvs, !crate::runtime::lvs::needed(&config)) {
            (Some(lvs), false) => lvs.reload(config),
            (Some(_), true) => {
                if let Some(lvs) = self.lvs.take() {
                    self.spawner.spawn(lvs.stop()).detach();
                }
            }
            (None, false) => match crate::runtime::lvs::start_for(config) {
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
}
