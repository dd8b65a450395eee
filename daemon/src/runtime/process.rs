//! track_process in the shell: which running processes match each
//! `vrrp_track_process`, kept up to date from the proc connector's events
//! (a /proc scan at start, after lost events, and every second where the
//! connector is not available), and the counts reported to the router.

use std::collections::HashMap;
use std::time::Duration;

use vigil_model::{ParamMatch, TrackProcess};
use vigil_vrrp::ProcessCause;

use super::event::Event;
use crate::os::proc_connector::{ProcConnector, ProcEvent};
use crate::os::procfs;

/// The kernel keeps 15 bytes of a process name.
const COMM_MAX: usize = 15;
/// How often /proc is scanned without the connector.
const SCAN_EVERY: Duration = Duration::from_secs(1);

/// Whether a process with `comm` and `argv` matches `p` (keepalived 2.2.7:
/// an exact name, not a pattern; `full_command` compares argv[0] and the
/// parameters as `param_match` says).
pub fn matches(p: &TrackProcess, comm: &str, argv: Option<&[String]>) -> bool {
    if !p.full_command {
        let want = p.process.as_bytes();
        let want = want.get(..COMM_MAX).unwrap_or(want);
        return comm.as_bytes() == want;
    }
    let Some((first, rest)) = argv.and_then(|a| a.split_first()) else {
        return false;
    };
    if *first != p.process {
        return false;
    }
    let n = p.params.len();
    match p.param_match {
        ParamMatch::None => true,
        ParamMatch::Exact => rest == p.params.as_slice(),
        ParamMatch::Partial => rest.len() >= n && rest[..n] == p.params[..],
        ParamMatch::Initial => match p.params.split_last() {
            None => true,
            Some((last, head)) => {
                rest.len() >= n
                    && rest[..n - 1] == *head
                    && rest
                        .get(n - 1)
                        .is_some_and(|a| a.starts_with(last.as_str()))
            }
        },
    }
}

/// The matching processes of every block, by pid.
pub struct Counter {
    specs: Vec<TrackProcess>,
    full: bool,
    by_pid: HashMap<u32, Vec<usize>>,
    counts: Vec<u32>,
}

impl Counter {
    pub fn new(specs: Vec<TrackProcess>) -> Counter {
        let full = specs.iter().any(|p| p.full_command);
        let counts = vec![0; specs.len()];
        Counter {
            specs,
            full,
            by_pid: HashMap::new(),
            counts,
        }
    }

    fn matching(&self, pid: u32, comm: Option<&str>) -> Vec<usize> {
        let comm = match comm {
            Some(c) => Some(c.to_string()),
            None => procfs::comm(pid),
        };
        let Some(comm) = comm else {
            return Vec::new();
        };
        // cmdline is read only when some block needs it, as keepalived.
        let argv = if self.full {
            procfs::cmdline(pid)
        } else {
            None
        };
        (0..self.specs.len())
            .filter(|&n| matches(&self.specs[n], &comm, argv.as_deref()))
            .collect()
    }

    /// Recounts from /proc; returns the blocks whose count changed.
    pub fn scan(&mut self) -> Vec<usize> {
        let before = self.counts.clone();
        self.by_pid.clear();
        self.counts.iter_mut().for_each(|c| *c = 0);
        for pid in procfs::pids() {
            let m = self.matching(pid, None);
            self.set(pid, m);
        }
        (0..self.counts.len())
            .filter(|&n| before.get(n) != self.counts.get(n))
            .collect()
    }

    fn set(&mut self, pid: u32, now: Vec<usize>) {
        if let Some(old) = self.by_pid.remove(&pid) {
            for n in old {
                if let Some(c) = self.counts.get_mut(n) {
                    *c = c.saturating_sub(1);
                }
            }
        }
        for &n in &now {
            if let Some(c) = self.counts.get_mut(n) {
                *c += 1;
            }
        }
        if !now.is_empty() {
            self.by_pid.insert(pid, now);
        }
    }

    /// Applies one event; returns the blocks whose count changed.
    pub fn apply(&mut self, ev: &ProcEvent) -> Vec<usize> {
        let before = self.counts.clone();
        match ev {
            // A new process starts as a copy of its parent.
            ProcEvent::Fork {
                parent_tgid,
                child_pid,
                child_tgid,
            } if child_pid == child_tgid => {
                if let Some(m) = self.by_pid.get(parent_tgid).cloned() {
                    self.set(*child_pid, m);
                }
            }
            ProcEvent::Exec { pid, tgid } if pid == tgid => {
                let m = self.matching(*pid, None);
                self.set(*pid, m);
            }
            ProcEvent::Comm { pid, tgid, comm } if pid == tgid => {
                let m = self.matching(*pid, Some(comm));
                self.set(*pid, m);
            }
            ProcEvent::Exit { pid, tgid } if pid == tgid => self.set(*pid, Vec::new()),
            _ => {}
        }
        (0..self.counts.len())
            .filter(|&n| before.get(n) != self.counts.get(n))
            .collect()
    }

    pub fn name(&self, n: usize) -> &str {
        self.specs.get(n).map_or("", |p| p.name.as_str())
    }

    pub fn count(&self, n: usize) -> u32 {
        self.counts.get(n).copied().unwrap_or(0)
    }
}

fn cause_of(ev: &ProcEvent) -> ProcessCause {
    match ev {
        ProcEvent::Fork { .. } => ProcessCause::Fork,
        ProcEvent::Exit { .. } => ProcessCause::Exit,
        _ => ProcessCause::Exec,
    }
}

async fn report(
    tx: &smol::channel::Sender<Event>,
    c: &Counter,
    n: usize,
    cause: ProcessCause,
) -> bool {
    let ev = Event::Process {
        name: c.name(n).to_string(),
        count: c.count(n),
        cause,
    };
    tx.send(ev).await.is_ok()
}

/// The counts and their source of events.
pub struct Watcher {
    counter: Counter,
    conn: Option<ProcConnector>,
}

impl Watcher {
    /// Opens the connector, then scans /proc (so no event falls between).
    pub fn open(specs: Vec<TrackProcess>) -> Watcher {
        let mut counter = Counter::new(specs);
        let conn = match ProcConnector::open() {
            Ok(conn) => Some(conn),
            Err(e) => {
                log::warn!(
                    "track_process: proc connector unavailable ({e}); scanning /proc every second"
                );
                None
            }
        };
        counter.scan();
        Watcher { counter, conn }
    }

    /// Every block's count now.
    pub fn counts(&self) -> Vec<(String, u32)> {
        let c = &self.counter;
        (0..c.counts.len())
            .map(|n| (c.name(n).to_string(), c.count(n)))
            .collect()
    }

    /// Follows the processes until the receiver is gone (or the task dropped).
    pub async fn run(self, tx: smol::channel::Sender<Event>) {
        let Watcher {
            counter: mut c,
            conn,
        } = self;
        let Some(conn) = conn else {
            loop {
                smol::Timer::after(SCAN_EVERY).await;
                for n in c.scan() {
                    if !report(&tx, &c, n, ProcessCause::Scan).await {
                        return;
                    }
                }
            }
        };
        let mut buf = vec![0u8; 64 * 1024];
        let mut events = Vec::new();
        loop {
            events.clear();
            let changed: Vec<(usize, ProcessCause)> = match conn.next(&mut buf, &mut events).await {
                Ok(()) => events
                    .iter()
                    .flat_map(|ev| c.apply(ev).into_iter().map(|n| (n, cause_of(ev))))
                    .collect(),
                Err(e) => {
                    log::warn!("track_process: proc connector: {e}; rescanning /proc");
                    c.scan()
                        .into_iter()
                        .map(|n| (n, ProcessCause::Scan))
                        .collect()
                }
            };
            for (n, cause) in changed {
                if !report(&tx, &c, n, cause).await {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(process: &str, params: &[&str], m: ParamMatch, full: bool) -> TrackProcess {
        TrackProcess {
            params: params.iter().map(|s| s.to_string()).collect(),
            param_match: m,
            full_command: full,
            ..TrackProcess::new("p".into(), process.into())
        }
    }

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_match_exactly_on_15_bytes() {
        let p = spec("ssh", &[], ParamMatch::None, false);
        assert!(matches(&p, "ssh", None));
        assert!(!matches(&p, "sshd", None), "not a pattern");
        let long = spec("a-very-long-process-name", &[], ParamMatch::None, false);
        assert!(matches(&long, "a-very-long-pro", None));
    }

    #[test]
    fn parameters_as_param_match_says() {
        let a = argv(&["/usr/sbin/nginx", "-g", "daemon off;"]);
        let exact = spec(
            "/usr/sbin/nginx",
            &["-g", "daemon off;"],
            ParamMatch::Exact,
            true,
        );
        assert!(matches(&exact, "nginx", Some(&a)));
        assert!(!matches(&exact, "nginx", Some(&a[..2])));
        let partial = spec("/usr/sbin/nginx", &["-g"], ParamMatch::Partial, true);
        assert!(matches(&partial, "nginx", Some(&a)));
        let initial = spec(
            "/usr/sbin/nginx",
            &["-g", "daemon"],
            ParamMatch::Initial,
            true,
        );
        assert!(matches(&initial, "nginx", Some(&a)));
        assert!(!matches(
            &spec("/usr/sbin/nginx", &["-g"], ParamMatch::Exact, true),
            "nginx",
            Some(&a)
        ));
        let none = spec("/usr/sbin/nginx", &[], ParamMatch::Exact, true);
        assert!(
            !matches(&none, "nginx", Some(&a)),
            "bare param_match: no parameters"
        );
        assert!(matches(&none, "nginx", Some(&a[..1])));
        assert!(matches(
            &spec("/usr/sbin/nginx", &[], ParamMatch::None, true),
            "x",
            Some(&a)
        ));
        assert!(!matches(&exact, "nginx", None));
    }

    #[test]
    fn counter_follows_fork_exec_and_exit() {
        let me = std::process::id();
        let comm = procfs::comm(me).unwrap_or_default();
        let mut specs = vec![spec(&comm, &[], ParamMatch::None, false)];
        specs[0].name = "me".into();
        let mut c = Counter::new(specs);
        assert_eq!(c.scan(), vec![0]);
        assert!(c.count(0) >= 1);
        let base = c.count(0);
        // A fork of a matching parent counts at once (before its exec).
        let child = 4_000_000;
        let fork = ProcEvent::Fork {
            parent_tgid: me,
            child_pid: child,
            child_tgid: child,
        };
        assert_eq!(c.apply(&fork), vec![0]);
        assert_eq!(c.count(0), base + 1);
        // A thread is not a process.
        let thread = ProcEvent::Exit {
            pid: child + 1,
            tgid: child,
        };
        assert!(c.apply(&thread).is_empty());
        assert_eq!(
            c.apply(&ProcEvent::Exit {
                pid: child,
                tgid: child
            }),
            vec![0]
        );
        assert_eq!(c.count(0), base);
        // A comm change out of the name.
        let rename = ProcEvent::Comm {
            pid: me,
            tgid: me,
            comm: "other".into(),
        };
        assert_eq!(c.apply(&rename), vec![0]);
        assert_eq!(c.count(0), base - 1);
    }
}
