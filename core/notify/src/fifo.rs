//! The lines keepalived 2.2.7 writes to its notify FIFOs, one per event,
//! each ending in `\n` (vrrp_notify.c, ipwrapper.c):
//!
//! ```text
//! INSTANCE "VI_1" MASTER 100
//! GROUP "G1" BACKUP 0
//! INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100
//! INSTANCE "VI_1" MASTER_PRIORITY 90
//! VS [192.168.1.10]:tcp:80 UP
//! RS [10.0.0.2]:tcp:80 [192.168.1.10]:tcp:80 DOWN
//! ```

use alloc::format;
use alloc::string::String;

use crate::VrrpState;

/// What an `INSTANCE` line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceEvent {
    /// A state change (or STOP at shutdown, DELETED at a reload).
    State(VrrpState),
    /// A MASTER heard an advert of lower priority (`notify_master_rx_lower_pri`).
    MasterRxLowerPri,
    /// The effective priority changed (`notify_priority_changes`), in
    /// MASTER or else.
    PriorityChanged { master: bool },
}

impl InstanceEvent {
    fn name(self) -> &'static str {
        match self {
            InstanceEvent::State(s) => s.name(),
            InstanceEvent::MasterRxLowerPri => "MASTER_RX_LOWER_PRI",
            InstanceEvent::PriorityChanged { master: true } => "MASTER_PRIORITY",
            InstanceEvent::PriorityChanged { master: false } => "BACKUP_PRIORITY",
        }
    }
}

/// `INSTANCE "NAME" EVENT PRIORITY\n` (the effective priority).
pub fn instance_line(name: &str, event: InstanceEvent, priority: u8) -> String {
    format!("INSTANCE \"{name}\" {} {priority}\n", event.name())
}

/// `GROUP "NAME" STATE 0\n`: keepalived writes priority 0 for groups.
pub fn group_line(name: &str, state: VrrpState) -> String {
    format!("GROUP \"{name}\" {} 0\n", state.name())
}

fn up_down(up: bool) -> &'static str {
    if up {
        "UP"
    } else {
        "DOWN"
    }
}

/// `VS NAME UP|DOWN\n`: a virtual server gained or lost its quorum.
pub fn vs_line(vs: &str, up: bool) -> String {
    format!("VS {vs} {}\n", up_down(up))
}

/// `RS NAME VS UP|DOWN\n`: a real server came up or went down.
pub fn rs_line(rs: &str, vs: &str, up: bool) -> String {
    format!("RS {rs} {vs} {}\n", up_down(up))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_keepalived_writes_them() {
        assert_eq!(
            instance_line("VI_1", InstanceEvent::State(VrrpState::Master), 100),
            "INSTANCE \"VI_1\" MASTER 100\n"
        );
        assert_eq!(
            instance_line("VI_1", InstanceEvent::PriorityChanged { master: false }, 70),
            "INSTANCE \"VI_1\" BACKUP_PRIORITY 70\n"
        );
        assert_eq!(
            instance_line("x", InstanceEvent::MasterRxLowerPri, 254),
            "INSTANCE \"x\" MASTER_RX_LOWER_PRI 254\n"
        );
        assert_eq!(group_line("G", VrrpState::Fault), "GROUP \"G\" FAULT 0\n");
        assert_eq!(vs_line("FWM 7", true), "VS FWM 7 UP\n");
        assert_eq!(
            rs_line("[10.0.0.2]:tcp:80", "[1.2.3.4]:tcp:80", false),
            "RS [10.0.0.2]:tcp:80 [1.2.3.4]:tcp:80 DOWN\n"
        );
    }
}
