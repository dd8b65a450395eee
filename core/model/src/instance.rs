//! `vrrp_instance NAME { ... }`: one virtual router on one interface.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;
use serde::{Deserialize, Serialize};

use crate::command::Notify;
use crate::route::{Route, Rule};
use crate::virtual_address::VirtualAddress;

/// A VRRP virtual router as keepalived configures it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpInstance {
    /// The block's NAME (used in logs, notify arguments and sync groups).
    pub name: String,
    /// `state MASTER|BACKUP`: the state hint at startup. Default: MASTER if
    /// the priority is 255, else BACKUP.
    pub state: InitialState,
    /// `interface IF`: where adverts are sent and VIPs go by default. May be
    /// omitted only with unicast peers.
    pub interface: Option<String>,
    /// `virtual_router_id N`, 1..=255; required. Unique per interface and
    /// address family.
    pub virtual_router_id: u8,
    /// `priority N`, 1..=255. keepalived's default: 255 when `state MASTER`
    /// is written without a priority, else 100.
    pub priority: u8,
    /// `advert_int SECS`; default 1 s. VRRPv2: whole seconds 1..=255;
    /// VRRPv3: multiples of 10 ms, 0.01..=40.95 s.
    #[serde(with = "crate::compact_duration")]
    pub advert_int: Duration,
    /// `version 2|3`; default the global `vrrp_version`; always 3 for IPv6.
    pub version: VrrpVersion,
    /// `authentication { auth_type PASS|AH; auth_pass XXX }`; default none.
    pub auth: Auth,
    /// `virtual_ipaddress { ... }`: the VIPs carried in adverts; all of one
    /// family, which is the instance's family.
    pub virtual_addresses: Vec<VirtualAddress>,
    /// `virtual_ipaddress_excluded { ... }`: VIPs set with the others but not
    /// advertised (may mix families).
    pub excluded_addresses: Vec<VirtualAddress>,
    /// `virtual_routes { ... }`: installed with the VIPs when MASTER,
    /// removed when leaving MASTER.
    pub virtual_routes: Vec<Route>,
    /// `virtual_rules { ... }`: the same, for policy rules.
    pub virtual_rules: Vec<Rule>,
    /// `mcast_src_ip ADDR` / `unicast_src_ip ADDR`: source of our adverts;
    /// `None` = the interface's primary address.
    pub src_ip: Option<IpAddr>,
    /// `unicast_peer { ADDR ... }`: send adverts unicast to these (same
    /// family as the instance); empty = multicast.
    pub unicast_peers: Vec<IpAddr>,
    /// `nopreempt` (false) / `preempt` (true); default true.
    pub preempt: bool,
    /// `preempt_delay SECS`, 0..=1000; default 0.
    #[serde(with = "crate::compact_duration")]
    pub preempt_delay: Duration,
    /// `track_script { NAME [weight N [reverse]] }`.
    pub track_scripts: Vec<TrackScript>,
    /// `track_interface { IF [weight N [reverse]] }`.
    pub track_interfaces: Vec<TrackInterface>,
    /// `track_file { NAME [weight N [reverse]] }`.
    pub track_files: Vec<crate::TrackRef>,
    /// `track_process { NAME [weight N [reverse]] }`.
    pub track_processes: Vec<crate::TrackRef>,
    /// `notify_master|backup|fault|stop|notify`.
    pub notify: Notify,
    /// `smtp_alert [BOOL]`: mail on transitions; `None` = the global
    /// default ([`crate::GlobalDefs::vrrp_alert`]).
    pub smtp_alert: Option<bool>,
    /// `notify_deleted [CMD]`: an instance removed by a reload notifies
    /// DELETED (and runs CMD) instead of keepalived's old FAULT.
    pub notify_deleted: bool,
    /// The command given to `notify_deleted`.
    pub notify_deleted_script: Option<crate::command::Command>,
    /// `notify_master_rx_lower_pri CMD`: run when a MASTER hears an advert
    /// of lower priority.
    pub notify_master_rx_lower_pri: Option<crate::command::Command>,
    /// `notify_priority_changes [BOOL]`: a FIFO line at each change of the
    /// effective priority; `None` = the sync group's, else the global
    /// `vrrp_notify_priority_changes`.
    pub notify_priority_changes: Option<bool>,
    /// `garp_master_delay SECS`; default the global `vrrp_garp_master_delay`.
    #[serde(with = "crate::compact_duration")]
    pub garp_master_delay: Duration,
    /// `garp_master_repeat N`; default the global `vrrp_garp_master_repeat`.
    pub garp_master_repeat: u32,
    /// `garp_master_refresh SECS`, 0 = off; default the global value.
    #[serde(with = "crate::compact_duration")]
    pub garp_master_refresh: Duration,
    /// `garp_master_refresh_repeat N`; default the global value.
    pub garp_master_refresh_repeat: u32,
    /// `accept` (true) / `no_accept` (false): answer traffic to the VIPs
    /// when not the address owner; default true, false under `vrrp_strict`.
    pub accept: bool,
    /// `use_vmac [NAME]`: put the VIPs on a macvlan with the VRRP virtual
    /// MAC; the name defaults to `vrrp.<VRID>`. `None` = no VMAC.
    pub use_vmac: Option<String>,
    /// `use_vmac`'s MAC argument (six octets, or five and the VRID); `None` =
    /// RFC 5798's 00-00-5E-00-01-VRID (IPv4) / 00-00-5E-00-02-VRID (IPv6).
    pub vmac_mac: Option<[u8; 6]>,
    /// `vmac_xmit_base`: adverts go out on the base interface, not the VMAC.
    pub vmac_xmit_base: bool,
    /// `use_vmac_addr`: VIPs on another interface (`dev`) or of the other
    /// family get a VMAC of their own on that interface.
    pub use_vmac_addr: bool,
    /// `dont_track_primary`: ignore the interface's link state; default false.
    pub dont_track_primary: bool,
    /// `check_unicast_src [BOOL]`: drop unicast adverts not from a listed
    /// peer; default the global `vrrp_check_unicast_src`.
    pub check_unicast_src: bool,
    /// `skip_check_adv_addr [BOOL]`; default the global
    /// `vrrp_skip_check_adv_addr`.
    pub skip_check_adv_addr: bool,
    /// `strict_mode [BOOL]`, default the global `vrrp_strict`: the
    /// configuration fixes are applied already; the state machine also
    /// keeps keepalived's strict receive rules (no reply to a lower
    /// priority, adverts with authentication or to unicast dropped).
    pub strict: bool,
    /// `unicast_ttl N` (0..=255): the TTL / hop limit of unicast adverts
    /// sent; `None` = 255 (IPv4) / the kernel's default (IPv6), as
    /// keepalived. Ignored (with a warning) without unicast peers.
    pub unicast_ttl: Option<u8>,
    /// `garp_extra_if SECS [all]` (2.2.7's deprecated spelling
    /// `vmac_garp_intvl`), default the global `vrrp_garp_extra_if`:
    /// gratuitous ARP / NA every SECS while MASTER on the interfaces of
    /// the VIPs other than the instance's own. `None` = off.
    pub garp_extra_if: Option<ExtraIfGarp>,
}

/// `garp_extra_if SECS [all]` / `vrrp_garp_extra_if SECS [all]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraIfGarp {
    /// The period, whole seconds (1..=86400).
    #[serde(with = "crate::compact_duration")]
    pub interval: Duration,
    /// `all`: every extra interface, not only the VMACs of `use_vmac_addr`.
    pub all: bool,
}

impl VrrpInstance {
    /// True when the instance's family is IPv6 (its VIPs, else its peers).
    pub fn is_ipv6(&self) -> bool {
        match self.virtual_addresses.first() {
            Some(vip) => vip.addr.is_ipv6(),
            None => self.unicast_peers.first().is_some_and(IpAddr::is_ipv6),
        }
    }
}

/// `state MASTER|BACKUP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InitialState {
    /// Try to become master at startup.
    Master,
    /// Wait for the master-down timer first.
    Backup,
}

/// VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VrrpVersion {
    /// RFC 3768: IPv4 only, advert interval in whole seconds, optional auth.
    V2,
    /// RFC 5798: IPv4 and IPv6, advert interval in centiseconds.
    V3,
}

/// VRRPv2 authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Auth {
    /// No `authentication` block (or VRRPv3, which has none).
    None,
    /// `auth_type PASS`: the first 8 bytes of `auth_pass`, zero padded, as
    /// carried in the advert.
    Pass([u8; 8]),
    /// `auth_type AH`: IPsec AH (protocol 51) with HMAC-MD5-96 keyed by the
    /// first 8 bytes of `auth_pass`, zero padded; VRRPv2 over IPv4 only.
    Ah([u8; 8]),
}

/// One `track_script` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackScript {
    /// Name of a `vrrp_script` block.
    pub name: String,
    /// The entry's `weight N` or, when absent, the script's own weight.
    pub weight: i16,
    /// `reverse`: the entry's flag, or the script's when no weight is given.
    pub reverse: bool,
}

/// One `track_interface` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackInterface {
    /// Interface name.
    pub name: String,
    /// `weight N`, -253..=253; default 0 (link down = FAULT).
    pub weight: i16,
    /// `reverse`: adjust the priority the other way.
    pub reverse: bool,
}
