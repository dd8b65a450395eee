//! Tracking weights: does a failed check move the VIP to the peer?
//!
//! keepalived's rule: a positive weight is added while the check is OK, a
//! negative one while it fails (`reverse` swaps the two); weight 0 means
//! FAULT, which always moves the VIP. The effective priority is clamped to
//! 1..=254.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vigil_model::VrrpInstance;

use super::{Out, Rule};
use crate::error::Severity::{Error, Warning};

struct Tracker {
    /// `track_script`, `track_interface` or `track_process`.
    block: &'static str,
    name: String,
    weight: i32,
    reverse: bool,
}

impl Tracker {
    fn ok(&self) -> i32 {
        match (self.reverse, self.weight > 0) {
            (false, true) | (true, false) => self.weight,
            _ => 0,
        }
    }
    fn fail(&self) -> i32 {
        match (self.reverse, self.weight < 0) {
            (false, true) | (true, false) => self.weight,
            _ => 0,
        }
    }
}

fn trackers(i: &VrrpInstance) -> Vec<Tracker> {
    let s = i.track_scripts.iter().map(|t| Tracker {
        block: "track_script",
        name: t.name.clone(),
        weight: i32::from(t.weight),
        reverse: t.reverse,
    });
    let f = i.track_interfaces.iter().map(|t| Tracker {
        block: "track_interface",
        name: t.name.clone(),
        weight: i32::from(t.weight),
        reverse: t.reverse,
    });
    // A process is up or down as a script is (a file's effect depends on
    // the number it holds: not judged here).
    let p = i.track_processes.iter().map(|t| Tracker {
        block: "track_process",
        name: t.name.clone(),
        weight: i32::from(t.weight),
        reverse: t.reverse,
    });
    s.chain(f).chain(p).filter(|t| t.weight != 0).collect()
}

/// The priority with every check OK.
fn nominal(i: &VrrpInstance, ts: &[Tracker]) -> i32 {
    let p = i32::from(i.priority);
    if p == 255 {
        return p; // the address owner is never adjusted
    }
    (p + ts.iter().map(Tracker::ok).sum::<i32>()).clamp(1, 254)
}

/// Weight findings of the pair `x` (in A) and `y` (in B).
pub fn weights(out: &mut Out, x: &VrrpInstance, y: &VrrpInstance) {
    let (tx, ty) = (trackers(x), trackers(y));
    let (nx, ny) = (nominal(x, &tx), nominal(y, &ty));
    let (a, b) = (out.a, out.b);
    for (i, ts, n, side, other, oi) in [(x, &tx, nx, a, b, y), (y, &ty, ny, b, a, x)] {
        let on = if core::ptr::eq(side, a) { ny } else { nx };
        let h = format!("vrrp_instance {}", i.name);
        let oh = format!("vrrp_instance {}", oi.name);
        for t in ts.iter() {
            let raw = n - t.ok() + t.fail();
            let here = side.spans.loc(&[&h, t.block, &t.name]);
            if raw < 1 && i32::from(i.priority) != 255 {
                let msg = format!(
                    "{} {} weight {}: priority {n} -> {raw} on failure, clamped to 1; when the \
                     peer's check fails too both routers sit at 1 and the address, not the \
                     configuration, decides",
                    t.block, t.name, t.weight
                );
                let peer = other.spans.loc(&[&oh, "priority"]);
                out.push(Warning, Rule::WeightTooLarge, (here.clone(), peer), msg);
            }
            // Only the intended master's failures must move the VIP.
            if n <= on {
                continue;
            }
            let failed = raw.clamp(1, 254);
            if failed >= on {
                let msg = format!(
                    "{} {} weight {}: priority {n} -> {failed} on failure, not below the \
                     peer's {on}: the addresses stay on the failed router",
                    t.block, t.name, t.weight
                );
                let peer = other.spans.loc(&[&oh, "priority"]);
                out.push(Error, Rule::WeightTooSmall, (here, peer), msg);
            }
        }
    }
}
