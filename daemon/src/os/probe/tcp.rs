//! TCP_CHECK: connected within connect_timeout passes; the connection is
//! closed at once without data, as keepalived does.

use std::time::{Duration, Instant};

use vigil_check::ProbeResult;

use super::connect::{self, Target};

pub(super) async fn probe(t: &Target, timeout: Duration) -> ProbeResult {
    match connect::tcp(t, Instant::now() + timeout).await {
        Ok(stream) => {
            drop(stream);
            ProbeResult::Ok
        }
        Err(r) => r,
    }
}
