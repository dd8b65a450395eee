//! Host-name lookup for the few names a configuration may give (today
//! `smtp_server`): `/etc/hosts`, then the `nameserver`s of
//! `/etc/resolv.conf` over UDP, asked for an A and then an AAAA record.
//!
//! Why not the C library's resolver (`ToSocketAddrs`): in the static musl
//! binary it costs 28.5 KB of the 1 MiB firmware budget, and it blocks a
//! thread for as long as a server takes. This one reuses DNS_CHECK's codec
//! (`vigil_check::dns`) and smol's sockets, every wait bounded.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use vigil_check::dns;
use vigil_model::DnsType;

/// Longest part of `/etc/hosts` or `/etc/resolv.conf` read.
const MAX_FILE: u64 = 64 * 1024;
/// Nameservers asked, at most (as the C library's MAXNS).
const MAX_SERVERS: usize = 3;
/// One query's wait for its answer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// The first address of `host`, a name (an address literal is the
/// caller's business).
pub async fn lookup(host: &str) -> io::Result<IpAddr> {
    let name = host.trim_end_matches('.');
    if let Some(ip) = read_small("/etc/hosts").and_then(|t| in_hosts(&t, name)) {
        return Ok(ip);
    }
    let conf = read_small("/etc/resolv.conf").unwrap_or_default();
    let mut servers = nameservers(&conf);
    if servers.is_empty() {
        // resolv.conf(5): no nameserver line means the local one.
        servers.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for server in servers {
        for qtype in [DnsType::A, DnsType::Aaaa] {
            match ask(SocketAddr::new(server, 53), name, qtype).await {
                Ok(Some(ip)) => return Ok(ip),
                Ok(None) => {}
                Err(e) => {
                    last = e;
                    break; // this server does not answer: the next one
                }
            }
        }
    }
    Err(last)
}

fn read_small(path: &str) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_FILE)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// `name`'s address in hosts(5) text: the first line naming it.
fn in_hosts(text: &str, name: &str) -> Option<IpAddr> {
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let ip: IpAddr = words.next()?.parse().ok()?;
        words.any(|w| w.eq_ignore_ascii_case(name)).then_some(ip)
    })
}

/// The `nameserver` addresses of resolv.conf(5) text, at most three.
fn nameservers(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == "nameserver").then(|| w.next()?.parse().ok())?
        })
        .take(MAX_SERVERS)
        .collect()
}

/// One query to `server`: `Ok(None)` when it answers without an address
/// of that type.
async fn ask(server: SocketAddr, name: &str, qtype: DnsType) -> io::Result<Option<IpAddr>> {
    let bad = |e: dns::NameError| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
    let id = (crate::os::clock::now_us() as u16) | 1;
    let query = dns::query(id, name, qtype).map_err(bad)?;
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = smol::net::UdpSocket::bind(local).await?;
    sock.connect(server).await?;
    sock.send(&query).await?;
    let answer = async {
        let mut buf = [0u8; 1500];
        loop {
            let n = sock.recv(&mut buf).await?;
            let Some(d) = buf.get(..n) else { continue };
            // Another id or not a response: keep waiting (as DNS_CHECK).
            if dns::judge(id, d).is_some() {
                return Ok(dns::first_address(id, d));
            }
        }
    };
    let timeout = async {
        smol::Timer::after(QUERY_TIMEOUT).await;
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer from {server}"),
        ))
    };
    smol::future::or(answer, timeout).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_resolv_conf() {
        let hosts = "127.0.0.1 localhost\n# 10.9.9.9 mail\n10.0.0.25  relay.lab  MAIL # ours\n";
        assert_eq!(in_hosts(hosts, "mail"), Some([10, 0, 0, 25].into()));
        assert_eq!(in_hosts(hosts, "relay.lab"), Some([10, 0, 0, 25].into()));
        assert_eq!(in_hosts(hosts, "other"), None);
        let conf = "search lab\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\nnameserver ::1\n\
                    nameserver 10.0.0.54\nnameserver 10.0.0.55\n";
        // A scoped address does not parse and is skipped, as musl does.
        assert_eq!(
            nameservers(conf),
            vec![
                IpAddr::from([10, 0, 0, 53]),
                "::1".parse().unwrap(),
                IpAddr::from([10, 0, 0, 54])
            ]
        );
    }
}
