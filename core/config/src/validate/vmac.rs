//! `use_vmac [NAME] [MAC]`, `vmac_xmit_base` and `use_vmac_addr` inside a
//! `vrrp_instance`, read as keepalived 2.2.7 reads them: a word with a `:`
//! is the MAC (interface names cannot hold one), any other the name; a bad
//! name or MAC is ignored with a warning, and unicast peers force
//! `vmac_xmit_base` (the VMAC's MAC would otherwise answer for the base).

use alloc::collections::BTreeSet;
use alloc::string::String;

use super::Ctx;
use crate::error::Problem;
use crate::parser::Stmt;
use crate::span::Span;

/// What the keywords said, before the instance's VRID and family are known.
#[derive(Debug, Default)]
pub(super) struct Draft {
    /// Where `use_vmac` was written; `None` = no VMAC.
    pub at: Option<Span>,
    pub name: Option<String>,
    /// Six octets, or five (`true`: the VRID is the sixth).
    pub mac: Option<([u8; 6], bool)>,
    pub xmit_base: bool,
    pub addr: bool,
}

/// The resolved settings, as the model stores them.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Vmac {
    pub name: Option<String>,
    pub mac: Option<[u8; 6]>,
    pub xmit_base: bool,
    pub addr: bool,
}

/// Handles a VMAC keyword; false if `kw` is not one.
pub(super) fn keyword(ctx: &mut Ctx, s: &Stmt, kw: &str, d: &mut Draft) -> bool {
    match kw {
        "use_vmac" => {
            ctx.no_block(s);
            ctx.at_most(s, 2);
            d.at = Some(s.keyword.span);
            for w in s.args.iter().take(2) {
                if w.text.contains(':') {
                    match parse_mac(&w.text) {
                        Ok(m) if d.mac.is_none() => d.mac = Some(m),
                        Ok(_) => ctx.ignored(w.span, "VMAC MAC address already specified".into()),
                        Err(why) => {
                            ctx.ignored(w.span, alloc::format!("VMAC MAC {}: {why}", w.text))
                        }
                    }
                } else if d.name.is_some() {
                    ctx.ignored(w.span, "VMAC interface name already specified".into());
                } else if !name_valid(&w.text) {
                    let what = alloc::format!(
                        "VMAC interface name '{}' too long or invalid characters",
                        w.text
                    );
                    ctx.ignored(w.span, what);
                } else {
                    d.name = Some(w.text.clone());
                }
            }
        }
        "vmac_xmit_base" => {
            ctx.flag(s);
            d.xmit_base = true;
        }
        "use_vmac_addr" => {
            ctx.flag(s);
            d.addr = true;
        }
        _ => return false,
    }
    true
}

/// The kernel's rule for an interface name (IFNAMSIZ 16, with its NUL).
pub fn name_valid(n: &str) -> bool {
    !n.is_empty()
        && n.len() < 16
        && n != "."
        && n != ".."
        && !n.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
}

/// `xx:xx:xx:xx:xx:xx`, or five octets (the VRID completes it). Multicast
/// and RFC 5798's own prefixes are refused, as keepalived refuses them.
fn parse_mac(s: &str) -> Result<([u8; 6], bool), &'static str> {
    let parts: alloc::vec::Vec<&str> = s.trim_end_matches(':').split(':').collect();
    if parts.len() != 5 && parts.len() != 6 {
        return Err("not 5 or 6 octets; ignored");
    }
    let mut mac = [0u8; 6];
    for (slot, p) in mac.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 2 {
            return Err("invalid; ignored");
        }
        *slot = u8::from_str_radix(p, 16).map_err(|_| "invalid; ignored")?;
    }
    if mac[0] & 1 != 0 {
        return Err("is multicast; ignored");
    }
    if mac[..4] == [0, 0, 0x5e, 0] && (mac[4] == 1 || mac[4] == 2) {
        return Err("is an RFC 5798 address; ignored");
    }
    Ok((mac, parts.len() == 5))
}

/// keepalived's default name: `vrrp.VRID`, else (taken by an earlier
/// instance) `vrrp6.VRID` first for IPv6, then `vrrpN.VRID`.
pub fn default_name(vrid: u8, ipv6: bool, taken: &BTreeSet<String>) -> String {
    let mut n: u16 = 0;
    loop {
        let name = if n == 0 {
            alloc::format!("vrrp.{vrid}")
        } else {
            alloc::format!("vrrp{n}.{vrid}")
        };
        if !taken.contains(&name) {
            return name;
        }
        n = match (ipv6, n) {
            (true, 0) => 6,
            (true, 6) => 1,
            (true, 5) => 7,
            _ => n + 1,
        };
    }
}

/// Applies the VRID, family and unicast rules; `taken` holds the VMAC names
/// of the instances before this one (a name used twice is ignored).
pub(super) fn resolve(
    ctx: &mut Ctx,
    d: Draft,
    vrid: u8,
    ipv6: bool,
    unicast: bool,
    taken: &mut BTreeSet<String>,
) -> Vmac {
    let mac = d.mac.map(|(mut m, use_vrid)| {
        if use_vrid {
            m[5] = vrid;
        }
        m
    });
    let Some(at) = d.at else {
        return Vmac {
            name: None,
            mac: None,
            xmit_base: d.xmit_base,
            addr: d.addr,
        };
    };
    let mut name = d.name;
    if let Some(n) = name.as_ref().filter(|n| taken.contains(*n)) {
        ctx.ignored(
            at,
            alloc::format!("VMAC name {n} is used by another instance"),
        );
        name = None;
    }
    let name = name.unwrap_or_else(|| default_name(vrid, ipv6, taken));
    taken.insert(name.clone());
    let mut xmit_base = d.xmit_base;
    if unicast && !xmit_base {
        ctx.warn(at, Problem::VmacUnicastNeedsXmitBase);
        xmit_base = true;
    }
    Vmac {
        name: Some(name),
        mac,
        xmit_base,
        addr: d.addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs() {
        assert_eq!(
            parse_mac("02:00:00:aa:bb:cc"),
            Ok(([2, 0, 0, 0xaa, 0xbb, 0xcc], false))
        );
        assert_eq!(
            parse_mac("02:00:00:aa:bb"),
            Ok(([2, 0, 0, 0xaa, 0xbb, 0], true))
        );
        assert!(parse_mac("01:00:00:aa:bb:cc").is_err(), "multicast");
        assert!(parse_mac("00:00:5e:00:01:07").is_err(), "RFC 5798");
        assert!(parse_mac("00:00:5e:00:03:07").is_ok());
        assert!(parse_mac("0g:00:00:aa:bb:cc").is_err());
        assert!(parse_mac("02:00").is_err());
    }

    #[test]
    fn names() {
        let mut t = BTreeSet::new();
        assert_eq!(default_name(7, false, &t), "vrrp.7");
        t.insert("vrrp.7".into());
        assert_eq!(default_name(7, true, &t), "vrrp6.7");
        assert_eq!(default_name(7, false, &t), "vrrp1.7");
        assert!(name_valid("vrrp.255"));
        assert!(!name_valid("a:b") && !name_valid("sixteen-chars-xx") && !name_valid(".."));
    }
}
