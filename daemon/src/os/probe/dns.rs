//! DNS_CHECK over UDP: one query, then datagrams are read until one answers
//! it (see `vigil_check::dns`) or connect_timeout has passed since the start.

use std::time::{Duration, Instant};

use smol::{future, Timer};
use vigil_check::{dns, FailReason, ProbeResult};
use vigil_model::DnsType;

use super::connect::{self, Target};

/// Largest datagram read; the header is all that is judged.
const RECV_BUF: usize = 4096;

pub(super) async fn probe(
    t: &Target,
    timeout: Duration,
    qtype: DnsType,
    name: &str,
) -> ProbeResult {
    let deadline = Instant::now() + timeout;
    let id = random_id();
    let Ok(query) = dns::query(id, name, qtype) else {
        return ProbeResult::NotRun(FailReason::BadDnsName);
    };
    let sock = match connect::udp(t) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let exchange = async {
        if let Err(e) = sock.send(&query).await {
            return connect::classify(&e);
        }
        let mut buf = [0u8; RECV_BUF];
        loop {
            match sock.recv(&mut buf).await {
                // An ICMP port unreachable comes back as ECONNREFUSED.
                Err(e) => return connect::classify(&e),
                Ok(n) => match dns::judge(id, &buf[..n]) {
                    None => continue,
                    Some(Ok(())) => return ProbeResult::Ok,
                    Some(Err(why)) => return ProbeResult::Failed(why),
                },
            }
        }
    };
    let timeout = async {
        Timer::at(deadline).await;
        ProbeResult::Failed(FailReason::ResponseTimeout)
    };
    future::or(exchange, timeout).await
}

/// A query id nobody can predict from outside (std's per-process random
/// hash keys); not cryptographic, which DNS_CHECK does not need.
fn random_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() & 0xffff) as u16
}
