//! The chaos schedule: a seeded list of faults, one at a time, each injected,
//! held for a while, then healed. Pure: the same seed always gives the same
//! schedule, so a failing run is replayed with `VIGIL_CHAOS_SEED`.

use crate::bench::craft::{self, Rng};
use std::time::Duration;

/// How a link goes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkHow {
    /// The bridge port goes down: the router's eth0 loses carrier.
    Cable,
    /// `ip link set eth0 down` inside the router.
    Admin,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL of the daemon's process group; restarted at the heal.
    Kill,
    /// SIGTERM (graceful stop); restarted at the heal.
    Term,
    /// `count` SIGHUPs, 50 ms apart, same configuration.
    Hup { count: u32 },
    /// eth0 down, up again at the heal.
    Link(LinkHow),
    /// eth0 deleted, re-created at the heal (same name, MAC and address).
    Recreate,
    /// `count` malformed adverts of `kind` for `vrid` from the lab's attacker.
    Garbage {
        kind: craft::Kind,
        vrid: u8,
        count: u32,
    },
}

/// The fault kinds, in the order the report lists them.
pub const KINDS: [&str; 6] = [
    "sigkill", "sigterm", "sighup", "link", "recreate", "garbage",
];

impl Fault {
    /// Index into [`KINDS`].
    pub fn kind(&self) -> usize {
        match self {
            Fault::Kill => 0,
            Fault::Term => 1,
            Fault::Hup { .. } => 2,
            Fault::Link(_) => 3,
            Fault::Recreate => 4,
            Fault::Garbage { .. } => 5,
        }
    }

    /// Does this fault take its router out of the election while it lasts?
    pub fn disables_router(&self) -> bool {
        matches!(
            self,
            Fault::Kill | Fault::Term | Fault::Link(_) | Fault::Recreate
        )
    }

    pub fn describe(&self) -> String {
        match self {
            Fault::Kill => "SIGKILL".into(),
            Fault::Term => "SIGTERM".into(),
            Fault::Hup { count } => format!("{count} x SIGHUP"),
            Fault::Link(LinkHow::Cable) => "cable cut".into(),
            Fault::Link(LinkHow::Admin) => "eth0 set down".into(),
            Fault::Recreate => "eth0 deleted".into(),
            Fault::Garbage { kind, vrid, count } => {
                format!("{count} {} packets for VRID {vrid}", kind.name())
            }
        }
    }
}

/// One fault: injected `at` after the start, healed `hold` later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: Duration,
    pub hold: Duration,
    /// The router it hits (index into the topology; the attacker for garbage
    /// floods every router).
    pub router: usize,
    pub fault: Fault,
}

/// Time to leave after the last heal, so that it is checked settled.
pub const TAIL: Duration = Duration::from_millis(6500);
/// A SIGKILLed daemon stays down at most this long: past the second router's
/// Master_Down_Interval (3.65 s) its VIPs, left on the interface by the kill,
/// would be held twice by design, not by a bug.
pub const KILL_MAX: f64 = 3.0;

/// SplitMix64's first output: every bit of the seed reaches the generator's
/// state (`craft::rng` sets the low bit, which would make seeds 2k and 2k+1
/// alike).
fn splitmix(seed: u64) -> u64 {
    vigil_rng::SplitMix::new(seed).next_u64()
}

fn uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    lo + (hi - lo) * unit
}

/// The schedule for `seed` over `total`, on `routers` routers whose instances use
/// `vrids`. Faults start 1 s in; between a heal and the next fault there is a short
/// gap (1-3 s, the next fault lands before the group settled) or a long one
/// (6.2-7.5 s, the settled state is checked): long after 3 in 4 of the faults that
/// take a router out, after 1 in 4 of the others. A 90 s run has about 12 faults.
pub fn generate(seed: u64, total: Duration, routers: usize, vrids: &[u8]) -> Vec<Step> {
    let mut rng = craft::rng(splitmix(seed));
    let garbage: Vec<craft::Kind> = craft::Kind::ALL
        .into_iter()
        .filter(|k| *k != craft::Kind::Valid)
        .collect();
    let mut out = Vec::new();
    let mut at = 1.0;
    loop {
        let router = rng.below(routers as u64) as usize;
        let (fault, hold) = match rng.below(KINDS.len() as u64) {
            0 => (Fault::Kill, uniform(&mut rng, 0.2, KILL_MAX)),
            1 => (Fault::Term, uniform(&mut rng, 0.2, 6.0)),
            2 => {
                let count = 2 + rng.below(5) as u32;
                (Fault::Hup { count }, 0.05 * f64::from(count))
            }
            3 => {
                let how = if rng.below(2) == 0 {
                    LinkHow::Cable
                } else {
                    LinkHow::Admin
                };
                (Fault::Link(how), uniform(&mut rng, 0.3, 6.0))
            }
            4 => (Fault::Recreate, uniform(&mut rng, 0.3, 6.0)),
            _ => {
                let kind = garbage[rng.below(garbage.len() as u64) as usize];
                let vrid = vrids[rng.below(vrids.len() as u64) as usize];
                let count = 300 + rng.below(1201) as u32;
                // Sent at 1,000 packets per second.
                (
                    Fault::Garbage { kind, vrid, count },
                    f64::from(count) / 1000.0,
                )
            }
        };
        let hold = Duration::from_secs_f64(hold);
        let disables = fault.disables_router();
        let start = Duration::from_secs_f64(at);
        if start + hold + TAIL > total {
            break;
        }
        out.push(Step {
            at: start,
            hold,
            router,
            fault,
        });
        // Mostly a settled check after a fault that takes a router out, mostly
        // none after one that should change nothing.
        let long = if disables { 3 } else { 1 };
        let gap = if rng.below(4) >= long {
            uniform(&mut rng, 1.0, 3.0)
        } else {
            uniform(&mut rng, 6.2, 7.5)
        };
        at += hold.as_secs_f64() + gap;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NINETY: Duration = Duration::from_secs(90);

    #[test]
    fn same_seed_same_schedule() {
        assert_eq!(
            generate(7, NINETY, 3, &[51, 52]),
            generate(7, NINETY, 3, &[51, 52])
        );
        for (a, b) in [(7, 8), (2, 3), (0, 1)] {
            assert_ne!(
                generate(a, NINETY, 3, &[51, 52]),
                generate(b, NINETY, 3, &[51, 52]),
                "seeds {a} and {b}"
            );
        }
    }

    #[test]
    fn faults_do_not_overlap_and_fit() {
        for seed in 0..200 {
            let s = generate(seed, NINETY, 3, &[51, 52]);
            assert!(s.len() >= 8, "seed {seed}: only {} faults", s.len());
            for w in s.windows(2) {
                let gap = w[1].at - (w[0].at + w[0].hold);
                assert!(gap >= Duration::from_secs(1), "seed {seed}: gap {gap:?}");
            }
            let last = s.last().unwrap();
            assert!(last.at + last.hold + TAIL <= NINETY);
            for st in &s {
                assert!(st.router < 3);
                if st.fault == Fault::Kill {
                    assert!(st.hold.as_secs_f64() <= KILL_MAX);
                }
                if let Fault::Garbage { kind, vrid, .. } = st.fault {
                    assert_ne!(kind, craft::Kind::Valid);
                    assert!(vrid == 51 || vrid == 52);
                }
            }
        }
    }

    #[test]
    fn every_kind_appears_over_a_few_seeds() {
        let mut seen = [0usize; KINDS.len()];
        for seed in 0..10 {
            for st in generate(seed, NINETY, 3, &[51, 52]) {
                seen[st.fault.kind()] += 1;
            }
        }
        assert!(seen.iter().all(|n| *n > 0), "{seen:?}");
    }

    #[test]
    fn short_runs_may_be_empty() {
        assert!(generate(1, Duration::from_secs(5), 3, &[51]).is_empty());
    }
}
