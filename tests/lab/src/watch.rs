//! Samples which hosts hold a VIP, in a background thread, to measure how long two
//! masters coexisted and when the VIP moved.

use crate::netns::Host;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One sample: time since the start, and which hosts held the VIP.
pub type Sample = (Duration, Vec<bool>);

pub struct VipWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Sample>>>,
}

/// What the watch saw: for each sample, its time since the start and which hosts held the VIP.
pub struct Timeline {
    pub samples: Vec<Sample>,
}

impl VipWatch {
    /// Samples with a 10 ms pause between samples.
    pub fn start(hosts: Vec<Host>, vip: &str) -> VipWatch {
        Self::spawn(hosts, vip, Duration::from_millis(10), false)
    }

    /// Samples every `period`, at a fixed rate whatever a sample takes.
    pub fn every(hosts: Vec<Host>, vip: &str, period: Duration) -> VipWatch {
        Self::spawn(hosts, vip, period, true)
    }

    fn spawn(hosts: Vec<Host>, vip: &str, period: Duration, fixed_rate: bool) -> VipWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let vip = vip.to_string();
        let thread = std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut samples = Vec::new();
            let mut next = t0;
            while !flag.load(Ordering::Relaxed) {
                let held = hosts.iter().map(|h| h.has_addr("eth0", &vip)).collect();
                samples.push((t0.elapsed(), held));
                next += period;
                if fixed_rate {
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                } else {
                    std::thread::sleep(period);
                }
            }
            samples
        });
        VipWatch {
            stop,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> Timeline {
        self.stop.store(true, Ordering::Relaxed);
        let samples = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        Timeline { samples }
    }
}

impl Timeline {
    /// The longest stretch during which more than one host held the VIP.
    pub fn longest_overlap(&self) -> Duration {
        let mut longest = Duration::ZERO;
        let mut since: Option<Duration> = None;
        for (t, held) in &self.samples {
            let many = held.iter().filter(|h| **h).count() > 1;
            match (many, since) {
                (true, None) => since = Some(*t),
                (false, Some(s)) => {
                    longest = longest.max(*t - s);
                    since = None;
                }
                _ => {}
            }
        }
        if let (Some(s), Some((t, _))) = (since, self.samples.last()) {
            longest = longest.max(*t - s);
        }
        longest
    }
}
