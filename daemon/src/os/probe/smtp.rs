//! SMTP_CHECK, one host: connect within connect_timeout, then the whole
//! conversation of `vigil_check::smtp` (greeting, HELO, QUIT) within
//! connect_timeout again.

use std::time::{Duration, Instant};

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{future, Timer};
use vigil_check::smtp::{Dialog, Step, MAX_LINE};
use vigil_check::{FailReason, ProbeResult};

use super::connect::{self, Target};

pub(super) async fn probe(t: &Target, timeout: Duration, helo_name: &str) -> ProbeResult {
    let mut stream = match connect::tcp(t, Instant::now() + timeout).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let deadline = Instant::now() + timeout;
    let talk = async {
        let mut dialog = Dialog::new(helo_name);
        let mut buf = [0u8; MAX_LINE];
        loop {
            let step = match stream.read(&mut buf).await {
                Ok(0) => dialog.closed(),
                Ok(n) => dialog.feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return connect::classify(&e),
            };
            match step {
                Step::Read => {}
                Step::Send(line) => {
                    if let Err(e) = stream.write_all(&line).await {
                        return connect::classify(&e);
                    }
                }
                Step::Done(Ok(())) => return ProbeResult::Ok,
                Step::Done(Err(why)) => return ProbeResult::Failed(why),
            }
        }
    };
    let timeout = async {
        Timer::at(deadline).await;
        ProbeResult::Failed(FailReason::ResponseTimeout)
    };
    future::or(talk, timeout).await
}
