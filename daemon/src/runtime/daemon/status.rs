//! Control-socket status replies, built from the router's snapshots.

use vigil_vrrp as vrrp;

use super::Daemon;

impl Daemon {
    /// Answers a control request from the router's snapshots; the reply is sent
    /// by its own task so a slow reader never holds the loop.
    pub(super) fn status(&mut self, now: vrrp::Instant, conn: crate::control::Connection) {
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
