//! Finding the IPVS generic netlink family: nlctrl CTRL_CMD_GETFAMILY, and
//! `modprobe ip_vs` when it is absent (keepalived does the same; a kernel
//! with the module built in or autoloaded never needs it).

use std::process::{Command, Stdio};

use super::attr::Writer;
use super::encode::message;
use super::uapi::{ctrl, nlm};

/// The GETFAMILY request for `name`.
pub fn request(seq: u32, name: &str) -> Vec<u8> {
    let mut w = Writer::new();
    w.string(ctrl::ATTR_FAMILY_NAME, name);
    message(
        ctrl::ID,
        nlm::REQUEST | nlm::ACK,
        seq,
        ctrl::CMD_GETFAMILY,
        ctrl::VERSION,
        &w.into_bytes(),
    )
}

/// Runs `modprobe ip_vs` once; says how it went, for the error message.
pub fn modprobe_ip_vs() -> String {
    let run = Command::new("modprobe")
        .arg("ip_vs")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match run {
        Ok(s) if s.success() => "modprobe ip_vs succeeded but the family is still absent".into(),
        Ok(s) => format!("modprobe ip_vs failed ({s})"),
        Err(e) => format!("modprobe could not be run ({e})"),
    }
}
