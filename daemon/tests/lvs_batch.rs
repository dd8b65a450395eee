//! The engine applies a diff as one batch: a whole table at start, exactly
//! one command for a one-line reload, and a command refused inside a batch
//! mapped back to it (the rest kept, a resync repairing the one).

use std::net::IpAddr;

use vigil::os::ipvs::{SyncConfig, SyncRole, Timeouts};
use vigil::runtime::lvs::{Backend, BackendError, Engine, Fault, MemoryBackend};
use vigil_check::Instant;
mod common;
use common::table::{config, table_conf as table};
use vigil_lvs::{Command, IpProto, ServiceKey, Table};

fn dests(t: &Table) -> usize {
    t.services().map(|s| t.dests(&s.key).count()).sum()
}

#[test]
fn whole_table_in_one_batch_and_a_one_line_reload_is_one_command() {
    let mut e = Engine::new(config(&conf(1000, 4, None)), MemoryBackend::default(), 1);
    e.start(Instant::from_secs(0));
    let b = e.backend_ref();
    assert_eq!(b.table.len(), 1000);
    assert_eq!(dests(&b.table), 4000);
    assert_eq!(b.log.len(), 5000, "one command per service and dest");
    assert_eq!(b.batches, 1, "the whole diff in one apply_all");
    let s = e.apply_stats();
    assert_eq!((s.applies, s.commands, s.refused), (1, 5000, 0));

    e.reload(
        Instant::from_secs(1),
        config(&conf(1000, 4, Some((517, 2)))),
    );
    let b = e.backend_ref();
    assert_eq!(b.log.len(), 5001, "{:?}", &b.log[5000..]);
    assert!(
        matches!(&b.log[5000], Command::EditDest(_, d) if d.weight == 2
            && d.addr == "192.168.67.12".parse::<IpAddr>().unwrap()),
        "{:?}",
        b.log[5000]
    );
    assert_eq!(b.batches, 2);
    assert_eq!(e.apply_stats().last_commands, 1);

    // A reload that changes nothing sends nothing.
    e.reload(
        Instant::from_secs(2),
        config(&conf(1000, 4, Some((517, 2)))),
    );
    assert_eq!(e.backend_ref().log.len(), 5001);
    assert_eq!(e.backend_ref().batches, 2);
}

/// A kernel that refuses the command at `refuse` of the first batch (as if
/// someone had just added that destination by hand).
struct RefuseOne {
    inner: MemoryBackend,
    refuse: usize,
    batches: usize,
}

impl Backend for RefuseOne {
    fn table(&mut self) -> Result<Table, BackendError> {
        self.inner.table()
    }
    fn apply(&mut self, cmd: &Command) -> Result<(), BackendError> {
        self.inner.apply(cmd)
    }
    fn apply_all(&mut self, cmds: &[Command]) -> Vec<Result<(), BackendError>> {
        self.batches += 1;
        let first = self.batches == 1;
        cmds.iter()
            .enumerate()
            .map(|(i, c)| {
                if first && i == self.refuse {
                    Err(BackendError {
                        fault: Fault::Other,
                        text: "refused".into(),
                    })
                } else {
                    self.inner.apply(c)
                }
            })
            .collect()
    }
    fn start_daemon(&mut self, role: SyncRole, c: &SyncConfig) -> Result<(), BackendError> {
        self.inner.start_daemon(role, c)
    }
    fn stop_daemon(&mut self, role: SyncRole, sync_id: u8) -> Result<(), BackendError> {
        self.inner.stop_daemon(role, sync_id)
    }
    fn timeouts(&mut self) -> Result<Timeouts, BackendError> {
        self.inner.timeouts()
    }
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), BackendError> {
        self.inner.set_timeouts(t)
    }
}

#[test]
fn a_refusal_inside_a_batch_is_mapped_to_its_command_and_repaired() {
    let backend = RefuseOne {
        inner: MemoryBackend::default(),
        refuse: 7,
        batches: 0,
    };
    let mut e = Engine::new(config(&conf(10, 4, None)), backend, 1);
    e.start(Instant::from_secs(0));
    let b = e.backend_ref();
    // 50 commands: service 0, its 4 dests, service 1, dests ... index 7 is
    // service 1's second dest. The commands after it went through; the
    // resync read the table and sent only the one missing.
    assert_eq!(b.batches, 2, "the batch, then one repair");
    assert_eq!(b.inner.log.len(), 50, "49 in the batch + 1 repair");
    assert_eq!(dests(&b.inner.table), 40);
    let s = e.apply_stats();
    assert_eq!(
        (s.commands, s.refused, s.last_commands),
        (51, 1, 1),
        "sent: 50 + the repair"
    );
    let missed = &b.inner.log[49];
    let k1 = ServiceKey::Addr {
        addr: "192.168.67.150".parse().unwrap(),
        port: 8002,
        protocol: IpProto::Tcp,
    };
    assert!(
        matches!(missed, Command::AddDest(k, d) if *k == k1
            && d.addr == "192.168.67.11".parse::<IpAddr>().unwrap()),
        "{missed:?}"
    );
    assert_eq!(e.installed(), &b.inner.table);
}

/// The generated table with this file's TCP_CHECK block.
fn conf(nvs: u16, nrs: u8, changed: Option<(u16, u8)>) -> String {
    table(nvs, nrs, changed, "   connect_timeout 1\n")
}
