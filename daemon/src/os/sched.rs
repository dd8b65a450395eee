//! How the VRRP loop is scheduled: keepalived's `vrrp_rt_priority`,
//! `vrrp_priority`, `vrrp_no_swap` and `vrrp_rlimit_rttime`, plus a latency
//! hint of our own.
//!
//! Applied once, at start, on the loop's thread before any other thread
//! exists, so that helper threads inherit it. SCHED_RR is asked with
//! reset-on-fork: scripts and probes never run realtime.
//!
//! The latency hint: under normal scheduling the loop asks the kernel for a
//! short time slice (`sched_setattr`, `sched_runtime`, Linux 6.12+ EEVDF).
//! It gets no more CPU than before, but its virtual deadline is nearer, so
//! a wake-up preempts a busy-loop at once instead of waiting out the hog's
//! slice. Older kernels ignore the field.

use core::fmt;

use nix::errno::Errno;
use nix::libc;

/// Time slice asked under normal scheduling: about the cost of one
/// wake-up's work (reading a batch, sending the due adverts).
pub const LATENCY_SLICE_NS: u64 = 200_000;
/// SCHED_RR priority when `vrrp_rt_priority` is not given (keepalived's
/// default is normal scheduling). On a loaded 2-core box a normal task
/// waking every 20 ms was measured late by p99 92 ms, max 104 ms with
/// eight busy loops (nice -20: 40 / 58 ms), beyond the 74 ms
/// Master_Down_Interval of a 20 ms advert; SCHED_RR 1: 0.6 / 1.9 ms. The
/// lowest realtime priority is enough: it only has to beat normal tasks.
pub const DEFAULT_RT_PRIORITY: u8 = 1;
/// RLIMIT_RTTIME (hard) under vigil's default SCHED_RR: two seconds without
/// sleeping is a runaway loop, never an advert's work.
pub const IMPLICIT_RTTIME_US: u32 = 2_000_000;

/// What to ask of the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// SCHED_RR at this priority (1..=99); `None` = SCHED_OTHER.
    pub rt_priority: Option<u8>,
    /// Nice value under SCHED_OTHER.
    pub nice: i8,
    /// mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT).
    pub no_swap: bool,
    /// RLIMIT_RTTIME under SCHED_RR, microseconds (hard; the soft limit,
    /// which only warns, is half).
    pub rlimit_rttime_us: u32,
    /// Short-slice hint under SCHED_OTHER, nanoseconds; 0 = none.
    pub slice_ns: u64,
    /// The configuration named the realtime priority (a refusal is then
    /// worth a warning; of the default, a notice).
    pub explicit: bool,
    /// `max_auto_priority`: the highest SCHED_RR priority [`auto_raise`]
    /// goes to; 0 = never raised.
    pub max_auto: u8,
    /// `min_auto_priority_delay`: how late the loop must run before it is
    /// raised, microseconds.
    pub min_auto_delay_us: u64,
}

impl From<&vigil_model::ProcessSched> for Policy {
    fn from(s: &vigil_model::ProcessSched) -> Policy {
        Policy {
            rt_priority: match s.rt_priority {
                None => Some(DEFAULT_RT_PRIORITY),
                Some(0) => None,
                Some(p) => Some(p),
            },
            explicit: s.rt_priority.is_some(),
            nice: s.nice,
            no_swap: s.no_swap,
            // keepalived's limit (10 ms by default) where the configuration
            // asks for realtime as keepalived's users do; vigil's own default
            // gets a runaway guard only: under TCG or a busy hypervisor the
            // vCPU's stolen time counts as running, and 10 ms of it SIGKILLed
            // a master director in its guest (a VIP left on two routers).
            rlimit_rttime_us: if s.rt_priority.is_some() {
                s.rlimit_rttime_us
            } else {
                s.rlimit_rttime_us.max(IMPLICIT_RTTIME_US)
            },
            slice_ns: LATENCY_SLICE_NS,
            // -1 (no startup notice in keepalived) is off as 0 is.
            max_auto: u8::try_from(s.max_auto_priority).unwrap_or(0),
            min_auto_delay_us: u64::from(s.min_auto_priority_delay_us),
        }
    }
}

/// keepalived's automatic priority (`max_auto_priority`): a timer that
/// fires more than `min_auto_delay_us` late means the loop does not get the
/// CPU in time, so it goes one step up: from normal scheduling to SCHED_RR
/// 1, else one realtime priority more, never above `max_auto`. With vigil's
/// default (SCHED_RR 1 already) the first step is to 2. `None`: no change.
pub fn auto_raise(p: &Policy, late_us: u64) -> Option<Policy> {
    if p.max_auto == 0 || late_us <= p.min_auto_delay_us {
        return None;
    }
    let next = p.rt_priority.map_or(1, |r| r.saturating_add(1));
    (next <= p.max_auto.min(99)).then_some(Policy {
        rt_priority: Some(next),
        explicit: true,
        ..*p
    })
}

/// One scheduling call refused; the daemon runs on without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedError {
    Realtime(u8, Errno),
    RtTimeLimit(Errno),
    Nice(i8, Errno),
    Slice(Errno),
    Lock(Errno),
}

impl fmt::Display for SchedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchedError::Realtime(p, e) => write!(f, "cannot switch to SCHED_RR {p}: {e}"),
            SchedError::RtTimeLimit(e) => write!(f, "cannot set RLIMIT_RTTIME: {e}"),
            SchedError::Nice(n, e) => write!(f, "cannot set nice {n}: {e}"),
            SchedError::Slice(e) => write!(f, "cannot ask a short time slice: {e}"),
            SchedError::Lock(e) => write!(f, "cannot lock memory (vrrp_no_swap): {e}"),
        }
    }
}

impl std::error::Error for SchedError {}

/// `struct sched_attr`, first version (48 bytes), from linux/sched/types.h.
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

const SCHED_FLAG_RESET_ON_FORK: u64 = 0x01;
/// RLIMIT_RTTIME (musl defines it late).
const RLIMIT_RTTIME: libc::c_int = 15;

fn sched_setattr(tid: libc::pid_t, attr: &SchedAttr) -> Result<(), Errno> {
    // SAFETY: attr is a live, fully initialised sched_attr of `size` bytes.
    let r = unsafe {
        libc::syscall(
            libc::SYS_sched_setattr,
            tid,
            attr as *const SchedAttr,
            0 as libc::c_uint,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

fn attr(policy: libc::c_int, nice: i8, priority: u8, runtime: u64, flags: u64) -> SchedAttr {
    SchedAttr {
        size: core::mem::size_of::<SchedAttr>() as u32,
        policy: policy as u32,
        flags,
        nice: i32::from(nice),
        priority: u32::from(priority),
        runtime,
        ..SchedAttr::default()
    }
}

fn set_rttime(us: u32) -> Result<(), Errno> {
    let hard = libc::rlim_t::from(us);
    let lim = libc::rlimit {
        rlim_cur: hard / 2,
        rlim_max: hard,
    };
    // SAFETY: lim is a live rlimit for the call.
    let r = unsafe { libc::setrlimit(RLIMIT_RTTIME as _, &lim) };
    if r == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// Does nothing: the soft RTTIME limit only warns (keepalived logs it).
extern "C" fn on_sigxcpu(_: libc::c_int) {}

/// SIGXCPU (the soft RTTIME limit) would end the process by default. A
/// handler rather than SIG_IGN: exec resets handlers, so scripts start with
/// the default disposition.
fn quiet_sigxcpu() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let a = SigAction::new(
        SigHandler::Handler(on_sigxcpu),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler is async-signal-safe (it does nothing).
    let _ = unsafe { sigaction(Signal::SIGXCPU, &a) };
}

/// Applies `p` to the calling thread (tid 0) and the process-wide parts
/// (RLIMIT_RTTIME, mlockall); returns what was refused (each is worth one
/// log line). Falls back to normal scheduling when SCHED_RR is refused.
/// The soft RTTIME limit raises SIGXCPU, which is caught and dropped: the
/// hard limit (SIGKILL) is the guard against a runaway realtime loop.
pub fn apply(p: &Policy) -> Vec<SchedError> {
    let mut errs = Vec::new();
    let mut p = *p;
    if p.rt_priority.is_some() {
        // The limit first: a realtime process is never without one.
        match set_rttime(p.rlimit_rttime_us) {
            Ok(()) => quiet_sigxcpu(),
            Err(e) => {
                // No realtime without the guard: normal scheduling.
                errs.push(SchedError::RtTimeLimit(e));
                p.rt_priority = None;
            }
        }
    }
    errs.extend(apply_thread(0, &p));
    if p.no_swap {
        let flags = libc::MCL_CURRENT | libc::MCL_FUTURE | libc::MCL_ONFAULT;
        // SAFETY: mlockall takes flags only.
        if unsafe { libc::mlockall(flags) } != 0 {
            errs.push(SchedError::Lock(Errno::last()));
        }
    }
    errs
}

/// The scheduling part of `p` for thread `tid` (0 = the calling one).
/// SCHED_RR is asked with reset-on-fork, so nothing started from the
/// thread runs realtime.
pub fn apply_thread(tid: libc::pid_t, p: &Policy) -> Vec<SchedError> {
    let mut errs = Vec::new();
    if let Some(prio) = p.rt_priority {
        let a = attr(libc::SCHED_RR, 0, prio, 0, SCHED_FLAG_RESET_ON_FORK);
        match sched_setattr(tid, &a) {
            Ok(()) => return errs,
            Err(e) => errs.push(SchedError::Realtime(prio, e)),
        }
    }
    let a = attr(libc::SCHED_OTHER, p.nice, 0, p.slice_ns, 0);
    if let Err(e) = sched_setattr(tid, &a) {
        if p.slice_ns != 0 {
            errs.push(SchedError::Slice(e));
        }
        // Without the hint (an old kernel refusing it), the nice value.
        if p.nice != 0 {
            let b = attr(libc::SCHED_OTHER, p.nice, 0, 0, 0);
            if let Err(e) = sched_setattr(tid, &b) {
                errs.push(SchedError::Nice(p.nice, e));
            }
        }
    }
    errs
}

/// Back to normal scheduling for `tid` (0 = the calling thread) at `p`'s
/// nice value, with the slice hint: around work too long to be done
/// realtime (reading and applying a configuration on SIGHUP).
pub fn relax_thread(tid: libc::pid_t, p: &Policy) -> Vec<SchedError> {
    let normal = Policy {
        rt_priority: None,
        ..*p
    };
    apply_thread(tid, &normal)
}

/// Thread ids of this process whose name is `comm` (from /proc/self/task).
///
/// The loop's I/O reactor (async-io) keeps a helper thread, "async-io",
/// that takes over waiting on the sockets and timers whenever the loop
/// thread has slept in the reactor for ~10 ms (every advert interval of a
/// master at 0.02 s): from then on every wake-up passes through it. It must
/// be scheduled as the loop is, or a realtime loop waits behind a normal
/// thread that CPU hogs starve.
pub fn threads_named(comm: &str) -> Vec<libc::pid_t> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| {
            let tid: libc::pid_t = e.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(e.path().join("comm")).ok()?;
            (name.trim_end() == comm).then_some(tid)
        })
        .collect()
}

/// The calling thread's policy and (realtime) priority, as the kernel has
/// them: for logs and tests.
pub fn current() -> (libc::c_int, libc::c_int) {
    // Raw system calls: musl's sched_getscheduler / sched_getparam are
    // stubs that fail with ENOSYS, and its sched_param has extra fields.
    // SAFETY: a plain query of the calling thread.
    let policy = unsafe { libc::syscall(libc::SYS_sched_getscheduler, 0) } as libc::c_int;
    // The kernel's struct sched_param is one int.
    let mut priority: libc::c_int = 0;
    // SAFETY: `priority` is a live int the kernel writes for the call.
    unsafe {
        libc::syscall(
            libc::SYS_sched_getparam,
            0,
            &mut priority as *mut libc::c_int,
        )
    };
    (policy & !libc::SCHED_RESET_ON_FORK, priority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sched_attr_is_the_kernels_first_version() {
        assert_eq!(core::mem::size_of::<SchedAttr>(), 48);
    }

    #[test]
    fn policy_from_config() {
        let mut s = vigil_model::ProcessSched::default();
        let p = Policy::from(&s);
        assert_eq!(p.rt_priority, Some(DEFAULT_RT_PRIORITY));
        assert!(!p.explicit);
        assert_eq!(p.rlimit_rttime_us, IMPLICIT_RTTIME_US);
        assert_eq!(p.slice_ns, LATENCY_SLICE_NS);
        s.rt_priority = Some(10);
        assert_eq!(Policy::from(&s).rt_priority, Some(10));
        // Asked for as keepalived's users do: keepalived's limit.
        assert_eq!(Policy::from(&s).rlimit_rttime_us, 10_000);
        s.rt_priority = Some(0);
        let p = Policy::from(&s);
        assert_eq!(p.rt_priority, None);
        assert!(p.explicit);
    }

    /// In a child process, so the test runner's threads keep their policy.
    #[test]
    fn realtime_is_applied_and_not_inherited_by_children() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root for SCHED_RR");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "os::sched::tests::child_side", "--nocapture"])
            .env("VIGIL_SCHED_CHILD", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("rr 7 child-other"), "{text}");
    }

    #[test]
    fn auto_priority_steps_up_to_its_maximum() {
        let mut s = vigil_model::ProcessSched::default();
        let p = Policy::from(&s);
        assert_eq!(auto_raise(&p, 5_000_000), None, "off by default");
        s.max_auto_priority = 3;
        let p = Policy::from(&s);
        assert_eq!(auto_raise(&p, 1_000_000), None, "not later than the delay");
        let p2 = auto_raise(&p, 1_000_001).unwrap();
        assert_eq!(p2.rt_priority, Some(2), "vigil's default RR 1, then 2");
        let p3 = auto_raise(&p2, 2_000_000).unwrap();
        assert_eq!(p3.rt_priority, Some(3));
        assert_eq!(auto_raise(&p3, 2_000_000), None, "capped at 3");
        s.rt_priority = Some(0);
        let p = Policy::from(&s);
        assert_eq!(auto_raise(&p, 2_000_000).unwrap().rt_priority, Some(1));
        s.max_auto_priority = -1;
        assert_eq!(auto_raise(&Policy::from(&s), 9_000_000), None);
    }

    #[test]
    fn child_side() {
        if std::env::var_os("VIGIL_SCHED_CHILD").is_none() {
            return;
        }
        let p = Policy {
            rt_priority: Some(7),
            nice: 0,
            no_swap: false,
            rlimit_rttime_us: 200_000,
            slice_ns: 0,
            explicit: true,
            max_auto: 0,
            min_auto_delay_us: 0,
        };
        let errs = apply(&p);
        assert!(errs.is_empty(), "{errs:?}");
        let (policy, prio) = current();
        assert_eq!((policy, prio), (libc::SCHED_RR, 7));
        // A forked child (a script) is back to SCHED_OTHER.
        let out = std::process::Command::new("sh")
            .args(["-c", "chrt -p $$"])
            .output()
            .unwrap();
        let c = String::from_utf8_lossy(&out.stdout);
        let child = if c.contains("SCHED_OTHER") {
            "child-other"
        } else {
            "child-rt"
        };
        println!("rr {prio} {child}");
    }
}
