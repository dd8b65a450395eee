//! keepalived's `vrrp_complete_instance` fixes: settings that contradict
//! each other are corrected with a warning, once, here, so that what runs
//! (core/vrrp, the daemon's plan) never has to second-guess the model.

use alloc::format;
use core::time::Duration;

use vigil_model::{Auth, InitialState, VrrpInstance, VrrpVersion};

use super::Ctx;
use crate::span::Span;

/// Most addresses an advert carries: the 8-bit count of IPv4; for IPv6 the
/// packet must stay well under a 1280-byte MTU (80 x 16 bytes).
const MAX_VIPS_V4: usize = 255;
const MAX_VIPS_V6: usize = 80;

/// Applies the fixes to a resolved instance; `at` is where it is named.
pub(super) fn apply(ctx: &mut Ctx, at: Span, inst: &mut VrrpInstance) {
    let name = inst.name.clone();
    if inst.version == VrrpVersion::V3 && inst.auth != Auth::None {
        let what = format!("({name}) VRRPv3 has no authentication; authentication ignored");
        ctx.ignored(at, what);
        inst.auth = Auth::None;
    }
    let ipv6 = inst
        .virtual_addresses
        .first()
        .is_some_and(|v| v.addr.is_ipv6());
    let max = if ipv6 { MAX_VIPS_V6 } else { MAX_VIPS_V4 };
    if inst.virtual_addresses.len() > max {
        // Still installed, just not carried in adverts. The long list
        // becomes the excluded one in place: no second copy of it.
        let mut excess = core::mem::take(&mut inst.virtual_addresses);
        inst.virtual_addresses = excess.drain(..max).collect();
        let what = format!(
            "({name}) more than {max} virtual addresses: {} moved to virtual_ipaddress_excluded",
            excess.len()
        );
        ctx.ignored(at, what);
        excess.append(&mut inst.excluded_addresses);
        inst.excluded_addresses = excess;
    }
    // The preemption fixes are reported here but applied by
    // [`effective_preempt`]: the model keeps what is written, which
    // `vigil show` prints and `vigil check --peer` compares.
    let (preempt, delay) = effective_preempt(inst);
    if preempt != inst.preempt {
        let why = if inst.priority == 255 {
            "priority 255"
        } else {
            "state MASTER"
        };
        ctx.ignored(at, format!("({name}) nopreempt with {why}; preempting"));
    }
    if delay != inst.preempt_delay {
        let why = if preempt { "state MASTER" } else { "nopreempt" };
        ctx.ignored(
            at,
            format!("({name}) preempt_delay with {why}; delay ignored"),
        );
    }
}

/// Whether an instance preempts, and after what delay, once keepalived's
/// fixes apply: an owner (priority 255) or `state MASTER` always preempts,
/// at once with `state MASTER`; `preempt_delay` means nothing with
/// `nopreempt`.
pub fn effective_preempt(inst: &VrrpInstance) -> (bool, Duration) {
    let master = inst.state == InitialState::Master;
    let preempt = inst.preempt || inst.priority == 255 || master;
    let delay = if master || !preempt {
        Duration::ZERO
    } else {
        inst.preempt_delay
    };
    (preempt, delay)
}
