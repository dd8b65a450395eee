//! `global_defs { ... }`.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::time::Duration;
use serde::{Deserialize, Serialize};

use crate::command::RunAs;
use crate::instance::VrrpVersion;

/// Process-wide settings. Several are defaults that each `vrrp_instance`
/// inherits; the instance copies hold the resolved values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalDefs {
    /// `router_id STRING`; `None` = the local host name (the daemon fills it in).
    pub router_id: Option<String>,
    /// `notification_email { ADDR ... }`; default empty.
    pub notification_email: Vec<String>,
    /// `notification_email_from ADDR`; `None` = `keepalived@<host name>`.
    pub notification_email_from: Option<String>,
    /// `smtp_server HOST [PORT]`; default none (no mail).
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_connect_timeout SECS`: the limit for each step of the SMTP
    /// dialogue; default 30 s.
    #[serde(with = "crate::compact_duration")]
    pub smtp_connect_timeout: Duration,
    /// `smtp_helo_name NAME`; `None` = the local host name.
    pub smtp_helo_name: Option<String>,
    /// `smtp_alert [BOOL]`: the default of every `smtp_alert`; `None` = unset.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp [BOOL]`: the default for instances and sync groups,
    /// before `smtp_alert`.
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker [BOOL]`: the default for virtual and real
    /// servers, before `smtp_alert`.
    pub smtp_alert_checker: Option<bool>,
    /// `notify_fifo PATH [USER [GROUP]]` and `notify_fifo_script`: VRRP and
    /// LVS lines.
    pub notify_fifo: Option<NotifyFifo>,
    /// `vrrp_notify_fifo ...`: VRRP lines only.
    pub vrrp_notify_fifo: Option<NotifyFifo>,
    /// `lvs_notify_fifo ...`: LVS lines only.
    pub lvs_notify_fifo: Option<NotifyFifo>,
    /// `no_email_faults`: no mail for FAULT states; default false.
    pub no_email_faults: bool,
    /// `vrrp_notify_priority_changes [BOOL]`: the default of each instance's
    /// `notify_priority_changes`; default false.
    pub vrrp_notify_priority_changes: bool,
    /// `vrrp_mcast_group4 ADDR`; default 224.0.0.18 (RFC 5798).
    pub vrrp_mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6 ADDR`; default ff02::12.
    pub vrrp_mcast_group6: Ipv6Addr,
    /// `vrrp_garp_interval SECS`: pause between gratuitous ARPs on one
    /// interface (microsecond resolution); default 0.
    #[serde(with = "crate::compact_duration")]
    pub vrrp_garp_interval: Duration,
    /// `vrrp_gna_interval SECS`: pause between unsolicited NAs; default 0.
    #[serde(with = "crate::compact_duration")]
    pub vrrp_gna_interval: Duration,
    /// `vrrp_garp_master_delay SECS`: second GARP burst after becoming
    /// MASTER, 0 = none; default 5 s. Instances inherit it.
    #[serde(with = "crate::compact_duration")]
    pub vrrp_garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat N`: GARPs per burst; default 5.
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh SECS`: periodic GARP while MASTER, 0 = off;
    /// default 0.
    #[serde(with = "crate::compact_duration")]
    pub vrrp_garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat N`: GARPs per refresh; default 1.
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_extra_if SECS [all]` (2.2.7's deprecated spelling
    /// `vrrp_vmac_garp_intvl`): the instances' default `garp_extra_if`.
    pub vrrp_garp_extra_if: Option<crate::ExtraIfGarp>,
    /// `fifo_write_vrrp_states_on_reload`: a reload writes every kept
    /// instance's and sync group's state line to the VRRP FIFO.
    pub fifo_write_vrrp_states_on_reload: bool,
    /// `vrrp_skip_check_adv_addr [BOOL]`: don't compare the addresses in
    /// adverts from the current master; default false. Instances inherit it.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_strict`: strict RFC conformance (no auth, no unicast, no_accept
    /// unless owner); default false.
    pub vrrp_strict: bool,
    /// `vrrp_version 2|3`; default 2 (IPv6 instances always use 3).
    pub vrrp_version: VrrpVersion,
    /// `vrrp_check_unicast_src`: drop unicast adverts not from a listed
    /// peer; default false. Instances inherit it.
    pub vrrp_check_unicast_src: bool,
    /// `v3_checksum_as_v2`: VRRPv3 IPv4 checksum without the pseudo-header
    /// (old keepalived interop); default false.
    pub v3_checksum_as_v2: bool,
    /// `enable_script_security`: refuse scripts writable by non-root;
    /// default false.
    pub enable_script_security: bool,
    /// `script_user USER [GROUP]`: default identity for scripts; `None` =
    /// keepalived's `keepalived_script` user (or root if it doesn't exist).
    pub script_user: Option<RunAs>,
    /// `lvs_flush`: flush the whole IPVS table at startup; default false.
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop [VS]` (`lvs_flush_onstop` before 2.1.5): what
    /// leaves the IPVS table at stop; default each owned entry one by one.
    pub lvs_flush_on_stop: FlushOnStop,
    /// `lvs_sync_daemon ...` (or the older per-instance
    /// `lvs_sync_daemon_interface`): the kernel's connection sync daemon,
    /// master while the named instance is MASTER, backup otherwise.
    pub lvs_sync_daemon: Option<SyncDaemon>,
    /// `lvs_timeouts tcp N tcpfin N udp N`: IPVS connection timeouts set at
    /// start and restored at stop; 0 = leave the kernel's value.
    pub lvs_timeouts: LvsTimeouts,
    /// `control_socket_group GROUP` (vigil's own): members of this group may
    /// query the control socket besides root; default none (root only).
    pub control_socket_group: Option<String>,
    /// How the VRRP process is scheduled (`vrrp_rt_priority`,
    /// `vrrp_priority`, `vrrp_no_swap`, `vrrp_rlimit_rttime`).
    pub vrrp_sched: ProcessSched,
    /// `no_checker_emails`: a real server's mail only when the server
    /// itself goes up or down, not per checker change.
    pub no_checker_emails: bool,
    /// `checker_log_all_failures`: log every failed check of a live
    /// checker, not only its state changes.
    pub checker_log_all_failures: bool,
    /// `umask MODE`: the process umask (keepalived's default 0177 if
    /// `None`); a `--umask`-style command line option would win.
    pub umask: Option<u16>,
    /// `random_seed N`: seeds `${_RANDOM}` (read by a first pass).
    pub random_seed: Option<u32>,
    /// `nftables [TABLE]`, `nftables_priority`, `nftables_counters`.
    pub nftables: NftSettings,
}

/// The nf_tables table that enforces `no_accept`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NftSettings {
    /// Table name (family inet); keepalived's default `keepalived`.
    pub table: String,
    /// The base chains' hook priority; default -1.
    pub priority: i32,
    /// `nftables_counters`: a counter on each rule.
    pub counters: bool,
}

impl Default for NftSettings {
    fn default() -> Self {
        NftSettings {
            table: String::from("keepalived"),
            priority: -1,
            counters: false,
        }
    }
}

/// Scheduling of the VRRP process, as keepalived's `vrrp_*` global keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSched {
    /// `vrrp_rt_priority N` (1..=99): SCHED_RR at N, not inherited by
    /// scripts; 0 = normal scheduling (vigil's spelling). `None` = not
    /// given: vigil's default, SCHED_RR 1 (keepalived's is normal
    /// scheduling; the daemon's README says why).
    pub rt_priority: Option<u8>,
    /// `vrrp_priority N` (-20..=19): the nice value under normal
    /// scheduling; default 0.
    pub nice: i8,
    /// `vrrp_no_swap`: lock the process in memory (mlockall); default off.
    pub no_swap: bool,
    /// `vrrp_rlimit_rttime USECS` (`vrrp_rlimit_rtime`): RLIMIT_RTTIME
    /// under SCHED_RR, CPU a realtime process may use without sleeping;
    /// default 10,000 us, as keepalived.
    pub rlimit_rttime_us: u32,
    /// `max_auto_priority [N]` (-1..=99): a loop that runs more than
    /// `min_auto_priority_delay` late raises its SCHED_RR priority by one
    /// (from normal scheduling: to 1), up to N; 0 (the default) and -1
    /// leave it alone; no value = 99.
    pub max_auto_priority: i8,
    /// `min_auto_priority_delay USECS` (1..=10,000,000); default 1 s.
    pub min_auto_priority_delay_us: u32,
}

impl Default for ProcessSched {
    fn default() -> Self {
        ProcessSched {
            rt_priority: None,
            nice: 0,
            no_swap: false,
            rlimit_rttime_us: 10_000,
            max_auto_priority: 0,
            min_auto_priority_delay_us: 1_000_000,
        }
    }
}

/// `lvs_flush_on_stop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FlushOnStop {
    /// Not given: remove each real server, then each virtual server we own.
    #[default]
    Each,
    /// `lvs_flush_on_stop`: one flush of the whole table, foreign services
    /// included (keepalived's documented behaviour).
    All,
    /// `lvs_flush_on_stop VS`: remove each virtual server we own; the kernel
    /// drops their real servers with them.
    VirtualServers,
}

/// `lvs_sync_daemon INTERFACE INSTANCE [id N] [maxlen N] [port N] [ttl N]
/// [group ADDR]`. Unset options keep the kernel's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDaemon {
    /// The interface the sync messages go out and come in on.
    pub interface: String,
    /// The VRRP instance whose state decides master or backup (always an
    /// existing instance once validated).
    pub instance: String,
    /// `id N` (0..=255); resolved to the instance's VRID when not given.
    pub sync_id: u8,
    /// `maxlen N`: largest sync message payload.
    pub maxlen: Option<u16>,
    /// `port N`: UDP port (the kernel's default is 8848).
    pub port: Option<u16>,
    /// `ttl N`: multicast TTL.
    pub ttl: Option<u8>,
    /// `group ADDR`: multicast group (the kernel's default is 224.0.0.81).
    pub group: Option<IpAddr>,
}

/// `lvs_timeouts`: seconds, 0 = not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LvsTimeouts {
    /// `tcp N`: established TCP connections.
    pub tcp: u32,
    /// `tcpfin N`: TCP connections after a FIN.
    pub tcp_fin: u32,
    /// `udp N`.
    pub udp: u32,
}

impl LvsTimeouts {
    /// True if any timeout is set.
    pub fn any(&self) -> bool {
        self.tcp != 0 || self.tcp_fin != 0 || self.udp != 0
    }
}

/// A notify FIFO: keepalived writes one line per event to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyFifo {
    /// The path; created (mode 0600, as keepalived) if missing.
    pub path: String,
    /// `USER [GROUP]` after the path: the FIFO's owner when created.
    pub owner: Option<RunAs>,
    /// `*notify_fifo_script CMD [USER [GROUP]]`: started once, with the path
    /// as its last argument, to read the FIFO.
    pub script: Option<crate::command::Command>,
}

/// `smtp_server HOST [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpServer {
    /// IP address or domain name, as written.
    pub host: String,
    /// TCP port; default 25.
    pub port: u16,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_helo_name: None,
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            notify_fifo: None,
            vrrp_notify_fifo: None,
            lvs_notify_fifo: None,
            no_email_faults: false,
            vrrp_notify_priority_changes: false,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Duration::ZERO,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_extra_if: None,
            fifo_write_vrrp_states_on_reload: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_strict: false,
            vrrp_version: VrrpVersion::V2,
            vrrp_check_unicast_src: false,
            v3_checksum_as_v2: false,
            enable_script_security: false,
            script_user: None,
            lvs_flush: false,
            lvs_flush_on_stop: FlushOnStop::Each,
            lvs_sync_daemon: None,
            lvs_timeouts: LvsTimeouts::default(),
            control_socket_group: None,
            vrrp_sched: ProcessSched::default(),
            no_checker_emails: false,
            checker_log_all_failures: false,
            umask: None,
            random_seed: None,
            nftables: NftSettings::default(),
        }
    }
}

impl GlobalDefs {
    /// keepalived's resolution of an instance's or sync group's
    /// `smtp_alert`: its own, else `smtp_alert_vrrp`, else `smtp_alert`,
    /// else off.
    pub fn vrrp_alert(&self, own: Option<bool>) -> bool {
        own.or(self.smtp_alert_vrrp)
            .or(self.smtp_alert)
            .unwrap_or(false)
    }

    /// The same for a virtual server (default off) or a real server
    /// (default on, as keepalived 2.2.7 has it): own, else
    /// `smtp_alert_checker`, else `smtp_alert`.
    pub fn checker_alert(&self, own: Option<bool>, default: bool) -> bool {
        own.or(self.smtp_alert_checker)
            .or(self.smtp_alert)
            .unwrap_or(default)
    }

    /// True when mail can be sent at all: a server and a recipient.
    pub fn mail_configured(&self) -> bool {
        self.smtp_server.is_some() && !self.notification_email.is_empty()
    }
}
