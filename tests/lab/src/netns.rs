//! Namespaces and links. A [`Lab`] owns a switch namespace holding bridge `br0`;
//! each [`Host`] is a namespace whose `eth0` is a veth plugged into that bridge.

use crate::cleanup;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// Runs `ip` with `args`; `Err` carries the command and its stderr.
pub fn ip(args: &[&str]) -> Result<Output, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Tells why the lab cannot run here, if it cannot (not root, no namespaces).
pub fn unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root: network namespaces need CAP_SYS_ADMIN".into());
    }
    let probe = format!("vlprobe{}", std::process::id());
    match ip(&["netns", "add", &probe]) {
        Ok(_) => {
            cleanup::delete_namespace(&probe);
            None
        }
        Err(e) => Some(format!("cannot create a network namespace: {e}")),
    }
}

pub struct Lab {
    prefix: String,
    switch: String,
    hosts: Vec<String>,
    /// Scratch directory for configs, logs and pid files; removed on drop.
    pub dir: PathBuf,
}

/// One namespace of the lab, with its `eth0` on the bridge.
#[derive(Clone)]
pub struct Host {
    pub name: String,
    pub ns: String,
    /// The address given to eth0 (with prefix length), e.g. "192.168.67.100/24".
    pub addr: String,
    pub(crate) dir: PathBuf,
}

impl Lab {
    /// Creates the switch namespace with its bridge.
    pub fn new(tag: &str) -> Result<Lab, String> {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("vl{}{}", std::process::id() % 100000, n);
        // Not under /tmp: script security (enable_script_security) refuses scripts
        // below a world-writable directory, and the lab's notify scripts live here.
        let dir = crate::workspace_root()
            .join("target/lab")
            .join(format!("{prefix}-{tag}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let switch = format!("{prefix}-sw");
        let lab = Lab {
            prefix,
            switch: switch.clone(),
            hosts: Vec::new(),
            dir,
        };
        ip(&["netns", "add", &switch])?;
        cleanup::register(&switch);
        ip(&["-n", &switch, "link", "add", "br0", "type", "bridge"])?;
        // No STP delays and no multicast snooping: VRRP multicast must flood at once.
        ip(&[
            "-n",
            &switch,
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ])?;
        ip(&["-n", &switch, "link", "set", "br0", "up"])?;
        Ok(lab)
    }

    /// Adds a host namespace `name` with `eth0` = `addr` (CIDR) on the bridge, and a MAC
    /// derived from the host index so that ARP assertions can name it.
    pub fn host(&mut self, name: &str, addr: &str) -> Result<Host, String> {
        let ns = format!("{}-{}", self.prefix, name);
        ip(&["netns", "add", &ns])?;
        cleanup::register(&ns);
        self.hosts.push(ns.clone());
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        self.plug(&ns, self.hosts.len(), addr)?;
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Host {
            name: name.to_string(),
            ns,
            addr: addr.to_string(),
            dir,
        })
    }

    /// Host number `n` (from 1) of namespace `ns`: its `eth0` (MAC from `n`,
    /// address `addr`) as a veth whose peer `p<n>` is a port of the bridge.
    fn plug(&self, ns: &str, n: usize, addr: &str) -> Result<(), String> {
        let port = format!("p{n}");
        let mac = format!("02:00:00:00:00:{n:02x}");
        ip(&[
            "-n",
            ns,
            "link",
            "add",
            "eth0",
            "address",
            &mac,
            "type",
            "veth",
            "peer",
            "name",
            &port,
            "netns",
            &self.switch,
        ])?;
        ip(&[
            "-n",
            &self.switch,
            "link",
            "set",
            &port,
            "master",
            "br0",
            "up",
        ])?;
        ip(&["-n", ns, "addr", "add", addr, "dev", "eth0"])?;
        ip(&["-n", ns, "link", "set", "eth0", "up"])?;
        Ok(())
    }

    fn number(&self, host: &Host) -> Result<usize, String> {
        self.hosts
            .iter()
            .position(|h| *h == host.ns)
            .map(|i| i + 1)
            .ok_or_else(|| format!("unknown host {}", host.name))
    }

    /// Deletes `host`'s `eth0` (the veth pair, so its bridge port goes too), as
    /// when a PPP link, a VLAN or a USB modem disappears.
    pub fn delete_eth0(&self, host: &Host) -> Result<(), String> {
        self.number(host)?;
        ip(&["-n", &host.ns, "link", "del", "eth0"]).map(|_| ())
    }

    /// Re-creates `host`'s `eth0` after [`Lab::delete_eth0`]: same name, MAC and
    /// address (a new interface index), peer back on the bridge, link up.
    pub fn recreate_eth0(&self, host: &Host) -> Result<(), String> {
        let n = self.number(host)?;
        self.plug(&host.ns, n, &host.addr)
    }

    /// The interface index of `dev` in `host`.
    pub fn ifindex(&self, host: &Host, dev: &str) -> Result<u32, String> {
        let out = host.run(&["cat", &format!("/sys/class/net/{dev}/ifindex")])?;
        out.trim()
            .parse()
            .map_err(|e| format!("[{}] ifindex of {dev}: {e}", host.name))
    }

    /// Cuts or restores `host`'s cable (its bridge port) without touching the host.
    pub fn cable(&self, host: &Host, up: bool) -> Result<(), String> {
        let port = format!("p{}", self.number(host)?);
        ip(&[
            "-n",
            &self.switch,
            "link",
            "set",
            &port,
            if up { "up" } else { "down" },
        ])
        .map(|_| ())
    }

    pub fn switch_ns(&self) -> &str {
        &self.switch
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.hosts.iter().rev().chain(std::iter::once(&self.switch)) {
            cleanup::delete_namespace(ns);
            cleanup::unregister(ns);
        }
        if std::env::var_os("VIGIL_LAB_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Host {
    /// Runs a command inside the namespace and returns its stdout; `Err` on failure.
    pub fn run(&self, argv: &[&str]) -> Result<String, String> {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(argv)
            .output()
            .map_err(|e| format!("{}: {e}", argv.join(" ")))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "[{}] {}: {}{}",
                self.name,
                argv.join(" "),
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// The IPv4 address of eth0 without prefix.
    pub fn ip4(&self) -> &str {
        self.addr.split('/').next().unwrap_or(&self.addr)
    }

    /// Does `dev` carry `addr` (no prefix) right now? Also returns the label shown.
    pub fn addr_label(&self, dev: &str, addr: &str) -> Option<String> {
        let out = self
            .run(&["ip", "-o", "-4", "addr", "show", "dev", dev])
            .ok()?;
        out.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            words.find(|w| *w == "inet")?;
            let a = words.next()?;
            if a.split('/').next()? != addr {
                return None;
            }
            // `... inet A/P [brd B] scope S [secondary] LABEL\ valid_lft ...`
            let label = l.split("\\").next()?.split_whitespace().last()?.to_string();
            Some(label)
        })
    }

    pub fn has_addr(&self, dev: &str, addr: &str) -> bool {
        self.addr_label(dev, addr).is_some()
    }

    /// The MAC of one of this host's links.
    pub fn mac(&self, dev: &str) -> Result<String, String> {
        let out = self.run(&["cat", &format!("/sys/class/net/{dev}/address")])?;
        Ok(out.trim().to_string())
    }

    /// The neighbour-table MAC for `addr` on eth0, if any (any NUD state with a lladdr).
    pub fn neigh_mac(&self, addr: &str) -> Option<String> {
        let out = self
            .run(&["ip", "neigh", "show", addr, "dev", "eth0"])
            .ok()?;
        let mut w = out.split_whitespace();
        w.find(|x| *x == "lladdr")?;
        w.next().map(str::to_string)
    }

    /// One ping with a short deadline.
    pub fn ping(&self, addr: &str) -> bool {
        self.run(&["ping", "-c", "1", "-W", "1", "-q", addr])
            .is_ok()
    }

    /// Writes a file into this host's scratch directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> Result<PathBuf, String> {
        let p = self.dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(p)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
