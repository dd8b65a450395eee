//! From the validated keepalived model to what runs: the state machine's own
//! configuration (`RouterConfig`) and the shell's side of each instance (where its
//! VIPs go, which scripts to run as whom). Script security is decided here, once
//! per load, because keepalived too disables an insecure script for good.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use vigil_model as model;
use vigil_vrrp as vrrp;

use crate::os::netlink::Scope;
use crate::os::{script_security, users};

/// A VIP as the shell installs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// `dev`, else the instance's interface.
    pub dev: String,
    pub label: Option<String>,
    pub broadcast: Option<std::net::Ipv4Addr>,
    pub scope: Scope,
}

/// A script ready to run: resolved program, credentials, and its text for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runnable {
    pub text: String,
    pub argv: Vec<String>,
    pub run_as: (u32, u32),
}

/// The notify hooks of an instance or group, those that passed the checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    pub master: Option<Runnable>,
    pub backup: Option<Runnable>,
    pub fault: Option<Runnable>,
    pub stop: Option<Runnable>,
    pub any: Option<Runnable>,
}

/// The shell's view of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstancePlan {
    pub interface: String,
    /// Where adverts go out: the VMAC, or `interface` (see `vmac`).
    pub xmit: String,
    pub family: vrrp::Family,
    /// Source the adverts' socket binds to (`unicast_src_ip` / `mcast_src_ip`).
    pub source: Option<IpAddr>,
    pub multicast: bool,
    pub group: IpAddr,
    /// `auth_type AH` (VRRPv2, IPv4): adverts go over IP protocol 51.
    pub ah: bool,
    pub vips: Vec<Vip>,
    pub hooks: Hooks,
    /// `no_accept` on a non-owner: traffic to the VIPs is dropped while held.
    pub drop_vips: bool,
    /// `unicast_ttl`: the TTL / hop limit of the unicast adverts sent
    /// (`None`: 255).
    pub unicast_ttl: Option<u8>,
}

/// Everything the daemon runs, derived from one configuration.
#[derive(Debug, Clone)]
pub struct Plan {
    pub router: vrrp::RouterConfig,
    pub instances: HashMap<String, InstancePlan>,
    pub groups: HashMap<String, Hooks>,
    pub scripts: HashMap<String, Runnable>,
    /// The macvlans of `use_vmac` / `use_vmac_addr`.
    pub vmacs: Vec<super::vmac_plan::VmacSpec>,
    /// Tracked files and processes the shell watches (see `runtime::track`).
    pub watch: super::track::Watch,
}

/// What can make a plan impossible (the config itself was already validated).
#[derive(Debug)]
pub enum PlanError {
    NoInterface(String),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::NoInterface(i) => write!(f, "({i}) no interface: set `interface`"),
        }
    }
}

/// Resolves a command: PATH lookup, user, and (with `enable_script_security`) the
/// ownership and permission rule. `None`, with a log line, when it cannot run.
pub(crate) fn runnable(
    g: &model::GlobalDefs,
    cmd: &model::Command,
    what: &str,
) -> Option<Runnable> {
    let run_as = match cmd.run_as.as_ref().or(g.script_user.as_ref()) {
        Some(u) => match users::resolve(&u.user, u.group.as_deref()) {
            Ok(ids) => ids,
            Err(e) => {
                log::error!("{what}: script \"{}\": {e}; disabled", cmd.text);
                return None;
            }
        },
        None => users::default_script_user(),
    };
    let program = cmd.argv.first().map(String::as_str).unwrap_or("");
    let env_path = std::env::var_os("PATH");
    let path =
        match script_security::resolve_command(program, env_path.as_deref(), run_as.0, run_as.1) {
            Ok(p) => p,
            Err(e) => {
                // keepalived keeps such a script and reports it failing each time it runs;
                // so do we: the runner logs "not found" at every attempt.
                log::warn!("{what}: {e}");
                PathBuf::from(program)
            }
        };
    if g.enable_script_security && script_security::runs_privileged(&path, run_as.0, run_as.1) {
        if let Err(e) = script_security::check_script_security(&path) {
            log::error!("{what}: SECURITY VIOLATION - {e}; script disabled");
            return None;
        }
    }
    let mut argv = cmd.argv.clone();
    if let Some(first) = argv.first_mut() {
        *first = path.display().to_string();
    }
    Some(Runnable {
        text: cmd.text.clone(),
        argv,
        run_as,
    })
}

fn hooks(g: &model::GlobalDefs, n: &model::Notify, owner: &str) -> Hooks {
    let one = |c: &Option<model::Command>, kind: &str| {
        c.as_ref()
            .and_then(|c| runnable(g, c, &format!("({owner}) {kind}")))
    };
    Hooks {
        master: one(&n.master, "notify_master"),
        backup: one(&n.backup, "notify_backup"),
        fault: one(&n.fault, "notify_fault"),
        stop: one(&n.stop, "notify_stop"),
        any: one(&n.any, "notify"),
    }
}

fn version(v: model::VrrpVersion) -> vrrp::Version {
    match v {
        model::VrrpVersion::V2 => vrrp::Version::V2,
        model::VrrpVersion::V3 => vrrp::Version::V3,
    }
}

fn auth(a: &model::Auth) -> vrrp::Auth {
    match a {
        model::Auth::None => vrrp::Auth::None,
        model::Auth::Pass(p) => vrrp::Auth::Simple(*p),
        model::Auth::Ah(p) => vrrp::Auth::Ah(*p),
    }
}

/// A `track_interface` entry as the state machine takes it.
fn tracked_interface(t: &model::TrackInterface) -> vrrp::TrackedInterface {
    vrrp::TrackedInterface {
        name: t.name.clone(),
        weight: i32::from(t.weight),
        reverse: t.reverse,
    }
}

/// The `track_script` entries whose script can run (the others were
/// refused, with a log line, when the scripts were planned).
fn tracked_scripts(
    list: &[model::TrackScript],
    scripts: &HashMap<String, Runnable>,
) -> Vec<vrrp::TrackedScript> {
    list.iter()
        .filter(|t| scripts.contains_key(&t.name))
        .map(|t| vrrp::TrackedScript {
            name: t.name.clone(),
            weight: Some(i32::from(t.weight)),
            reverse: Some(t.reverse),
        })
        .collect()
}

fn scope(s: model::AddrScope) -> Scope {
    Scope::from_name(s.name()).unwrap_or(Scope::Global)
}

/// Centiseconds of an advert interval (the config crate checked its range
/// for the version; the state machine clamps anything else).
fn advert_cs(d: core::time::Duration) -> u16 {
    u16::try_from(d.as_millis() / 10).unwrap_or(u16::MAX)
}

impl InstancePlan {
    /// The addresses no_accept drops while this instance holds its VIPs.
    pub fn dropped(&self) -> Vec<IpAddr> {
        match self.drop_vips {
            true => self.vips.iter().map(|v| v.addr).collect(),
            false => Vec::new(),
        }
    }
}

impl Plan {
    pub fn new(c: &model::Config) -> Result<Plan, PlanError> {
        let g = &c.global;
        let mut scripts = HashMap::new();
        let mut script_cfgs = Vec::new();
        for s in &c.scripts {
            let Some(r) = runnable(g, &s.script, &format!("vrrp_script {}", s.name)) else {
                continue;
            };
            scripts.insert(s.name.clone(), r);
            script_cfgs.push(vrrp::ScriptConfig {
                name: s.name.clone(),
                interval: s.interval,
                timeout: Some(s.timeout),
                weight: i32::from(s.weight),
                reverse: s.weight_reverse,
                fall: s.fall,
                rise: s.rise,
                init_fail: s.init_fail,
            });
        }
        let mut instances = HashMap::new();
        let mut inst_cfgs = Vec::new();
        for i in &c.instances {
            let Some(ifname) = i.interface.clone() else {
                return Err(PlanError::NoInterface(i.name.clone()));
            };
            // The config crate made every address of the instance one family
            // and IPv6 instances version 3: the version names the family.
            let v = version(i.version);
            let family = match (
                i.virtual_addresses.first(),
                i.unicast_peers.first(),
                i.src_ip,
            ) {
                (Some(a), _, _) => vrrp::Family::of(&a.addr),
                (None, Some(p), _) => vrrp::Family::of(p),
                (None, None, Some(s)) => vrrp::Family::of(&s),
                (None, None, None) => vrrp::Family::V4,
            };
            let group = match family {
                vrrp::Family::V4 => IpAddr::V4(g.vrrp_mcast_group4),
                vrrp::Family::V6 => IpAddr::V6(g.vrrp_mcast_group6),
            };
            let mut cfg = vrrp::InstanceConfig::new(&i.name, &ifname, i.virtual_router_id);
            cfg.version = v;
            cfg.family = family;
            cfg.priority = i.priority;
            cfg.advert_int_cs = advert_cs(i.advert_int);
            cfg.auth = auth(&i.auth);
            cfg.virtual_addresses = i.virtual_addresses.iter().map(|a| a.addr).collect();
            cfg.excluded_addresses = i.excluded_addresses.iter().map(|a| a.addr).collect();
            cfg.initial_state = Some(match i.state {
                model::InitialState::Master => vrrp::InitialState::Master,
                model::InitialState::Backup => vrrp::InitialState::Backup,
            });
            let (preempt, delay) = vigil_config::effective_preempt(i);
            cfg.nopreempt = !preempt;
            cfg.preempt_delay = delay;
            // The advert source for both modes (`unicast_src_ip` or `mcast_src_ip`):
            // the socket binds it, and the v3 checksum covers it.
            cfg.unicast_src = i.src_ip;
            cfg.unicast_peers = i.unicast_peers.clone();
            cfg.multicast_group = Some(group);
            cfg.garp = vrrp::GarpConfig {
                master_delay: i.garp_master_delay,
                master_repeat: i.garp_master_repeat,
                garp_interval: g.vrrp_garp_interval,
                gna_interval: g.vrrp_gna_interval,
                master_refresh: i.garp_master_refresh,
                refresh_repeat: i.garp_master_refresh_repeat,
                // Filled below, once the VMACs are known.
                extra_if_interval: core::time::Duration::ZERO,
                extra_if_addrs: Vec::new(),
            };
            cfg.accept = i.accept;
            cfg.skip_check_adv_addr = i.skip_check_adv_addr;
            cfg.check_unicast_src = i.check_unicast_src;
            cfg.v3_checksum_as_v2 = g.v3_checksum_as_v2;
            cfg.strict = i.strict;
            cfg.track_scripts = tracked_scripts(&i.track_scripts, &scripts);
            let mut track_ifs: Vec<vrrp::TrackedInterface> =
                i.track_interfaces.iter().map(tracked_interface).collect();
            track_ifs.retain(|t| !(i.dont_track_primary && t.name == ifname));
            cfg.track_interfaces = track_ifs;
            cfg.track_files = i.track_files.iter().map(tracked_file).collect();
            cfg.track_processes = i.track_processes.iter().map(tracked_process).collect();
            let vips = i
                .virtual_addresses
                .iter()
                .chain(&i.excluded_addresses)
                .map(|a| Vip {
                    addr: a.addr,
                    prefix_len: a.prefix_len,
                    dev: a.dev.clone().unwrap_or_else(|| ifname.clone()),
                    label: a.label.clone(),
                    broadcast: a.broadcast,
                    scope: scope(a.scope),
                })
                .collect();
            instances.insert(
                i.name.clone(),
                InstancePlan {
                    interface: ifname.clone(),
                    xmit: ifname.clone(),
                    family,
                    source: i.src_ip,
                    multicast: i.unicast_peers.is_empty(),
                    group,
                    ah: matches!(cfg.auth, vrrp::Auth::Ah(_)),
                    vips,
                    hooks: hooks(g, &i.notify, &i.name),
                    drop_vips: !i.accept && i.priority != 255,
                    unicast_ttl: i.unicast_ttl.filter(|_| !i.unicast_peers.is_empty()),
                },
            );
            inst_cfgs.push(cfg);
        }
        let vmacs = super::vmac_plan::plan(&c.instances, &mut instances);
        for (i, cfg) in c.instances.iter().zip(inst_cfgs.iter_mut()) {
            let (Some(e), Some(p)) = (i.garp_extra_if, instances.get(&i.name)) else {
                continue;
            };
            cfg.garp.extra_if_addrs = super::vmac_plan::extra_if_addrs(i, p, &vmacs, e.all);
            if !cfg.garp.extra_if_addrs.is_empty() {
                cfg.garp.extra_if_interval = e.interval;
            }
        }
        let groups = c
            .sync_groups
            .iter()
            .map(|s| (s.name.clone(), hooks(g, &s.notify, &s.name)))
            .collect();
        let sync_groups = c
            .sync_groups
            .iter()
            .map(|s| vrrp::SyncGroupConfig {
                name: s.name.clone(),
                members: s.instances.clone(),
                track_interfaces: s.track_interfaces.iter().map(tracked_interface).collect(),
                track_scripts: tracked_scripts(&s.track_scripts, &scripts),
                track_files: s.track_files.iter().map(tracked_file).collect(),
                track_processes: s.track_processes.iter().map(tracked_process).collect(),
                tracking_weight: s.tracking_weight,
            })
            .collect();
        let processes = c.track_processes.iter().map(process_config).collect();
        Ok(Plan {
            router: vrrp::RouterConfig {
                instances: inst_cfgs,
                scripts: script_cfgs,
                sync_groups,
                processes,
            },
            instances,
            groups,
            scripts,
            vmacs,
            watch: super::track::Watch::new(c),
        })
    }
}

fn tracked_file(t: &model::TrackRef) -> vrrp::TrackedFile {
    vrrp::TrackedFile {
        name: t.name.clone(),
        weight: i32::from(t.weight),
        reverse: t.reverse,
    }
}

fn tracked_process(t: &model::TrackRef) -> vrrp::TrackedProcess {
    vrrp::TrackedProcess {
        name: t.name.clone(),
        weight: i32::from(t.weight),
        reverse: t.reverse,
    }
}

fn process_config(p: &model::TrackProcess) -> vrrp::ProcessConfig {
    vrrp::ProcessConfig {
        name: p.name.clone(),
        quorum: p.quorum,
        quorum_max: p.quorum_max,
        fork_delay: p.fork_delay,
        terminate_delay: p.terminate_delay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advert_interval_in_centiseconds() {
        let d = core::time::Duration::from_millis;
        assert_eq!(advert_cs(d(1000)), 100);
        assert_eq!(advert_cs(d(100)), 10);
        assert_eq!(advert_cs(d(40950)), 4095);
        assert_eq!(advert_cs(d(u64::MAX)), u16::MAX);
    }
}
