//! The state machine's own configuration, independent of the config crate: the
//! daemon maps the parsed keepalived model into these plain values (device,
//! label and scope details of addresses stay in the shell).

use crate::prelude::*;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::time::Duration;

pub use vigil_wire::vrrp::{Auth, Version};

/// IPv4 multicast group of VRRP (RFC 5798 section 5.1.1.2).
pub const MCAST_GROUP_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
/// IPv6 multicast group of VRRP (RFC 5798 section 5.1.2.2).
pub const MCAST_GROUP_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));

/// Address family of an instance: its adverts, VIPs and peers all use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// The `state` keyword: only a hint (see `Router::handle_start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InitialState {
    Master,
    Backup,
}

/// Gratuitous ARP / unsolicited NA settings (keepalived names in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GarpConfig {
    /// Delay before the second burst after becoming master; zero: no second
    /// burst (`garp_master_delay`, default 5 s).
    pub master_delay: Duration,
    /// Packets per burst (`garp_master_repeat`, default 5).
    pub master_repeat: u32,
    /// Spacing of IPv4 gratuitous ARPs (`vrrp_garp_interval`, default 0).
    pub garp_interval: Duration,
    /// Spacing of IPv6 unsolicited NAs (`vrrp_gna_interval`, default 0).
    pub gna_interval: Duration,
    /// Period of refresh bursts while master; zero: none (`garp_master_refresh`).
    pub master_refresh: Duration,
    /// Packets per refresh burst (`garp_master_refresh_repeat`, default 1).
    pub refresh_repeat: u32,
    /// Period of the extra-interface announcements while master; zero:
    /// none (`garp_extra_if` / `vmac_garp_intvl`).
    pub extra_if_interval: Duration,
    /// What each of them announces: one address per extra interface (the
    /// shell picks them; the core does not know devices).
    pub extra_if_addrs: Vec<IpAddr>,
}

impl Default for GarpConfig {
    fn default() -> Self {
        GarpConfig {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            garp_interval: Duration::ZERO,
            gna_interval: Duration::ZERO,
            master_refresh: Duration::ZERO,
            refresh_repeat: 1,
            extra_if_interval: Duration::ZERO,
            extra_if_addrs: Vec::new(),
        }
    }
}

/// A `track_script` entry of an instance; unset fields take the script's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedScript {
    /// Name of a [`ScriptConfig`].
    pub name: String,
    pub weight: Option<i32>,
    pub reverse: Option<bool>,
}

/// A `track_interface` entry: weight 0 puts the instance in FAULT while the
/// interface is down (up, if `reverse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedInterface {
    pub name: String,
    pub weight: i32,
    pub reverse: bool,
}

/// A `track_file` entry: the file's number times `weight` (negated by
/// `reverse`) moves the priority; with weight 0 a nonzero number (zero, if
/// `reverse`) is a FAULT. The shell resolves the weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFile {
    pub name: String,
    pub weight: i32,
    pub reverse: bool,
}

/// A `track_process` entry; weight as for scripts (0: quorum lost = FAULT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedProcess {
    pub name: String,
    pub weight: i32,
    pub reverse: bool,
}

/// One `vrrp_track_process`: how many matching processes make it up and
/// how long a change waits. The shell counts the processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    pub name: String,
    /// Fewest processes for up (0 with `quorum_max 0`: "must not run").
    pub quorum: u32,
    /// Most processes for up.
    pub quorum_max: u32,
    /// A quorum reached or lost by a fork counts after this long.
    pub fork_delay: Duration,
    /// A quorum reached or lost by an exit counts after this long.
    pub terminate_delay: Duration,
}

impl ProcessConfig {
    /// keepalived's defaults: quorum 1, no maximum, no delays.
    pub fn new(name: &str) -> ProcessConfig {
        ProcessConfig {
            name: name.to_owned(),
            quorum: 1,
            quorum_max: u32::MAX,
            fork_delay: Duration::ZERO,
            terminate_delay: Duration::ZERO,
        }
    }
}

/// One `vrrp_instance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceConfig {
    pub name: String,
    /// Interface the adverts are sent and received on.
    pub interface: String,
    pub vrid: u8,
    pub version: Version,
    pub family: Family,
    /// 1..=255; 255 is the address owner.
    pub priority: u8,
    /// Advertisement interval in centiseconds (v2: a whole number of seconds).
    pub advert_int_cs: u16,
    /// v2 only; v3 has no authentication.
    pub auth: Auth,
    /// The addresses carried in adverts, all of `family`.
    pub virtual_addresses: Vec<IpAddr>,
    /// `virtual_ipaddress_excluded`: installed and announced, not advertised.
    pub excluded_addresses: Vec<IpAddr>,
    /// `state MASTER|BACKUP`; `None` derives it from the priority as keepalived.
    pub initial_state: Option<InitialState>,
    pub nopreempt: bool,
    pub preempt_delay: Duration,
    /// Source of adverts; `None`: the interface's primary address.
    pub unicast_src: Option<IpAddr>,
    /// Non-empty: adverts go to each peer instead of the multicast group.
    pub unicast_peers: Vec<IpAddr>,
    /// `None`: 224.0.0.18 or ff02::12.
    pub multicast_group: Option<IpAddr>,
    pub garp: GarpConfig,
    /// `accept`: carried for the shell (it decides on filtering VIP traffic).
    pub accept: bool,
    pub skip_check_adv_addr: bool,
    /// Drop unicast adverts whose source is not a `unicast_peer`.
    pub check_unicast_src: bool,
    /// Enforce TTL/hop limit 255 on unicast adverts too (multicast always is).
    pub unicast_ttl_check: bool,
    /// v3 over IPv4: checksum without the pseudo-header (`vrrp_v3_checksum_as_v2`).
    pub v3_checksum_as_v2: bool,
    /// `vrrp_strict` / `strict_mode`: keepalived's strict receive rules
    /// (see `strict.rs`): a master does not answer a lower priority with
    /// an advert, and adverts with authentication or to a unicast address
    /// are dropped whatever else the configuration says.
    pub strict: bool,
    /// Adverts missed before the master is declared down (default 3).
    pub down_timer_adverts: u8,
    pub track_scripts: Vec<TrackedScript>,
    pub track_interfaces: Vec<TrackedInterface>,
    pub track_files: Vec<TrackedFile>,
    pub track_processes: Vec<TrackedProcess>,
}

impl InstanceConfig {
    /// An instance with keepalived's defaults: VRRPv2 over IPv4, priority 100,
    /// advert_int 1 s, no authentication, preemptive, multicast.
    pub fn new(name: &str, interface: &str, vrid: u8) -> InstanceConfig {
        InstanceConfig {
            name: name.to_owned(),
            interface: interface.to_owned(),
            vrid,
            version: Version::V2,
            family: Family::V4,
            priority: 100,
            advert_int_cs: 100,
            auth: Auth::None,
            virtual_addresses: Vec::new(),
            excluded_addresses: Vec::new(),
            initial_state: None,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            unicast_src: None,
            unicast_peers: Vec::new(),
            multicast_group: None,
            garp: GarpConfig::default(),
            accept: false,
            skip_check_adv_addr: false,
            check_unicast_src: false,
            unicast_ttl_check: false,
            v3_checksum_as_v2: false,
            strict: false,
            down_timer_adverts: 3,
            track_scripts: Vec::new(),
            track_interfaces: Vec::new(),
            track_files: Vec::new(),
            track_processes: Vec::new(),
        }
    }

    /// The multicast group adverts go to when there are no unicast peers.
    pub fn group(&self) -> IpAddr {
        self.multicast_group.unwrap_or(match self.family {
            Family::V4 => MCAST_GROUP_V4,
            Family::V6 => MCAST_GROUP_V6,
        })
    }
}

/// One `vrrp_script`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptConfig {
    pub name: String,
    /// Time between runs (default 1 s).
    pub interval: Duration,
    /// Longest run before the script counts as failed; `None`: `interval`.
    pub timeout: Option<Duration>,
    /// Default weight for instances tracking it.
    pub weight: i32,
    pub reverse: bool,
    /// Consecutive failures that make an up script down (default 1).
    pub fall: u32,
    /// Consecutive successes that make a down script up (default 1).
    pub rise: u32,
    /// Start as failed instead of unknown (`init_fail`).
    pub init_fail: bool,
}

impl ScriptConfig {
    /// A script with keepalived's defaults: interval 1 s, weight 0, rise/fall 1.
    pub fn new(name: &str) -> ScriptConfig {
        ScriptConfig {
            name: name.to_owned(),
            interval: Duration::from_secs(1),
            timeout: None,
            weight: 0,
            reverse: false,
            fall: 1,
            rise: 1,
            init_fail: false,
        }
    }
}

/// One `vrrp_sync_group`: its members change state together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncGroupConfig {
    pub name: String,
    /// Instance names.
    pub members: Vec<String>,
    /// Trackers added to every member (keepalived 2.2.7): their weights
    /// apply to each member, cleared if a member is the address owner.
    pub track_interfaces: Vec<TrackedInterface>,
    pub track_scripts: Vec<TrackedScript>,
    pub track_files: Vec<TrackedFile>,
    pub track_processes: Vec<TrackedProcess>,
    /// `sync_group_tracking_weight`: members keep their own weighted
    /// trackers; without it keepalived drops their weights.
    pub tracking_weight: bool,
}

/// Everything a [`Router`](crate::Router) runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouterConfig {
    pub instances: Vec<InstanceConfig>,
    pub scripts: Vec<ScriptConfig>,
    pub sync_groups: Vec<SyncGroupConfig>,
    /// `vrrp_track_process` blocks that instances or groups track.
    pub processes: Vec<ProcessConfig>,
}
