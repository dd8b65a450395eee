//! One line of `virtual_ipaddress { ... }`.

use alloc::string::String;
use core::net::{IpAddr, Ipv4Addr};
use serde::{Deserialize, Serialize};

/// `ADDR[/PREFIX] [brd ADDR] [dev IF] [scope SCOPE] [label LABEL] [no_track]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualAddress {
    /// The address itself.
    pub addr: IpAddr,
    /// `/PREFIX`; default 32 for IPv4, 128 for IPv6.
    pub prefix_len: u8,
    /// `brd ADDR` (IPv4 only); default none.
    pub broadcast: Option<Ipv4Addr>,
    /// `dev IF`; `None` = the instance's interface.
    pub dev: Option<String>,
    /// `scope SCOPE`; default global.
    pub scope: AddrScope,
    /// `label LABEL` (IPv4 only, e.g. `eth0:0`); default none.
    pub label: Option<String>,
    /// `no_track`: the address vanishing does not make the instance leave
    /// MASTER; default false.
    pub no_track: bool,
}

/// `scope` of an address (as in `ip address add ... scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddrScope {
    /// `global` (0), the default.
    Global,
    /// `site` (200).
    Site,
    /// `link` (253).
    Link,
    /// `host` (254).
    Host,
    /// `nowhere` (255).
    Nowhere,
}

impl AddrScope {
    /// The keyword as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            AddrScope::Global => "global",
            AddrScope::Site => "site",
            AddrScope::Link => "link",
            AddrScope::Host => "host",
            AddrScope::Nowhere => "nowhere",
        }
    }

    /// The kernel's `RT_SCOPE_*` value.
    pub fn kernel_value(self) -> u8 {
        match self {
            AddrScope::Global => 0,
            AddrScope::Site => 200,
            AddrScope::Link => 253,
            AddrScope::Host => 254,
            AddrScope::Nowhere => 255,
        }
    }
}
