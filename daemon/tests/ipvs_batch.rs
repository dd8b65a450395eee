//! Batches of IPVS changes: several netlink messages in one datagram, and
//! their acks mapped back to each command by sequence number (the kernel
//! side is tested by ipvs_kernel.rs in a guest).
#![cfg(target_endian = "little")]

mod ipvs_util;

use ipvs_util::*;
use nix::errno::Errno;
use vigil::os::ipvs::batch::{frame, BatchCollector, MAX_BYTES, MAX_MESSAGES};
use vigil::os::ipvs::encode::{request, Request};
use vigil_lvs::{Command, Forwarding};

fn cmds(n: usize) -> Vec<Command> {
    (0..n)
        .map(|i| {
            let d = dest(
                &format!("10.0.{}.{}", i / 250, 1 + i % 250),
                80,
                Forwarding::Dr,
            );
            Command::AddDest(tcp80(), d)
        })
        .collect()
}

/// An NLMSG_ERROR from the kernel: seq, pid, error code (0 is an ack).
fn ack(seq: u32, pid: u32, code: i32) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&36u32.to_le_bytes());
    m.extend_from_slice(&2u16.to_le_bytes()); // NLMSG_ERROR
    m.extend_from_slice(&0x100u16.to_le_bytes()); // NLM_F_CAPPED
    m.extend_from_slice(&seq.to_le_bytes());
    m.extend_from_slice(&pid.to_le_bytes());
    m.extend_from_slice(&code.to_le_bytes());
    m.extend_from_slice(&[0; 16]); // the request's header, echoed
    m
}

#[test]
fn a_batch_is_the_requests_back_to_back_with_consecutive_seqs() {
    let c = vec![
        Command::AddService(service(tcp80(), "rr")),
        cmds(1).remove(0),
        Command::DelService(tcp80()),
    ];
    let (bytes, n) = frame(FAM, 41, &c);
    assert_eq!(n, 3);
    let mut want = Vec::new();
    for (i, cmd) in c.iter().enumerate() {
        want.extend_from_slice(&request(FAM, 41 + i as u32, &Request::Apply(cmd)));
        assert_eq!(want.len() % 4, 0, "every message ends aligned");
    }
    assert_eq!(bytes, want);
    // Each message says REQUEST|ACK, so each gets its own answer.
    let mut at = 0;
    for i in 0..3 {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        body(&bytes[at..at + len], ACK, 41 + i, [1, 5, 3][i as usize]);
        at += len;
    }
    assert_eq!(at, bytes.len());
}

#[test]
fn batches_are_capped_and_cover_every_command() {
    let all = cmds(1000);
    let mut done = 0;
    let mut datagrams = 0;
    while done < all.len() {
        let (bytes, n) = frame(FAM, 1, &all[done..]);
        assert!((1..=MAX_MESSAGES).contains(&n), "{n}");
        assert!(bytes.len() <= MAX_BYTES, "{}", bytes.len());
        done += n;
        datagrams += 1;
    }
    assert_eq!(done, 1000);
    assert_eq!(datagrams, 1000_usize.div_ceil(MAX_MESSAGES));
    // A lone command always goes, whatever its size.
    assert_eq!(frame(FAM, 1, &all[..1]).1, 1);
    assert_eq!(frame(FAM, 1, &[]).1, 0);
}

#[test]
fn each_ack_is_mapped_back_to_its_command() {
    let pid = 777;
    let mut c = BatchCollector::new(100, pid, 4);
    // Out of order, split over two datagrams, with noise: another request's
    // late answer, another socket's pid, a repeated ack.
    let mut d1 = ack(101, pid, -17);
    d1.extend(ack(99, pid, -3));
    d1.extend(ack(100, pid + 1, -1));
    d1.extend(ack(103, pid, 0));
    assert_eq!(c.feed(&d1), Ok(false));
    let mut d2 = ack(100, pid, 0);
    d2.extend(ack(101, pid, 0));
    d2.extend(ack(102, pid, -3));
    assert_eq!(c.feed(&d2), Ok(true));
    let r: Vec<_> = c.results().collect();
    assert_eq!(
        r,
        vec![
            Some(Ok(())),
            Some(Err(Errno::EEXIST)),
            Some(Err(Errno::ESRCH)),
            Some(Ok(()))
        ]
    );
}

#[test]
fn sequence_numbers_may_wrap_inside_a_batch() {
    let mut c = BatchCollector::new(u32::MAX, 5, 2);
    let mut d = ack(u32::MAX, 5, 0);
    d.extend(ack(0, 5, -2));
    assert_eq!(c.feed(&d), Ok(true));
    let r: Vec<_> = c.results().collect();
    assert_eq!(r, vec![Some(Ok(())), Some(Err(Errno::ENOENT))]);
}

#[test]
fn unanswered_commands_stay_unanswered_and_bad_bytes_are_an_error() {
    let mut c = BatchCollector::new(1, 5, 3);
    assert_eq!(c.feed(&ack(2, 5, 0)), Ok(false));
    let r: Vec<_> = c.results().collect();
    assert_eq!(r, vec![None, Some(Ok(())), None]);
    let mut cut = ack(1, 5, 0);
    cut.truncate(20); // length field says 36
    assert!(c.feed(&cut).is_err());
    let mut short = ack(3, 5, 0);
    short[0] = 18; // an error message with no room for the code
    short.truncate(18);
    assert!(c.feed(&short).is_err());
}
