//! `vigil ipvs`: the kernel's IPVS table in `ipvsadm -Ln`'s layouts (plain,
//! `--stats`, `--rate`) and as JSON. Pure: [`Info`] and the dump in, text
//! out, so golden tests pin every column.
//!
//! Order is ipvsadm's: services by fwmark, family, protocol, address, port;
//! destinations by address, port. ipvsadm compares with C `int`
//! subtraction of unsigned values, so two addresses more than 2^31 apart
//! compare "backwards" (10.0.0.1 sorts after 192.168.0.1); that quirk is
//! reproduced, with a stable insertion sort so no input can make it panic.

mod json;
mod text;

use std::net::IpAddr;

use vigil_lvs::{Family, ServiceKey};

use crate::os::ipvs::{DestEntry, Info, ServiceEntry};

pub use json::render_json;
pub use text::{largenum, render};

/// Which `ipvsadm -Ln` variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `ipvsadm -Ln`.
    List,
    /// `ipvsadm -Ln --stats`.
    Stats,
    /// `ipvsadm -Ln --rate`.
    Rate,
}

/// ipvsadm's `int r = a - b` on unsigned operands.
fn c_sub(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// The address as ipvsadm's comparison sees it: host-order 32-bit words.
fn words(addr: &IpAddr) -> Vec<u32> {
    match addr {
        IpAddr::V4(a) => vec![u32::from(*a)],
        IpAddr::V6(a) => a
            .octets()
            .chunks(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    }
}

fn cmp_addr(a: &IpAddr, b: &IpAddr) -> i32 {
    words(a)
        .iter()
        .zip(words(b).iter().chain(std::iter::repeat(&0)))
        .map(|(x, y)| c_sub(*x, *y))
        .find(|r| *r != 0)
        .unwrap_or(0)
}

fn af(f: Family) -> i32 {
    match f {
        Family::V4 => 2,
        Family::V6 => 10,
    }
}

/// `ipvs_cmp_services`.
fn cmp_services(a: &ServiceEntry, b: &ServiceEntry) -> i32 {
    let parts = |k: &ServiceKey| match k {
        ServiceKey::Addr {
            addr,
            port,
            protocol,
        } => (
            0,
            af(k.family()),
            i32::from(protocol.number()),
            Some(*addr),
            *port,
        ),
        ServiceKey::Fwmark { mark, .. } => (*mark, af(k.family()), 0, None, 0),
    };
    let (fa, afa, pa, aa, porta) = parts(&a.service.key);
    let (fb, afb, pb, ab, portb) = parts(&b.service.key);
    let r = c_sub(fa, fb);
    if r != 0 {
        return r;
    }
    if afa != afb {
        return afa - afb;
    }
    if pa != pb {
        return pa - pb;
    }
    if let (Some(x), Some(y)) = (aa, ab) {
        let r = cmp_addr(&x, &y);
        if r != 0 {
            return r;
        }
    }
    i32::from(porta) - i32::from(portb)
}

/// `ipvs_cmp_dests`.
fn cmp_dests(a: &DestEntry, b: &DestEntry) -> i32 {
    let r = cmp_addr(&a.dest.addr, &b.dest.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.dest.port) - i32::from(b.dest.port)
}

/// A stable insertion sort with a C-style comparator (which need not be a
/// total order, unlike what `slice::sort_by` may assume).
fn insertion_sort<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> i32) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && cmp(&v[j - 1], &v[j]) > 0 {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// The services and their destinations in ipvsadm's order.
pub fn sorted(services: &[ServiceEntry]) -> Vec<ServiceEntry> {
    let mut out = services.to_vec();
    insertion_sort(&mut out, cmp_services);
    for s in &mut out {
        insertion_sort(&mut s.dests, cmp_dests);
    }
    out
}

/// The header line `IP Virtual Server version 1.2.1 (size=4096)`.
pub fn version_line(info: &Info) -> String {
    format!(
        "IP Virtual Server version {} (size={})\n",
        info.version_string(),
        info.conn_tab_size as i32
    )
}
