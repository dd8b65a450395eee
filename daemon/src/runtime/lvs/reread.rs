//! Reading the kernel's table back after a reload, cheaply: one service
//! dump, the summary (`/proc/net/ip_vs`) and a destination dump only for
//! the owned services that need one. The others are taken from the record
//! ("trusted") and handed to the background [`super::audit`], since the
//! summary cannot see thresholds or tunnel types.

use std::collections::BTreeSet;

use vigil_lvs::{Command, Destination, ServiceKey, Table};

use super::backend::Backend;

/// What [`kernel_view`] read.
pub(super) struct ReadBack {
    /// The kernel's table restricted to the owned services.
    pub view: Table,
    /// The services whose destinations were taken from the record, in key
    /// order: what the audit dumps later.
    pub trusted: Vec<ServiceKey>,
}

/// The forms the kernel reports a destination in that mean `want`'s
/// forwarding (LOCALNODE for DR on older kernels, tunnel fields the type
/// ignores) become `want`'s, so they are not "repaired" forever.
pub(super) fn tolerate(d: &mut Destination, want: &Destination) {
    if want.forwarding.matches_kernel(d.forwarding) {
        d.forwarding = want.forwarding;
    }
}

/// The kernel's table restricted to the services we own (wanted now, or
/// `installed` before), with the kernel's rewritten forms tolerated.
///
/// A destination dump is made for each owned service whose destinations
/// the reload changes (the record is not to be trusted where we are about
/// to act) and each the summary shows otherwise than recorded (a hand
/// edit). A one-line reload reads 2 requests and `/proc/net/ip_vs`, not
/// 1 + 1,000. On a read error the record stands in for the kernel (logged).
pub(super) fn kernel_view<B: Backend>(
    backend: &mut B,
    installed: &Table,
    want: &Table,
) -> ReadBack {
    let fallback = || ReadBack {
        view: installed.clone(),
        trusted: Vec::new(),
    };
    let kernel = match backend.services() {
        Ok(t) => t,
        Err(e) => {
            log::error!("IPVS: cannot read the table: {e}");
            return fallback();
        }
    };
    let summary = backend.summary();
    let owned: BTreeSet<ServiceKey> = want
        .services()
        .chain(installed.services())
        .map(|s| s.key)
        .collect();
    let mut view = Table::new();
    let mut trusted = Vec::new();
    for s in kernel.services().filter(|s| owned.contains(&s.key)) {
        let key = s.key;
        view.insert_service(s.clone());
        let unchanged = installed.dests(&key).eq(want.dests(&key));
        let agrees = unchanged
            && summary
                .as_ref()
                .is_some_and(|sum| sum.agrees(&key, installed.dests(&key)));
        let dests: Vec<Destination> = if agrees {
            trusted.push(key);
            installed.dests(&key).copied().collect()
        } else {
            match backend.dests(&key) {
                Ok(d) => d,
                Err(e) => {
                    log::error!("IPVS: cannot read the table: {e}");
                    return fallback();
                }
            }
        };
        for mut d in dests {
            if let Some(w) = want.dest(&key, &d.key()) {
                tolerate(&mut d, w);
            }
            let _ = view.insert_dest(&key, d);
        }
    }
    trusted.shrink_to_fit();
    ReadBack { view, trusted }
}

/// Records in `t` a command the kernel accepted.
pub(super) fn apply_to(t: &mut Table, cmd: &Command) {
    match cmd {
        Command::Flush => *t = Table::new(),
        Command::AddService(s) | Command::EditService(s) => {
            t.insert_service(s.clone());
        }
        Command::DelService(k) => {
            t.remove_service(k);
        }
        Command::AddDest(k, d) | Command::EditDest(k, d) => {
            let _ = t.insert_dest(k, *d);
        }
        Command::DelDest(k, d) => {
            t.remove_dest(k, d);
        }
    }
}
