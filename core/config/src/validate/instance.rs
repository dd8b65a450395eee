//! `vrrp_instance NAME { ... }`, its address lists and tracking entries.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;

use vigil_model::{
    Auth, GlobalDefs, InitialState, Notify, TrackInterface, TrackScript, VirtualAddress,
    VrrpInstance, VrrpScript, VrrpVersion,
};

use super::global::{set, version};
use super::track::weight;
use super::vip::authentication;
use super::vip::vip;
use super::{lookup, Ctx};
use crate::error::Problem;
use crate::parser::{Stmt, Word};
use crate::span::Span;

/// A `track_script` entry: name, explicit `(weight, reverse)`, position.
pub(super) type TrackDraft = (String, Option<(i16, bool)>, Span);

/// An instance as written, with the spans of what is checked later.
pub(super) struct Draft {
    name: String,
    at: Span,
    state: Option<InitialState>,
    state_at: Option<Span>,
    interface: Option<String>,
    vrid: Option<(u8, Span)>,
    /// `virtual_router_id` was written (maybe with a bad value).
    vrid_seen: bool,
    priority: Option<u8>,
    advert: Option<(Duration, Word)>,
    version: Option<(VrrpVersion, Span)>,
    auth: Auth,
    vips: Vec<(VirtualAddress, Span)>,
    excluded: Vec<VirtualAddress>,
    routes: Vec<vigil_model::Route>,
    rules: Vec<vigil_model::Rule>,
    src_ip: Option<(IpAddr, Span)>,
    peers: Vec<(IpAddr, Span)>,
    preempt: bool,
    preempt_delay: Duration,
    track_scripts: Vec<TrackDraft>,
    track_interfaces: Vec<TrackInterface>,
    track_files: Vec<vigil_model::TrackRef>,
    track_processes: Vec<vigil_model::TrackRef>,
    /// Boxed: about 500 bytes most instances do not use, held per draft.
    notify: Option<alloc::boxed::Box<Notify>>,
    smtp_alert: Option<bool>,
    notify_deleted: bool,
    notify_deleted_script: Option<vigil_model::Command>,
    notify_master_rx_lower_pri: Option<vigil_model::Command>,
    notify_priority_changes: Option<bool>,
    garp_master_delay: Option<Duration>,
    garp_master_repeat: Option<u32>,
    garp_master_refresh: Option<Duration>,
    garp_master_refresh_repeat: Option<u32>,
    accept: Option<bool>,
    vmac: super::vmac::Draft,
    dont_track_primary: bool,
    check_unicast_src: Option<bool>,
    skip_check_adv_addr: Option<bool>,
    strict_mode: Option<bool>,
    unicast_ttl: Option<(u8, Span)>,
    /// `Some(None)`: an explicit 0 (off).
    garp_extra_if: Option<Option<vigil_model::ExtraIfGarp>>,
}

/// Reads one `vrrp_instance` block.
pub(super) fn parse(ctx: &mut Ctx, stmt: &Stmt) -> Option<Draft> {
    let (name, at) = ctx.name(stmt)?;
    let body = ctx.block(stmt)?;
    let mut d = Draft {
        name,
        at,
        state: None,
        state_at: None,
        interface: None,
        vrid: None,
        vrid_seen: false,
        priority: None,
        advert: None,
        version: None,
        auth: Auth::None,
        vips: Vec::new(),
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        src_ip: None,
        peers: Vec::new(),
        preempt: true,
        preempt_delay: Duration::ZERO,
        track_scripts: Vec::new(),
        track_interfaces: Vec::new(),
        track_files: Vec::new(),
        track_processes: Vec::new(),
        notify: None,
        smtp_alert: None,
        notify_deleted: false,
        notify_deleted_script: None,
        notify_master_rx_lower_pri: None,
        notify_priority_changes: None,
        garp_master_delay: None,
        garp_master_repeat: None,
        garp_master_refresh: None,
        garp_master_refresh_repeat: None,
        accept: None,
        vmac: Default::default(),
        dont_track_primary: false,
        check_unicast_src: None,
        skip_check_adv_addr: None,
        strict_mode: None,
        unicast_ttl: None,
        garp_extra_if: None,
    };
    for s in body {
        keyword(ctx, s, &mut d);
    }
    Some(d)
}

fn keyword(ctx: &mut Ctx, s: &Stmt, d: &mut Draft) {
    let kw = s.keyword.text.as_str();
    match kw {
        "state" => {
            let states = [
                ("MASTER", InitialState::Master),
                ("BACKUP", InitialState::Backup),
            ];
            d.state = ctx
                .choice(s, |t| lookup(&states, t), "MASTER|BACKUP")
                .or(d.state);
            d.state_at = Some(s.keyword.span);
        }
        "interface" => d.interface = ctx.text(s).or(d.interface.take()),
        "virtual_router_id" => {
            d.vrid_seen = true;
            if let Some(w) = ctx.one(s) {
                d.vrid = ctx.int_word(s, w, 1, 255).map(|v| (v, w.span)).or(d.vrid);
            }
        }
        "priority" => d.priority = ctx.int(s, 1, 255).or(d.priority),
        "advert_int" => {
            if let Some(w) = ctx.one(s) {
                d.advert = ctx
                    .duration_word(s, w)
                    .map(|v| (v, w.clone()))
                    .or(d.advert.take());
            }
        }
        "version" => d.version = version(ctx, s).map(|v| (v, s.keyword.span)).or(d.version),
        "authentication" => {
            if let Some(body) = ctx.block(s) {
                d.auth = authentication(ctx, body);
            }
        }
        "virtual_ipaddress" => {
            if let Some(list) = ctx.block(s) {
                d.vips.reserve_exact(list.len());
                d.vips.extend(
                    list.iter()
                        .filter_map(|l| vip(ctx, l).map(|v| (v, l.keyword.span))),
                );
            }
        }
        "virtual_ipaddress_excluded" => {
            if let Some(list) = ctx.block(s) {
                d.excluded.extend(list.iter().filter_map(|l| vip(ctx, l)));
            }
        }
        "virtual_routes" => d.routes.extend(super::routes::routes(ctx, s)),
        "virtual_rules" => d.rules.extend(super::routes::rules(ctx, s)),
        "unicast_src_ip" | "mcast_src_ip" => {
            if let Some(w) = ctx.one(s) {
                d.src_ip = ctx.ip_word(w).map(|a| (a, w.span)).or(d.src_ip);
            }
        }
        "unicast_peer" => {
            if let Some(list) = ctx.block(s) {
                for item in list {
                    ctx.at_most(item, 0);
                    if let Some(a) = ctx.ip_word(&item.keyword) {
                        d.peers.push((a, item.keyword.span));
                    }
                }
            }
        }
        "nopreempt" => {
            ctx.flag(s);
            d.preempt = false;
        }
        "preempt" => set(&mut d.preempt, ctx.flag_bool(s)),
        "preempt_delay" => set(&mut d.preempt_delay, ctx.duration(s, 1000)),
        "track_script" => {
            if let Some(list) = ctx.block(s) {
                for item in list {
                    let w = weight(ctx, item);
                    d.track_scripts
                        .push((item.keyword.text.clone(), w, item.keyword.span));
                }
            }
        }
        "track_interface" => {
            if let Some(list) = ctx.block(s) {
                for item in list {
                    let (weight, reverse) = weight(ctx, item).unwrap_or((0, false));
                    d.track_interfaces.push(TrackInterface {
                        name: item.keyword.text.clone(),
                        weight,
                        reverse,
                    });
                }
            }
        }
        "smtp_alert" => d.smtp_alert = ctx.flag_bool(s).or(d.smtp_alert),
        "notify_deleted" => {
            d.notify_deleted = true;
            if !s.args.is_empty() {
                d.notify_deleted_script = ctx.command(s).or(d.notify_deleted_script.take());
            }
        }
        "notify_master_rx_lower_pri" => {
            d.notify_master_rx_lower_pri = ctx.command(s).or(d.notify_master_rx_lower_pri.take())
        }
        "notify_priority_changes" => {
            d.notify_priority_changes = ctx.flag_bool(s).or(d.notify_priority_changes)
        }
        "garp_master_delay" => {
            d.garp_master_delay = ctx.duration(s, 86_400).or(d.garp_master_delay)
        }
        "garp_master_repeat" => {
            d.garp_master_repeat = ctx.int(s, 0, 10_000).or(d.garp_master_repeat)
        }
        "garp_master_refresh" => {
            d.garp_master_refresh = ctx.duration(s, 86_400).or(d.garp_master_refresh)
        }
        "garp_master_refresh_repeat" => {
            d.garp_master_refresh_repeat = ctx.int(s, 0, 10_000).or(d.garp_master_refresh_repeat)
        }
        "accept" => d.accept = ctx.flag_bool(s).or(d.accept),
        "no_accept" => {
            ctx.flag(s);
            d.accept = Some(false);
        }
        "strict_mode" => d.strict_mode = ctx.flag_bool(s).or(d.strict_mode),
        "unicast_ttl" => {
            // keepalived refuses a bad value and keeps what it had.
            d.unicast_ttl = ctx
                .int_or_ignore(s, 0, 255)
                .map(|t| (t, s.keyword.span))
                .or(d.unicast_ttl)
        }
        kw if super::extra_if::is_keyword(kw) => {
            d.garp_extra_if = super::extra_if::parse(ctx, s, false).or(d.garp_extra_if)
        }
        "dont_track_primary" => set(&mut d.dont_track_primary, ctx.flag_bool(s)),
        "check_unicast_src" => d.check_unicast_src = ctx.flag_bool(s).or(d.check_unicast_src),
        "skip_check_adv_addr" => d.skip_check_adv_addr = ctx.flag_bool(s).or(d.skip_check_adv_addr),
        // Read by `syncd::parse_instance` (it drives a global setting).
        "lvs_sync_daemon_interface" => {}
        _ => {
            let mut n = d.notify.take().map(|b| *b).unwrap_or_default();
            let hit = notify(ctx, s, kw, &mut n);
            if n != Notify::default() {
                d.notify = Some(alloc::boxed::Box::new(n));
            }
            if !hit
                && !super::vmac::keyword(ctx, s, kw, &mut d.vmac)
                && !super::track::tracked(ctx, s, &mut d.track_files, &mut d.track_processes)
            {
                ctx.unknown(s, "vrrp_instance");
            }
        }
    }
}

/// Handles the notify keywords shared with sync groups; false if `kw` is
/// not one of them.
pub(super) fn notify(ctx: &mut Ctx, s: &Stmt, kw: &str, n: &mut Notify) -> bool {
    let slot = match kw {
        "notify_master" => &mut n.master,
        "notify_backup" => &mut n.backup,
        "notify_fault" => &mut n.fault,
        "notify_stop" => &mut n.stop,
        "notify" => &mut n.any,
        _ => return false,
    };
    if let Some(c) = ctx.command(s) {
        *slot = Some(c);
    }
    true
}

/// Applies defaults and inheritance and checks what involves several
/// keywords or blocks.
pub(super) fn resolve(
    ctx: &mut Ctx,
    mut drafts: Vec<Draft>,
    global: &GlobalDefs,
    scripts: &[VrrpScript],
) -> Vec<VrrpInstance> {
    // Grown 1/32 at a time as the drafts shrink: both whole at once
    // (8,192 instances: 6 MiB of drafts, 8.4 MiB of instances) was the peak
    // of reading a large configuration (tests/mem_peak.rs).
    let step = (drafts.len() / 32).max(1);
    let mut out: Vec<VrrpInstance> = Vec::new();
    // Indexes over `out` and `scripts`: with a scan per instance the cost
    // grew with the square of their number (100,000 instances took minutes).
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut vmac_names: BTreeSet<String> = BTreeSet::new();
    let mut vrids: BTreeMap<(u8, bool, String), usize> = BTreeMap::new();
    let script_index: BTreeMap<&str, &VrrpScript> = scripts
        .iter()
        .rev() // the first of duplicate names wins, as with a forward scan
        .map(|s| (s.name.as_str(), s))
        .collect();
    // Drafts are consumed front first and their buffer shrunk as it
    // empties, so that drafts and instances are not both whole at the peak.
    drafts.reverse();
    while let Some(d) = drafts.pop() {
        if drafts.len() + step <= drafts.capacity() {
            drafts.shrink_to_fit();
        }
        if out.len() == out.capacity() {
            out.reserve_exact(step.min(drafts.len() + 1));
        }
        if names.contains(&d.name) {
            ctx.error(
                d.at,
                Problem::DuplicateName("vrrp_instance", d.name.clone()),
            );
        }
        let Some((vrid, vrid_at)) = d.vrid else {
            // A bad value was already reported where it is written.
            if !d.vrid_seen {
                ctx.error(
                    d.at,
                    Problem::MissingKeyword("vrrp_instance", "virtual_router_id"),
                );
            }
            continue;
        };
        // The family is the VIPs', else the peers', else the source's.
        let ipv6 = d
            .vips
            .first()
            .map(|(v, _)| v.addr.is_ipv6())
            .or(d.peers.first().map(|(a, _)| a.is_ipv6()))
            .or(d.src_ip.map(|(a, _)| a.is_ipv6()))
            .unwrap_or(false);
        // keepalived skips, with a warning, an address of the other family.
        let mut d = d;
        let skip = |ctx: &mut Ctx, at: Span, a: IpAddr| {
            let what =
                alloc::format!("address family differs from the instance's; address skipped ({a})");
            ctx.ignored(at, what);
        };
        d.vips.retain(|(v, at)| {
            let ok = v.addr.is_ipv6() == ipv6;
            if !ok {
                skip(ctx, *at, v.addr);
            }
            ok
        });
        d.peers.retain(|(a, at)| {
            let ok = a.is_ipv6() == ipv6;
            if !ok {
                skip(ctx, *at, *a);
            }
            ok
        });
        if let Some((a, at)) = d.src_ip {
            if a.is_ipv6() != ipv6 {
                skip(ctx, at, a);
                d.src_ip = None;
            }
        }
        if d.interface.is_none() && d.peers.is_empty() {
            ctx.error(d.at, Problem::NoInterface);
        }
        let version = match (d.version, ipv6) {
            (Some((VrrpVersion::V2, at)), true) => {
                ctx.warn(at, Problem::Ipv6ForcesV3);
                VrrpVersion::V3
            }
            (_, true) => VrrpVersion::V3,
            (Some((v, _)), false) => v,
            (None, false) => global.vrrp_version,
        };
        let advert_int = match d.advert {
            None => Duration::from_secs(1),
            Some((v, w)) => {
                if !advert_ok(v, version) {
                    let n = if version == VrrpVersion::V2 { 2 } else { 3 };
                    ctx.error(w.span, Problem::AdvertIntForVersion(w.text.clone(), n));
                }
                v
            }
        };
        let priority = d
            .priority
            .unwrap_or(if d.state == Some(InitialState::Master) {
                255
            } else {
                100
            });
        let mut state = d.state.unwrap_or(if priority == 255 {
            InitialState::Master
        } else {
            InitialState::Backup
        });
        if matches!(d.auth, Auth::Ah(_))
            && version == VrrpVersion::V2
            && state == InitialState::Master
            && priority != 255
        {
            // keepalived 2.2.7 clears it: a router must hear an advert (and
            // its AH sequence number) before it may take over.
            ctx.warn(d.state_at.unwrap_or(d.at), Problem::AhInitialMaster);
            state = InitialState::Backup;
        }
        let interface_key = d.interface.clone().unwrap_or_else(|| "-".into());
        let key = (vrid, ipv6, interface_key);
        if let Some(other) = vrids.get(&key).and_then(|&i| out.get(i)) {
            let p = Problem::DuplicateVrid {
                vrid,
                interface: key.2.clone(),
                other: other.name.clone(),
            };
            ctx.error(vrid_at, p);
        } else {
            vrids.insert(key, out.len());
        }
        let mut track_scripts = Vec::new();
        for (name, w, at) in d.track_scripts {
            match script_index.get(name.as_str()) {
                // keepalived ignores the entry.
                None => ctx.warn(at, Problem::UnknownTrackScript(name)),
                Some(s) => {
                    let (weight, reverse) = w.unwrap_or((s.weight, s.weight_reverse));
                    track_scripts.push(TrackScript {
                        name,
                        weight,
                        reverse,
                    });
                }
            }
        }
        let unicast = !d.peers.is_empty();
        let unicast_ttl = match d.unicast_ttl {
            Some((_, at)) if !unicast => {
                // keepalived resets it (to a TTL of 0 on multicast adverts,
                // which its peers then drop); vigil keeps 255.
                let what = "unicast_ttl without unicast peers - ignoring".into();
                ctx.ignored(at, what);
                None
            }
            t => t.map(|(t, _)| t),
        };
        let vmac = super::vmac::resolve(ctx, d.vmac, vrid, ipv6, unicast, &mut vmac_names);
        names.insert(d.name.clone());
        let strict = d
            .strict_mode
            .unwrap_or(global.vrrp_strict)
            .then(|| super::strict::Spans {
                at: d.at,
                peer: d.peers.first().map(|(_, at)| *at),
                vip: d.vips.first().map(|(_, at)| *at),
            });
        let at = d.at;
        let mut inst = VrrpInstance {
            name: d.name,
            state,
            interface: d.interface,
            virtual_router_id: vrid,
            priority,
            advert_int,
            version,
            auth: d.auth,
            virtual_addresses: d.vips.into_iter().map(|(v, _)| v).collect(),
            excluded_addresses: d.excluded,
            virtual_routes: d.routes,
            virtual_rules: d.rules,
            src_ip: d.src_ip.map(|(a, _)| a),
            unicast_peers: d.peers.into_iter().map(|(a, _)| a).collect(),
            preempt: d.preempt,
            preempt_delay: d.preempt_delay,
            track_scripts,
            track_interfaces: d.track_interfaces,
            track_files: d.track_files,
            track_processes: d.track_processes,
            notify: d.notify.map(|b| *b).unwrap_or_default(),
            smtp_alert: d.smtp_alert,
            notify_deleted: d.notify_deleted,
            notify_deleted_script: d.notify_deleted_script,
            notify_master_rx_lower_pri: d.notify_master_rx_lower_pri,
            notify_priority_changes: d.notify_priority_changes,
            garp_master_delay: d.garp_master_delay.unwrap_or(global.vrrp_garp_master_delay),
            garp_master_repeat: d
                .garp_master_repeat
                .unwrap_or(global.vrrp_garp_master_repeat),
            garp_master_refresh: d
                .garp_master_refresh
                .unwrap_or(global.vrrp_garp_master_refresh),
            garp_master_refresh_repeat: d
                .garp_master_refresh_repeat
                .unwrap_or(global.vrrp_garp_master_refresh_repeat),
            // keepalived: the owner accepts; others unless strict.
            accept: d.accept.unwrap_or(priority == 255 || strict.is_none()),
            use_vmac: vmac.name,
            vmac_mac: vmac.mac,
            vmac_xmit_base: vmac.xmit_base,
            use_vmac_addr: vmac.addr,
            dont_track_primary: d.dont_track_primary,
            check_unicast_src: d.check_unicast_src.unwrap_or(global.vrrp_check_unicast_src),
            skip_check_adv_addr: d
                .skip_check_adv_addr
                .unwrap_or(global.vrrp_skip_check_adv_addr),
            strict: strict.is_some(),
            unicast_ttl,
            garp_extra_if: d.garp_extra_if.unwrap_or(global.vrrp_garp_extra_if),
        };
        // vrrp_strict first: it may change the state the fixes look at.
        if let Some(spans) = strict {
            super::strict::instance(ctx, &spans, &mut inst);
        }
        super::complete::apply(ctx, at, &mut inst);
        out.push(inst);
    }
    out
}

/// VRRPv2 carries whole seconds (1..=255) in 8 bits; VRRPv3 centiseconds
/// (1..=4095) in 12 bits.
fn advert_ok(v: Duration, version: VrrpVersion) -> bool {
    match version {
        VrrpVersion::V2 => v.subsec_nanos() == 0 && (1..=255).contains(&v.as_secs()),
        VrrpVersion::V3 => {
            v.subsec_nanos().is_multiple_of(10_000_000)
                && v >= Duration::from_millis(10)
                && v <= Duration::from_millis(40_950)
        }
    }
}
