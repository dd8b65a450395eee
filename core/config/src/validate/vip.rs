//! The address and authentication blocks of a `vrrp_instance`:
//! `virtual_ipaddress` lines (also read for `static_ipaddress`) and
//! `authentication { auth_type; auth_pass }`.

use vigil_model::{AddrScope, Auth, VirtualAddress};

use alloc::vec::Vec;
use core::net::IpAddr;

use super::{lookup, Ctx};
use crate::error::Problem;
use crate::parser::Stmt;
use crate::values;

/// `authentication { ... }`: PASS or AH with its password, else none (an
/// unknown type is ignored with a warning, as keepalived does).
pub(super) fn authentication(ctx: &mut Ctx, body: &[Stmt]) -> Auth {
    let mut pass: Option<[u8; 8]> = None;
    let mut kind_ok = true;
    let mut ah = false;
    for s in body {
        match s.keyword.text.as_str() {
            "auth_type" => {
                if let Some(w) = ctx.one(s) {
                    if w.text == "AH" {
                        ah = true;
                    } else if w.text != "PASS" {
                        // keepalived ignores it: no authentication.
                        let p = Problem::BadChoice {
                            keyword: s.keyword.text.clone(),
                            value: w.text.clone(),
                            expected: "PASS|AH (authentication ignored)",
                        };
                        ctx.warn(w.span, p);
                        kind_ok = false;
                    }
                }
            }
            "auth_pass" => {
                if let Some(w) = ctx.one(s) {
                    let bytes = w.text.as_bytes();
                    if bytes.len() > 8 {
                        ctx.warn(w.span, Problem::AuthPassTruncated(w.text.clone()));
                    }
                    let mut p = [0u8; 8];
                    for (dst, src) in p.iter_mut().zip(bytes) {
                        *dst = *src;
                    }
                    pass = Some(p);
                }
            }
            _ => ctx.unknown(s, "authentication"),
        }
    }
    match pass {
        Some(p) if kind_ok && ah => Auth::Ah(p),
        Some(p) if kind_ok => Auth::Pass(p),
        _ => Auth::None,
    }
}

/// `ADDR[/PREFIX] [brd ADDR] [dev IF] [scope SCOPE] [label L] [no_track]`.
pub(super) fn vip(ctx: &mut Ctx, line: &Stmt) -> Option<VirtualAddress> {
    let w = &line.keyword;
    let (addr_text, prefix_text) = match w.text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (w.text.as_str(), None),
    };
    let Some(addr) = values::ip(addr_text) else {
        ctx.error(w.span, Problem::BadAddress(w.text.clone()));
        return None;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix_len = match prefix_text {
        None => max,
        Some(p) => match values::int(p) {
            Some(v) if (0..=i64::from(max)).contains(&v) => v as u8,
            _ => {
                ctx.error(w.span, Problem::BadPrefix(w.text.clone()));
                return None;
            }
        },
    };
    let mut v = VirtualAddress {
        addr,
        prefix_len,
        broadcast: None,
        dev: None,
        scope: AddrScope::Global,
        label: None,
        no_track: false,
    };
    let mut args = line.args.iter();
    while let Some(opt) = args.next() {
        let value = match opt.text.as_str() {
            "no_track" => {
                v.no_track = true;
                continue;
            }
            "brd" | "dev" | "scope" | "label" => match args.next() {
                Some(val) => val,
                None => {
                    ctx.error(opt.span, Problem::MissingValue(opt.text.clone()));
                    return None;
                }
            },
            _ => {
                let p = Problem::UnknownKeyword(opt.text.clone(), "virtual_ipaddress");
                if ctx.strict {
                    ctx.error(opt.span, p);
                } else {
                    ctx.warn(opt.span, p);
                }
                break;
            }
        };
        match opt.text.as_str() {
            "brd" => match values::ip(&value.text) {
                Some(IpAddr::V4(b)) if addr.is_ipv4() => v.broadcast = Some(b),
                _ => {
                    ctx.error(value.span, Problem::BadAddress(value.text.clone()));
                    return None;
                }
            },
            "dev" => v.dev = Some(value.text.clone()),
            "label" => v.label = Some(value.text.clone()),
            _ => {
                let scopes = [
                    ("global", AddrScope::Global),
                    ("site", AddrScope::Site),
                    ("link", AddrScope::Link),
                    ("host", AddrScope::Host),
                    ("nowhere", AddrScope::Nowhere),
                ];
                let s = Stmt {
                    keyword: opt.clone(),
                    args: Vec::new(),
                    block: None,
                };
                v.scope = ctx.choice_of(
                    &s,
                    value,
                    |t| lookup(&scopes, t),
                    "global|site|link|host|nowhere",
                )?;
            }
        }
    }
    Some(v)
}
