//! Alert mails and notify FIFOs in the namespace lab, each run with vigil
//! and then with keepalived 2.2.7 on the same configuration, the same SMTP
//! sink and the same FIFO reader, and the two compared line by line.
//!
//! - `mail_per_transition`: r1 (VRRPv3, 0.1 s) goes BACKUP, MASTER, BACKUP
//!   (r2 with a higher priority starts), FAULT (cable cut), BACKUP, stops;
//!   the sink (`notify/smtp_sink.py` in r1's namespace) gets one mail per
//!   transition with keepalived's subject, headers and two RCPT TOs.
//! - `mail_stalling_server`: a sink that accepts and never answers; r1's
//!   second instance flips 8 times while its first one's adverts are timed
//!   from r2 (tcpdump): lateness p50/p99/max printed, p99 bounded, one
//!   "not sent" log line per attempt. Also a refusing server (no listener).
//! - `fifo_lines`: the same transitions with `notify_fifo` and a
//!   `notify_fifo_script` that copies the FIFO to a file; and a FIFO
//!   nobody reads, which must not block the daemon.
//!
//! Run as root: `cargo test -p vigil-lab --test notify -- [FILTER]`
//! (`VIGIL_BIN` picks the binary). Without root or namespaces every test
//! is reported skipped; without keepalived the comparison is skipped.

mod common;
mod fifo;
mod mail;

use fifo::{fifo_lines, fifo_variants};
use mail::{mail_per_transition, mail_stalling_server};
use vigil_lab::harness::run;

fn main() {
    run(&[
        ("mail_per_transition", mail_per_transition),
        ("mail_stalling_server", mail_stalling_server),
        ("fifo_lines", fifo_lines),
        ("fifo_variants", fifo_variants),
    ]);
}
