//! Shared by the `probe_*` tests: a namespace with a local address, a
//! subnet that swallows packets and a blackhole route; running a probe
//! inside it and timing it; and the printed table of probe times.
//!
//! Layout of the namespace:
//! - `v0` (one end of a veth pair whose other end `v1` is up in the same
//!   namespace) with 10.77.0.1/24: servers listen there;
//! - 10.79.0.5 on-link through `v0` with a permanent neighbour entry for a
//!   MAC nobody has: `v1` drops the frames, so a SYN is never answered (a
//!   dead host, without waiting for ARP to give up);
//! - 10.78.0.0/24 is a blackhole route (connect fails with EINVAL).

#![allow(dead_code)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use vigil::os::probe::{run, ProbeEnv};
use vigil_check::{ProbeKind, ProbeResult};

use crate::os_util::Netns;

pub const SERVER: &str = "10.77.0.1";
pub const DROPPED: &str = "10.79.0.5";
pub const BLACKHOLED: &str = "10.78.0.5";

/// A namespace laid out as above, or why not.
pub fn lab() -> Result<Netns, String> {
    let ns = Netns::new()?;
    let out = ns.try_sh(
        "ip link add v0 type veth peer name v1 && ip addr add 10.77.0.1/24 dev v0 \
         && ip link set v1 up && ip link set v0 up && ip route add 10.79.0.0/24 dev v0 \
         && ip neigh add 10.79.0.5 lladdr 02:00:00:00:00:01 dev v0 nud permanent \
         && ip route add blackhole 10.78.0.0/24",
    );
    if !out.status.success() {
        return Err(format!(
            "cannot build the probe lab: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(ns)
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A TCP_CHECK connect to `addr:port` from any local port.
pub fn tcp(addr: &str, port: u16, timeout_ms: u64) -> ProbeKind {
    ProbeKind::Tcp {
        connect_ip: ip(addr),
        port,
        bindto: None,
        bind_port: None,
        timeout: Duration::from_millis(timeout_ms),
    }
}

/// The env of a config without `global_defs` script settings: root.
pub fn root_env() -> ProbeEnv {
    ProbeEnv {
        script_security: false,
        script_user: (0, 0),
    }
}

/// Runs `kind` in `ns`; the result and how long it took.
pub fn probe_in(ns: &Netns, kind: ProbeKind) -> (ProbeResult, Duration) {
    ns.run(move || timed(&kind, &root_env()))
}

/// Runs `kind` here; the result and how long it took.
pub fn timed(kind: &ProbeKind, env: &ProbeEnv) -> (ProbeResult, Duration) {
    let t0 = Instant::now();
    let r = smol::block_on(run(kind, env));
    (r, t0.elapsed())
}

/// One row of the table of measured probe times (run with --nocapture).
pub fn row(case: &str, r: &ProbeResult, took: Duration) {
    println!(
        "probe-time | {case:<44} | {:<52} | {:>6} ms",
        r.to_string(),
        took.as_millis()
    );
}

/// `took` lies in `[low, low + slack]`.
pub fn within(took: Duration, low: Duration, slack: Duration) -> bool {
    took >= low && took <= low + slack
}

/// The slack allowed on a bound: scheduling on a busy 2-core machine.
pub const SLACK: Duration = Duration::from_millis(200);
