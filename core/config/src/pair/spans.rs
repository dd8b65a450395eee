//! Where each keyword of a configuration was written: a side table built
//! from the syntax tree, so that the model stays free of positions.
//!
//! A keyword is named by its path of block heads, e.g.
//! `["vrrp_instance VI_1", "priority"]` or
//! `["virtual_server 10.0.0.1 80", "real_server 10.0.0.2 80", "TCP_CHECK"]`.
//! Addresses in heads and list entries are re-printed canonically, so the
//! model's values find the text whatever way it was written.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::IpAddr;

use crate::include::SourceMap;
use crate::parser::Stmt;
use crate::span::Span;

/// Blocks whose words after the keyword name them (part of the path).
const NAMED: [&str; 6] = [
    "vrrp_instance",
    "vrrp_sync_group",
    "vrrp_script",
    "virtual_server",
    "real_server",
    "sorry_server",
];

/// Blocks whose lines are list entries keyed by an address.
const ADDRESS_LISTS: [&str; 3] = [
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "unicast_peer",
];

/// A file position as printed: `FILE:LINE:COL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    /// The file's path as the configuration named it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

impl core::fmt::Display for Loc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// Keyword path -> where it was (last) written.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    main: String,
    sources: SourceMap,
    at: BTreeMap<String, Span>,
}

impl Spans {
    /// The table of `stmts`, whose spans index `sources`.
    pub fn new(main: &str, stmts: &[Stmt], sources: SourceMap) -> Self {
        let mut s = Spans {
            main: main.into(),
            sources,
            at: BTreeMap::new(),
        };
        s.walk(String::new(), stmts, false);
        s
    }

    fn walk(&mut self, prefix: String, stmts: &[Stmt], list: bool) {
        for st in stmts {
            let head = if list {
                address_key(&st.keyword.text)
            } else {
                head(st)
            };
            let path = if prefix.is_empty() {
                head
            } else {
                alloc::format!("{prefix}/{head}")
            };
            // A repeated keyword: the last one is in force, as in keepalived.
            self.at.insert(path.clone(), st.keyword.span);
            if let Some(b) = &st.block {
                let is_list = ADDRESS_LISTS.contains(&st.keyword.text.as_str());
                self.walk(path, &b.stmts, is_list);
            }
        }
    }

    /// Where the keyword at `path` is; else its nearest written parent;
    /// else the start of the main file.
    pub fn loc(&self, path: &[&str]) -> Loc {
        for n in (1..=path.len()).rev() {
            let key = path.get(..n).unwrap_or(&[]).join("/");
            if let Some(sp) = self.at.get(&key) {
                return Loc {
                    file: self.sources.name(sp.file).into(),
                    line: sp.line,
                    col: sp.col,
                };
            }
        }
        Loc {
            file: self.main.clone(),
            line: 1,
            col: 1,
        }
    }

    /// Whether the keyword at `path` was written.
    pub fn has(&self, path: &[&str]) -> bool {
        self.at.contains_key(&path.join("/"))
    }
}

/// The path element of a statement: the keyword, plus the name of a named
/// block (addresses canonical).
fn head(st: &Stmt) -> String {
    let kw = st.keyword.text.as_str();
    if !NAMED.contains(&kw) || st.args.is_empty() {
        return kw.into();
    }
    let mut s = String::from(kw);
    for a in &st.args {
        s.push(' ');
        s.push_str(&address_key(&a.text));
    }
    s
}

/// An address (optionally `/PREFIX`) re-printed canonically; other words
/// as written.
pub fn address_key(word: &str) -> String {
    let addr = word.split('/').next().unwrap_or(word);
    match addr.parse::<IpAddr>() {
        Ok(a) => a.to_string(),
        Err(_) => word.into(),
    }
}

/// The path element of a virtual server as the model names it.
pub fn vs_head(key: &vigil_model::VsKey) -> String {
    match key {
        vigil_model::VsKey::Addr { addr, port } => alloc::format!("virtual_server {addr} {port}"),
        vigil_model::VsKey::Fwmark(m) => alloc::format!("virtual_server fwmark {m}"),
    }
}

/// Canonical words of a list, for messages: `a, b, c`.
pub fn join<T: core::fmt::Display>(items: &[T]) -> String {
    let v: Vec<String> = items.iter().map(ToString::to_string).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
