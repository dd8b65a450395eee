//! Checker keywords beyond the connection options: HTTP `url` blocks, the
//! DNS name, `SMTP_CHECK`'s `helo_name` / `host`, `UDP_CHECK`'s payload,
//! `FILE_CHECK` and the top-level `track_file` blocks it refers to.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::time::Duration;

use vigil_model::{ReplyPattern, StatusRange, TrackFile, Url};

use super::Ctx;
use crate::error::Problem;
use crate::parser::Stmt;
use crate::values;

/// keepalived's bound for a `track_file` block's weight.
const TRACK_FILE_WEIGHT: i64 = 254;
/// keepalived's bound for a `FILE_CHECK` weight (`IPVS_WEIGHT_LIMIT`).
const FILE_CHECK_WEIGHT: i64 = i32::MAX as i64;

/// One `host { ... }` block of `SMTP_CHECK`: a checker of its own.
#[derive(Default, Clone)]
pub(super) struct SmtpHost {
    pub connect_ip: Option<IpAddr>,
    pub connect_port: Option<u16>,
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub connect_timeout: Option<Duration>,
}

/// `host { connect_ip; connect_port; bindto; bind_port; connect_timeout }`.
pub(super) fn smtp_host(ctx: &mut Ctx, stmt: &Stmt, max_secs: u64) -> Option<SmtpHost> {
    let body = ctx.block(stmt)?;
    let mut h = SmtpHost::default();
    for s in body {
        match s.keyword.text.as_str() {
            "connect_ip" => h.connect_ip = ctx.ip(s).or(h.connect_ip),
            "connect_port" => h.connect_port = ctx.int(s, 1, 65535).or(h.connect_port),
            "bindto" => h.bindto = ctx.ip(s).or(h.bindto),
            "bind_port" => h.bind_port = ctx.int(s, 1, 65535).or(h.bind_port),
            "connect_timeout" => {
                h.connect_timeout = ctx.duration(s, max_secs).or(h.connect_timeout)
            }
            _ => ctx.unknown(s, "host"),
        }
    }
    Some(h)
}

/// `payload HEX` of `UDP_CHECK`: an even number of hex digits, spaces
/// between words allowed (keepalived joins the words).
pub(super) fn hex_payload(ctx: &mut Ctx, s: &Stmt) -> Option<Vec<u8>> {
    ctx.nth(s, 0)?;
    let text: String = s.args.iter().map(|w| w.text.as_str()).collect();
    let bytes = parse_hex(&text);
    if bytes.is_none() {
        let p = Problem::BadChoice {
            keyword: s.keyword.text.clone(),
            value: text,
            expected: "an even number of hexadecimal digits",
        };
        ctx.error(s.keyword.span, p);
    }
    bytes
}

/// `require_reply HEX`: keepalived's read_hex_str with wildcards (the
/// words joined by a blank; blanks between octets are skipped, a digit
/// before a blank is an octet of its own, `x`/`X` is a wildcard nibble).
pub(super) fn reply_pattern(ctx: &mut Ctx, s: &Stmt) -> Option<ReplyPattern> {
    let text = s
        .args
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let p = parse_pattern(&text);
    if p.is_none() {
        let p = Problem::BadChoice {
            keyword: s.keyword.text.clone(),
            value: text,
            expected: "hexadecimal digits and x wildcards",
        };
        ctx.error(s.keyword.span, p);
    }
    p
}

/// The pattern of `text`, or `None` if it is empty or has another
/// character than hex digits, `x`/`X` and blanks.
pub(crate) fn parse_pattern(text: &str) -> Option<ReplyPattern> {
    // A nibble: (value, wildcard mask).
    fn nibble(c: u8) -> Option<(u8, u8)> {
        match c {
            b'x' | b'X' => Some((0, 0x0f)),
            _ => (c as char).to_digit(16).map(|d| (d as u8, 0)),
        }
    }
    let b = text.as_bytes();
    let (mut data, mut mask) = (Vec::new(), Vec::new());
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let Some(&c) = b.get(i) else { break };
        let (mut v, mut m) = nibble(c)?;
        i += 1;
        if let Some(&c2) = b.get(i).filter(|c| **c != b' ') {
            let (v2, m2) = nibble(c2)?;
            v = v << 4 | v2;
            m = m << 4 | m2;
            i += 1;
        }
        data.push(v);
        mask.push(m);
    }
    if data.is_empty() {
        return None;
    }
    if mask.iter().all(|m| *m == 0) {
        mask.clear();
    }
    Some(ReplyPattern { data, mask })
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16)?;
            let lo = (p[1] as char).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

/// `weight N [reverse|noreverse]`, N within `[-limit, limit]`.
fn weight(ctx: &mut Ctx, s: &Stmt, limit: i64) -> Option<(i32, bool)> {
    let w = ctx.nth(s, 0)?;
    let n = ctx.int_word(s, w, -limit, limit)?;
    let reverse = match s.args.get(1).map(|w| w.text.as_str()) {
        None | Some("noreverse") => false,
        Some("reverse") => true,
        Some(other) => {
            let p = Problem::BadChoice {
                keyword: s.keyword.text.clone(),
                value: other.into(),
                expected: "reverse|noreverse",
            };
            ctx.error(s.args[1].span, p);
            return None;
        }
    };
    Some((n, reverse))
}

/// `FILE_CHECK { track_file NAME; weight N [reverse] }`; the name is looked
/// up among the `track_file` blocks read so far (keepalived reads in order:
/// the block must come first). `None` when skipped, as keepalived skips it.
pub(super) fn file_check(ctx: &mut Ctx, stmt: &Stmt) -> Option<vigil_model::FileCheck> {
    let body = ctx.block(stmt)?;
    let mut tf: Option<TrackFile> = None;
    let mut own: Option<(i32, bool)> = None;
    for s in body {
        match s.keyword.text.as_str() {
            "track_file" => {
                let Some(w) = ctx.one(s) else { continue };
                match ctx.track_files.iter().find(|t| t.name == w.text) {
                    Some(t) => tf = Some(t.clone()),
                    None => {
                        let what = alloc::format!("track_file {} not found", w.text);
                        ctx.ignored(w.span, what);
                    }
                }
            }
            "weight" => own = weight(ctx, s, FILE_CHECK_WEIGHT).or(own),
            _ => ctx.unknown(s, "FILE_CHECK"),
        }
    }
    let Some(tf) = tf else {
        let what = "FILE_CHECK has no track_file; checker skipped".into();
        ctx.ignored(stmt.keyword.span, what);
        return None;
    };
    let (weight, reverse) = own.unwrap_or((tf.weight, tf.reverse));
    Some(vigil_model::FileCheck {
        name: tf.name,
        path: tf.path,
        weight,
        reverse,
    })
}

/// A top-level `track_file NAME { file PATH; weight N [reverse] }` (or its
/// deprecated synonym `vrrp_track_file`). `init_file` is read and not acted
/// on. A block without `file` is dropped, as keepalived drops it.
pub(super) fn track_file(ctx: &mut Ctx, stmt: &Stmt) -> Option<TrackFile> {
    let (name, _) = ctx.name(stmt)?;
    let body = ctx.block(stmt)?;
    let mut path = None;
    let mut wr = (1, false);
    let mut init = None;
    for s in body {
        match s.keyword.text.as_str() {
            "file" => path = ctx.text(s).or(path),
            "weight" => wr = weight(ctx, s, TRACK_FILE_WEIGHT).unwrap_or(wr),
            "init_file" => init = Some(init_file(ctx, s)),
            _ => ctx.unknown(s, "track_file"),
        }
    }
    let Some(path) = path else {
        let what = alloc::format!("track_file {name} without file; dropped");
        ctx.ignored(stmt.keyword.span, what);
        return None;
    };
    Some(TrackFile {
        name,
        path,
        weight: wr.0,
        reverse: wr.1,
        init_file: init,
    })
}

/// `init_file [VALUE] [overwrite]`: keepalived's creation of the file at
/// start (VALUE default 0; a bad value is 0, as keepalived makes it).
fn init_file(ctx: &mut Ctx, s: &Stmt) -> vigil_model::InitFile {
    let mut init = vigil_model::InitFile {
        value: 0,
        overwrite: false,
    };
    for w in &s.args {
        if w.text == "overwrite" {
            init.overwrite = true;
        } else if w.text.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            match crate::values::int(&w.text) {
                Some(v) => init.value = v,
                None => ctx.warn(
                    w.span,
                    Problem::NotANumber(s.keyword.text.clone(), w.text.clone()),
                ),
            }
        } else {
            ctx.ignored(
                w.span,
                alloc::format!("unknown init_file option {}", w.text),
            );
        }
    }
    init
}

/// A DNS_CHECK `name`: labels of 1..=63 bytes, a trailing dot allowed
/// ("." alone is the root); keepalived rejects empty labels at parse time.
pub(super) fn dns_name(ctx: &mut Ctx, s: &Stmt) -> Option<String> {
    let w = ctx.one(s)?;
    let name = w.text.strip_suffix('.').unwrap_or(&w.text);
    let ok =
        w.text == "." || (!name.is_empty() && name.split('.').all(|l| (1..=63).contains(&l.len())));
    if !ok {
        let p = Problem::BadChoice {
            keyword: s.keyword.text.clone(),
            value: w.text.clone(),
            expected: "a domain name with labels of 1 to 63 characters",
        };
        ctx.error(w.span, p);
        return None;
    }
    Some(w.text.clone())
}

/// `url { path P; status_code ...; digest D; virtualhost H }`.
pub(super) fn url(ctx: &mut Ctx, stmt: &Stmt) -> Option<Url> {
    let body = ctx.block(stmt)?;
    let mut u = Url {
        path: String::new(),
        status_codes: Vec::new(),
        digest: None,
        virtualhost: None,
    };
    let mut has_path = false;
    for s in body {
        match s.keyword.text.as_str() {
            "path" => {
                if let Some(p) = ctx.text(s) {
                    u.path = p;
                    has_path = true;
                }
            }
            "digest" => u.digest = ctx.text(s).or(u.digest.take()),
            "virtualhost" => u.virtualhost = ctx.text(s).or(u.virtualhost.take()),
            "status_code" => {
                ctx.nth(s, 0);
                for w in &s.args {
                    let (a, b) = w.text.split_once('-').unwrap_or((&w.text, &w.text));
                    match (values::int(a), values::int(b)) {
                        (Some(first), Some(last))
                            if (100..=999).contains(&first) && (first..=999).contains(&last) =>
                        {
                            u.status_codes.push(StatusRange {
                                first: first as u16,
                                last: last as u16,
                            })
                        }
                        _ => {
                            let p = Problem::BadChoice {
                                keyword: s.keyword.text.clone(),
                                value: w.text.clone(),
                                expected: "HTTP status codes 100..999 or ranges A-B",
                            };
                            ctx.error(w.span, p);
                        }
                    }
                }
            }
            _ => ctx.unknown(s, "url"),
        }
    }
    if !has_path {
        ctx.error(stmt.keyword.span, Problem::MissingKeyword("url", "path"));
        return None;
    }
    if u.status_codes.is_empty() {
        u.status_codes.push(StatusRange {
            first: 200,
            last: 299,
        });
    }
    Some(u)
}
