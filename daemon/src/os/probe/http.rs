//! HTTP_GET over plain TCP, URL after URL, each on its own connection:
//! connect within connect_timeout, then send keepalived's request and take
//! the whole response within connect_timeout again. Unlike keepalived's
//! per-read idle timer, the second bound covers the whole response, so a
//! server that trickles bytes cannot hold a probe forever.

use std::time::{Duration, Instant};

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{future, Timer};
use vigil_check::http::{request, Progress, ResponseJudge};
use vigil_check::{FailReason, HttpUrl, ProbeResult};
use vigil_model::HttpProtocol;

use super::connect::{self, Target};

/// keepalived reads in 4 KiB chunks too.
const READ_CHUNK: usize = 4096;

pub(super) async fn probe(
    t: &Target,
    timeout: Duration,
    protocol: HttpProtocol,
    urls: &[HttpUrl],
) -> ProbeResult {
    for url in urls {
        let r = one(t, timeout, protocol, url).await;
        if r != ProbeResult::Ok {
            return r;
        }
    }
    ProbeResult::Ok
}

async fn one(t: &Target, timeout: Duration, protocol: HttpProtocol, url: &HttpUrl) -> ProbeResult {
    let mut stream = match connect::tcp(t, Instant::now() + timeout).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let deadline = Instant::now() + timeout;
    let exchange = async {
        let req = request(url, protocol, t.ip, t.port);
        if let Err(e) = stream.write_all(req.as_bytes()).await {
            return connect::classify(&e);
        }
        let mut judge = ResponseJudge::new(url);
        let mut buf = [0u8; READ_CHUNK];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return verdict(judge.finish()),
                Ok(n) => {
                    if let Progress::Done(v) = judge.feed(&buf[..n]) {
                        return verdict(v);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return connect::classify(&e),
            }
        }
    };
    let timeout = async {
        Timer::at(deadline).await;
        ProbeResult::Failed(FailReason::ResponseTimeout)
    };
    future::or(exchange, timeout).await
}

fn verdict(v: Result<(), FailReason>) -> ProbeResult {
    match v {
        Ok(()) => ProbeResult::Ok,
        Err(why) => ProbeResult::Failed(why),
    }
}
