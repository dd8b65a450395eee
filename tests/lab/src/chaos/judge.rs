//! The invariants, judged after the run from the watcher's samples and the
//! driver's record of when each fault was injected and healed. Pure, so each rule
//! is unit-tested on hand-made timelines.

use super::schedule::KINDS;
use super::topo::{expected, INSTANCES};
use super::watcher::{Sample, VState};
use std::time::Duration;

/// Two holders of one VIP for longer than this is a violation.
pub const DUAL_LIMIT: Duration = Duration::from_millis(1500);
/// After a heal the group must have settled within this.
pub const SETTLE: Duration = Duration::from_secs(6);
/// A VIP on a router whose daemon is not MASTER for longer than this is a
/// violation (a state line is logged just before the addresses change).
pub const STALE_LIMIT: Duration = Duration::from_millis(500);

/// One fault as it happened.
#[derive(Clone, Debug)]
pub struct Span {
    pub kind: usize,
    pub router: usize,
    /// Out of the election from `inject` to `heal`.
    pub disables: bool,
    pub inject: Duration,
    pub heal: Duration,
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub t: Duration,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub faults: [usize; KINDS.len()],
    /// Invariant 1: a VIP held twice for more than [`DUAL_LIMIT`].
    pub dual: Vec<Finding>,
    /// Invariant 2: settled, yet not exactly one holder, the expected one.
    pub settle: Vec<Finding>,
    /// Invariant 3: a daemon that exited (or hung) without being killed.
    pub exits: Vec<Finding>,
    /// Invariant 4: a VIP on a router that is not master.
    pub stale: Vec<Finding>,
    pub max_dual: Duration,
    pub max_stale: Duration,
    /// Heal -> the state that lasted until the next fault, per fault measured.
    pub reconv: Vec<Duration>,
    /// Faults followed by the next one before the group had settled.
    pub unmeasured: usize,
    /// Settled windows checked (the start, and each heal + 6 s before the next fault).
    pub windows: usize,
    pub samples: usize,
    /// The longest time between two samples (the watcher's own health).
    pub max_gap: Duration,
}

impl Report {
    pub fn violations(&self) -> usize {
        self.dual.len() + self.settle.len() + self.exits.len() + self.stale.len()
    }

    pub fn max_reconv(&self) -> Option<Duration> {
        self.reconv.iter().max().copied()
    }
}

fn live_at(spans: &[Span], t: Duration) -> [bool; 3] {
    let mut live = [true; 3];
    for s in spans {
        if s.disables && s.inject <= t && t < s.heal {
            if let Some(l) = live.get_mut(s.router) {
                *l = false;
            }
        }
    }
    live
}

fn holders(s: &Sample, i: usize) -> Vec<usize> {
    (0..3).filter(|r| s.held[i][*r]).collect()
}

/// Exactly one holder of instance `i`'s VIP, the expected one for `live`.
fn correct(s: &Sample, i: usize, live: &[bool; 3]) -> bool {
    holders(s, i) == expected(i, live).into_iter().collect::<Vec<_>>()
}

fn names(rs: &[usize]) -> String {
    if rs.is_empty() {
        return "nobody".into();
    }
    rs.iter()
        .map(|r| format!("r{}", r + 1))
        .collect::<Vec<_>>()
        .join("+")
}

/// Judges a run that ended at `end`. `exits` are the driver's invariant-3 findings.
pub fn judge(samples: &[Sample], spans: &[Span], exits: Vec<Finding>, end: Duration) -> Report {
    let mut rep = Report {
        exits,
        samples: samples.len(),
        ..Report::default()
    };
    for s in spans {
        if let Some(n) = rep.faults.get_mut(s.kind) {
            *n += 1;
        }
    }
    rep.max_gap = samples
        .windows(2)
        .map(|w| w[1].t.saturating_sub(w[0].t))
        .max()
        .unwrap_or_default();
    dual_holders(samples, &mut rep);
    stale_vips(samples, &mut rep);
    settled(samples, spans, end, &mut rep);
    reconvergence(samples, spans, end, &mut rep);
    rep
}

/// Runs of samples where `bad(sample)` holds: (first bad, first good after).
fn runs(samples: &[Sample], mut bad: impl FnMut(&Sample) -> bool) -> Vec<(Duration, Duration)> {
    let mut out = Vec::new();
    let mut since = None;
    for s in samples {
        match (bad(s), since) {
            (true, None) => since = Some(s.t),
            (false, Some(t0)) => {
                out.push((t0, s.t));
                since = None;
            }
            _ => {}
        }
    }
    if let (Some(t0), Some(last)) = (since, samples.last()) {
        out.push((t0, last.t));
    }
    out
}

fn dual_holders(samples: &[Sample], rep: &mut Report) {
    for (i, inst) in INSTANCES.iter().enumerate() {
        for (t0, t1) in runs(samples, |s| holders(s, i).len() > 1) {
            let d = t1 - t0;
            rep.max_dual = rep.max_dual.max(d);
            if d > DUAL_LIMIT {
                let who = samples
                    .iter()
                    .find(|s| s.t == t0)
                    .map_or_else(String::new, |s| names(&holders(s, i)));
                rep.dual.push(Finding {
                    t: t0,
                    what: format!("{} held by {who} for {:.2} s", inst.vip, d.as_secs_f64()),
                });
            }
        }
    }
}

fn stale_vips(samples: &[Sample], rep: &mut Report) {
    for (i, inst) in INSTANCES.iter().enumerate() {
        for r in 0..3 {
            let stale = |s: &Sample| {
                s.held[i][r] && matches!(s.state[i][r], Some(st) if st != VState::Master)
            };
            for (t0, t1) in runs(samples, stale) {
                let d = t1 - t0;
                rep.max_stale = rep.max_stale.max(d);
                if d > STALE_LIMIT {
                    let st = samples
                        .iter()
                        .find(|s| s.t == t0)
                        .and_then(|s| s.state[i][r])
                        .map_or_else(|| "unknown".into(), |s| format!("{s:?}"));
                    rep.stale.push(Finding {
                        t: t0,
                        what: format!(
                            "{} on r{} for {:.2} s while its {} is {st}",
                            inst.vip,
                            r + 1,
                            d.as_secs_f64(),
                            inst.name
                        ),
                    });
                }
            }
        }
    }
}

/// The windows in which the group must be settled: from the start to the first
/// fault, and from each heal + [`SETTLE`] to the next fault (or the end).
fn windows(spans: &[Span], end: Duration) -> Vec<(Duration, Duration)> {
    let mut out = Vec::new();
    let first = spans.first().map_or(end, |s| s.inject);
    out.push((Duration::ZERO, first));
    for (k, s) in spans.iter().enumerate() {
        let next = spans.get(k + 1).map_or(end, |n| n.inject);
        let from = s.heal + SETTLE;
        if from < next {
            out.push((from, next));
        }
    }
    out
}

fn settled(samples: &[Sample], spans: &[Span], end: Duration, rep: &mut Report) {
    for (w0, w1) in windows(spans, end) {
        rep.windows += 1;
        let inside: Vec<Sample> = samples
            .iter()
            .filter(|s| s.t >= w0 && s.t < w1)
            .cloned()
            .collect();
        for (i, inst) in INSTANCES.iter().enumerate() {
            let wrong = |s: &Sample| !correct(s, i, &live_at(spans, s.t));
            for (t0, t1) in runs(&inside, wrong) {
                let who = inside
                    .iter()
                    .find(|s| s.t == t0)
                    .map_or_else(String::new, |s| names(&holders(s, i)));
                let want = names(
                    &expected(i, &live_at(spans, t0))
                        .into_iter()
                        .collect::<Vec<_>>(),
                );
                rep.settle.push(Finding {
                    t: t0,
                    what: format!(
                        "{} held by {who}, expected {want}, for {:.2} s (settled window {:.1}-{:.1} s)",
                        inst.vip,
                        (t1 - t0).as_secs_f64(),
                        w0.as_secs_f64(),
                        w1.as_secs_f64()
                    ),
                });
            }
        }
    }
}

/// Per fault: heal -> the first sample from which both VIPs stay correct until
/// the next fault.
fn reconvergence(samples: &[Sample], spans: &[Span], end: Duration, rep: &mut Report) {
    for (k, s) in spans.iter().enumerate() {
        let next = spans.get(k + 1).map_or(end, |n| n.inject);
        let after: Vec<&Sample> = samples
            .iter()
            .filter(|x| x.t >= s.heal && x.t < next)
            .collect();
        let ok = |x: &Sample| {
            let live = live_at(spans, x.t);
            (0..INSTANCES.len()).all(|i| correct(x, i, &live))
        };
        // The last wrong sample; convergence is the sample after it.
        let last_bad = after.iter().rposition(|x| !ok(x));
        match last_bad {
            None if !after.is_empty() => rep.reconv.push(Duration::ZERO),
            Some(j) if j + 1 < after.len() => rep.reconv.push(after[j + 1].t - s.heal),
            _ => rep.unmeasured += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// Samples every 50 ms over `secs`, holders from `who(t_ms)` for both VIPs
    /// (VI_1, VI_2), all daemons logging MASTER where they hold.
    fn timeline(ms: u64, who: impl Fn(u64) -> ([bool; 3], [bool; 3])) -> Vec<Sample> {
        (0..ms / 50)
            .map(|k| {
                let t = k * 50;
                let (a, b) = who(t);
                let st =
                    |h: [bool; 3]| h.map(|x| Some(if x { VState::Master } else { VState::Backup }));
                Sample {
                    t: MS(t),
                    held: [a, b],
                    state: [st(a), st(b)],
                }
            })
            .collect()
    }

    const GOOD: ([bool; 3], [bool; 3]) = ([true, false, false], [false, false, true]);

    fn span(router: usize, inject: u64, heal: u64) -> Span {
        Span {
            kind: 0,
            router,
            disables: true,
            inject: MS(inject),
            heal: MS(heal),
        }
    }

    #[test]
    fn a_clean_run_passes() {
        let s = timeline(20_000, |_| GOOD);
        let r = judge(&s, &[], Vec::new(), MS(20_000));
        assert_eq!(r.violations(), 0);
        assert_eq!((r.windows, r.samples), (1, 400));
        assert_eq!(r.max_gap, MS(50));
    }

    #[test]
    fn dual_holders_over_the_limit() {
        // VI_1 on r1 and r2 from 1.0 s to 2.6 s (1.6 s): one violation; a
        // 1.0 s overlap of VI_2 is only counted in the maximum.
        let s = timeline(10_000, |t| {
            let mut g = GOOD;
            g.0[1] = (1000..2600).contains(&t);
            g.1[0] = (5000..6000).contains(&t);
            g
        });
        let r = judge(&s, &[], Vec::new(), MS(10_000));
        assert_eq!(r.dual.len(), 1);
        assert!(r.dual[0].what.contains("r1+r2"), "{}", r.dual[0].what);
        assert_eq!(r.max_dual, MS(1600));
        // The settled rule also sees both (they are outside any fault).
        assert_eq!(r.settle.len(), 2);
    }

    #[test]
    fn failover_during_a_fault_then_settled() {
        // r1 out from 2 s to 4 s; VI_1 moves to r2 at 5.7 s (unsettled at first),
        // back to r1 at 7 s, checked settled from 10 s.
        let s = timeline(16_000, |t| {
            let mut g = GOOD;
            g.0 = if !(2000..7000).contains(&t) {
                [true, false, false]
            } else if t >= 5700 {
                [false, true, false]
            } else {
                [false; 3]
            };
            g
        });
        let r = judge(&s, &[span(0, 2000, 4000)], Vec::new(), MS(16_000));
        assert_eq!(r.violations(), 0, "{r:?}");
        assert_eq!(r.windows, 2);
        assert_eq!(r.reconv, vec![MS(3000)]);
    }

    #[test]
    fn not_settled_after_six_seconds() {
        // VI_2 never comes back to r3 after its fault.
        let s = timeline(20_000, |t| {
            let mut g = GOOD;
            if t >= 2000 {
                g.1 = [true, false, false];
            }
            g
        });
        let r = judge(&s, &[span(2, 2000, 3000)], Vec::new(), MS(20_000));
        assert_eq!(r.settle.len(), 1);
        assert!(r.settle[0].what.contains("held by r1, expected r3"));
        assert_eq!(r.settle[0].t, MS(9000));
        assert_eq!((r.reconv.len(), r.unmeasured), (0, 1));
    }

    #[test]
    fn next_fault_before_settling_is_unmeasured_not_violated() {
        let s = timeline(20_000, |t| {
            let mut g = GOOD;
            if (2000..9000).contains(&t) {
                g.0 = [false; 3];
            }
            g
        });
        let spans = [span(0, 2000, 3000), span(1, 5000, 6000)];
        let r = judge(&s, &spans, Vec::new(), MS(20_000));
        assert_eq!(r.violations(), 0, "{r:?}");
        assert_eq!(r.unmeasured, 1);
        assert_eq!(r.reconv, vec![MS(3000)]);
    }

    #[test]
    fn vip_on_a_backup() {
        let mut s = timeline(5_000, |_| GOOD);
        for x in s.iter_mut().filter(|x| x.t >= MS(1000) && x.t < MS(1600)) {
            x.state[0][0] = Some(VState::Backup);
        }
        // 0.3 s in FAULT with the VIP on r3: under the limit.
        for x in s.iter_mut().filter(|x| x.t >= MS(3000) && x.t < MS(3300)) {
            x.state[1][2] = Some(VState::Fault);
        }
        let r = judge(&s, &[], Vec::new(), MS(5_000));
        assert_eq!(r.stale.len(), 1, "{r:?}");
        assert!(r.stale[0].what.contains("on r1 for 0.60 s"));
        assert_eq!(r.max_stale, MS(600));
        // A dead daemon's leftover VIP is not judged by this rule.
        let mut s = timeline(5_000, |_| GOOD);
        for x in s.iter_mut() {
            x.state[0][0] = None;
        }
        assert_eq!(judge(&s, &[], Vec::new(), MS(5_000)).stale.len(), 0);
    }

    #[test]
    fn counts_faults_by_kind() {
        let mut a = span(0, 1000, 2000);
        a.kind = 5;
        let r = judge(&[], &[a.clone(), a], Vec::new(), MS(1));
        assert_eq!(r.faults, [0, 0, 0, 0, 0, 2]);
    }
}
