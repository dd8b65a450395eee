//! The watcher: every 50 ms, which routers hold each VIP (an rtnetlink dump per
//! namespace) and what state each daemon last logged for each instance
//! (`(VI_1) Entering MASTER STATE`, the same line in vigil and keepalived).

use super::addrs::NsAddrs;
use super::topo::INSTANCES;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const PERIOD: Duration = Duration::from_millis(50);
const N: usize = 3;
const M: usize = INSTANCES.len();

/// An instance's state as its daemon last logged it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VState {
    /// Started, no state logged yet.
    Init,
    Backup,
    Master,
    Fault,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub t: Duration,
    /// held[instance][router]: the router has the instance's VIP.
    pub held: [[bool; N]; M],
    /// state[instance][router]; `None` while the router's daemon is not running.
    pub state: [[Option<VState>; N]; M],
}

/// Reads a daemon's log as it grows.
struct Tail {
    path: PathBuf,
    offset: u64,
    partial: String,
    state: [VState; M],
}

impl Tail {
    fn new(path: PathBuf) -> Tail {
        Tail {
            path,
            offset: 0,
            partial: String::new(),
            state: [VState::Init; M],
        }
    }

    fn poll(&mut self) {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return;
        };
        let mut bytes = Vec::new();
        if f.seek(SeekFrom::Start(self.offset)).is_err() || f.read_to_end(&mut bytes).is_err() {
            return;
        }
        self.offset += bytes.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(nl) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=nl).collect();
            if let Some((i, s)) = parse_state(&line) {
                self.state[i] = s;
            }
        }
    }
}

/// `(NAME) Entering X STATE` anywhere in `line`.
fn parse_state(line: &str) -> Option<(usize, VState)> {
    let rest = line.split("Entering ").nth(1)?;
    let word = rest.split_whitespace().next()?;
    let before = line.split(" Entering ").next()?;
    let name = before.rsplit('(').next()?.strip_suffix(')')?;
    let i = INSTANCES.iter().position(|x| x.name == name)?;
    let s = match word {
        "MASTER" => VState::Master,
        "BACKUP" => VState::Backup,
        "FAULT" => VState::Fault,
        _ => return None,
    };
    Some((i, s))
}

pub struct Watcher {
    stop: Arc<AtomicBool>,
    logs: Arc<Mutex<[Option<PathBuf>; N]>>,
    thread: Option<JoinHandle<(Vec<Sample>, usize)>>,
}

impl Watcher {
    /// Starts sampling the routers' namespaces `ns`; times count from `t0`.
    pub fn start(ns: &[String], t0: Instant) -> Result<Watcher, String> {
        let mut socks = Vec::new();
        for n in ns.iter().take(N) {
            socks.push(NsAddrs::open(n)?);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let logs: Arc<Mutex<[Option<PathBuf>; N]>> = Arc::new(Mutex::new(Default::default()));
        let (flag, shared) = (stop.clone(), logs.clone());
        let thread = std::thread::spawn(move || sample_loop(socks, flag, shared, t0));
        Ok(Watcher {
            stop,
            logs,
            thread: Some(thread),
        })
    }

    /// Router `r`'s daemon now runs logging to `log`, or (`None`) is not running.
    pub fn set_log(&self, r: usize, log: Option<PathBuf>) {
        if let Ok(mut l) = self.logs.lock() {
            if let Some(slot) = l.get_mut(r) {
                *slot = log;
            }
        }
    }

    /// Stops sampling; returns the samples and how many address dumps failed.
    pub fn finish(mut self) -> (Vec<Sample>, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

fn sample_loop(
    mut socks: Vec<NsAddrs>,
    stop: Arc<AtomicBool>,
    logs: Arc<Mutex<[Option<PathBuf>; N]>>,
    t0: Instant,
) -> (Vec<Sample>, usize) {
    let mut tails: [Option<Tail>; N] = Default::default();
    let mut samples = Vec::new();
    let mut errors = 0;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let t = t0.elapsed();
        let mut held = [[false; N]; M];
        for (r, s) in socks.iter_mut().enumerate() {
            match s.v4() {
                Ok(addrs) => {
                    for (i, inst) in INSTANCES.iter().enumerate() {
                        held[i][r] = addrs.contains(&inst.vip);
                    }
                }
                Err(_) => errors += 1,
            }
        }
        let current = logs.lock().map(|l| l.clone()).unwrap_or_default();
        let mut state = [[None; N]; M];
        for (r, (tail, log)) in tails.iter_mut().zip(current).enumerate() {
            match log {
                None => *tail = None,
                Some(p) => {
                    if tail.as_ref().is_none_or(|t| t.path != p) {
                        *tail = Some(Tail::new(p));
                    }
                    if let Some(tl) = tail.as_mut() {
                        tl.poll();
                        for (i, s) in tl.state.iter().enumerate() {
                            state[i][r] = Some(*s);
                        }
                    }
                }
            }
        }
        samples.push(Sample { t, held, state });
        next += PERIOD;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    (samples, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_lines() {
        assert_eq!(
            parse_state("(VI_2) Entering MASTER STATE\n"),
            Some((1, VState::Master))
        );
        assert_eq!(
            parse_state("Thu Jan  1 Keepalived_vrrp[42]: (VI_1) Entering BACKUP STATE (init)"),
            Some((0, VState::Backup))
        );
        assert_eq!(
            parse_state("[INFO] (VI_1) Entering FAULT STATE"),
            Some((0, VState::Fault))
        );
        assert_eq!(parse_state("(VI_9) Entering MASTER STATE"), None);
        assert_eq!(parse_state("(VI_1) Entering STOP STATE"), None);
        assert_eq!(parse_state("VI_1 Entering"), None);
    }

    #[test]
    fn tail_follows_growth() {
        let dir = std::env::temp_dir().join(format!("vigil-chaos-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("log");
        std::fs::write(&p, "(VI_1) Entering BACKUP STATE\n(VI_2) Entering MAS").unwrap();
        let mut t = Tail::new(p.clone());
        t.poll();
        assert_eq!(t.state, [VState::Backup, VState::Init]);
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"TER STATE\n(VI_1) Entering MASTER STATE\n")
            .unwrap();
        t.poll();
        assert_eq!(t.state, [VState::Master, VState::Master]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
