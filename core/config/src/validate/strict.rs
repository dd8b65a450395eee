//! `vrrp_strict` (global) and `strict_mode` (per instance): keepalived
//! 2.2.7's refusals and forced settings for strict RFC conformance
//! (vrrp.c, `vrrp_complete_instance`). Refusals are errors; what keepalived
//! resets and carries on with is a warning and the reset value.

use alloc::format;

use vigil_model::{Auth, InitialState, VrrpInstance, VrrpVersion};

use super::Ctx;
use crate::error::Problem;
use crate::span::Span;

/// Where an instance's findings are reported.
pub(super) struct Spans {
    /// The instance's name.
    pub at: Span,
    /// The first `unicast_peer`, if any.
    pub peer: Option<Span>,
    /// The first virtual address, if any.
    pub vip: Option<Span>,
}

/// Applies strict mode to one resolved instance.
pub(super) fn instance(ctx: &mut Ctx, s: &Spans, i: &mut VrrpInstance) {
    let owner = i.priority == 255;
    if i.virtual_addresses.is_empty() {
        let p = Problem::Strict("no virtual_ipaddress: at least one is required".into());
        ctx.error(s.at, p);
    }
    if (i.state == InitialState::Master) != owner {
        let to = if owner { "MASTER" } else { "BACKUP" };
        let what =
            format!("state MASTER must match being the address owner (priority 255); state {to}");
        ctx.warn(s.at, Problem::Strict(what));
        i.state = if owner {
            InitialState::Master
        } else {
            InitialState::Backup
        };
    }
    if i.auth != Auth::None {
        let p = Problem::Strict("authentication is not supported; ignored".into());
        ctx.warn(s.at, p);
        i.auth = Auth::None;
    }
    if !i.unicast_peers.is_empty() {
        let p = Problem::Strict("unicast peers are not supported".into());
        ctx.error(s.peer.unwrap_or(s.at), p);
    }
    if let Some(core::net::IpAddr::V6(a)) = i.virtual_addresses.first().map(|v| v.addr) {
        if (a.segments()[0] & 0xffc0) != 0xfe80 {
            let p = Problem::Strict(format!("the first IPv6 VIP must be link local ({a})"));
            ctx.warn(s.vip.unwrap_or(s.at), p);
        }
    }
    if !i.preempt_delay.is_zero() {
        let p = Problem::Strict("preempt_delay is incompatible; reset to 0".into());
        ctx.warn(s.at, p);
        i.preempt_delay = core::time::Duration::ZERO;
    }
    if i.accept && !owner && i.version == VrrpVersion::V2 {
        let what = "accept mode for VRRP version 2 does not comply with RFC 3768; no_accept";
        ctx.warn(s.at, Problem::Strict(what.into()));
        i.accept = false;
    }
}
