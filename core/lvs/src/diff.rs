//! From the current IPVS table to the desired one, in a safe order.
//!
//! Order, per service in key order:
//! - a new service is added before its destinations;
//! - a kept service is edited first, then destinations are added, then
//!   edited, and only then removed, so a service never goes through an empty
//!   moment while it is being reshuffled (e.g. the sorry server arrives
//!   before the last real servers leave);
//! - services that go away come last, each after its destinations.
//!
//! Anything that is not part of a key is edited in place: the kernel can
//! change a service's scheduler and persistence and a destination's
//! forwarding, weight and thresholds without dropping connections.

use alloc::vec::Vec;

use crate::command::Command;
use crate::table::{ServiceKey, Table};

/// The commands that turn `current` into `desired`.
pub fn diff(current: &Table, desired: &Table) -> Vec<Command> {
    let mut out = Vec::new();
    for want in desired.services() {
        let key = want.key;
        match current.service(&key) {
            None => out.push(Command::AddService(want.clone())),
            Some(have) if have != want => out.push(Command::EditService(want.clone())),
            Some(_) => {}
        }
        sync_dests(current, desired, &key, &mut out);
    }
    for have in current.services() {
        if desired.service(&have.key).is_none() {
            for d in current.dests(&have.key) {
                out.push(Command::DelDest(have.key, d.key()));
            }
            out.push(Command::DelService(have.key));
        }
    }
    out
}

/// Destination commands of a service present in `desired`.
fn sync_dests(current: &Table, desired: &Table, key: &ServiceKey, out: &mut Vec<Command>) {
    let mut edits = Vec::new();
    for want in desired.dests(key) {
        match current.dest(key, &want.key()) {
            None => out.push(Command::AddDest(*key, *want)),
            Some(have) if have != want => edits.push(Command::EditDest(*key, *want)),
            Some(_) => {}
        }
    }
    out.append(&mut edits);
    for have in current.dests(key) {
        if desired.dest(key, &have.key()).is_none() {
            out.push(Command::DelDest(*key, have.key()));
        }
    }
}

/// The commands that build `desired` from scratch: a flush (`lvs_flush`),
/// then everything added.
pub fn flush_then(desired: &Table) -> Vec<Command> {
    let mut out = alloc::vec![Command::Flush];
    out.extend(diff(&Table::new(), desired));
    out
}
