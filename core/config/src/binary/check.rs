//! A decoded binary configuration meets the rules text meets.
//!
//! A hand-made, or damaged but CRC-valid, body decodes to any model at all:
//! VRID 0, two instances on one VRID, VIPs of both families, a DR real
//! server on another port. Rather than a second set of rules that would
//! drift from the text validator, each top-level block is shown as its
//! canonical text ([`crate::show::show_each`]), lexed, parsed and fed to one
//! validation, the text path's own; the model it gives must then equal the
//! decoded one, so a value the text rules would change (one clamped, or
//! ignored with a warning) is refused too. Only one block of text is held
//! at a time. There is no line to point at, so each problem names the
//! block and the keyword: `vrrp_instance VI_1: virtual_router_id: ...`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use vigil_model::Config;

use crate::error::Severity;
use crate::findings::{Findings, Found};
use crate::lexer::lex_within;
use crate::limits::Limits;
use crate::parser::Builder;
use crate::show::show_each;
use crate::validate::{Sizes, Validator};

/// One reason a binary configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The top-level block, as its text form heads it
    /// (`vrrp_instance VI_1`, `virtual_server 10.0.0.1 80`, `global_defs`).
    pub block: String,
    /// The keyword inside it, with the blocks in between
    /// (`real_server 10.0.1.1 80 > TCP_CHECK > connect_timeout`); empty when
    /// the problem is the block itself.
    pub field: String,
    /// What is wrong, worded as for text.
    pub problem: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.block, self.problem)
        } else {
            write!(f, "{}: {}: {}", self.block, self.field, self.problem)
        }
    }
}

/// Checks `config` as text is checked; every problem found if refused.
pub fn check(config: &Config, limits: &Limits) -> Result<(), Vec<Refusal>> {
    let items = items(config);
    if items > limits.tokens {
        return Err(alloc::vec![Refusal {
            block: "configuration".into(),
            field: String::new(),
            problem: format!(
                "{items} blocks, addresses and list entries, over the {} words a text \
                 configuration may have",
                limits.tokens
            ),
        }]);
    }
    let mut found = Findings::new(limits);
    let sizes = Sizes {
        scripts: config.scripts.len(),
        instances: config.instances.len(),
        servers: config.virtual_servers.len(),
    };
    let mut v = Validator::new(sizes, false, &mut found);
    let mut lines = 0u32;
    show_each(config, &mut |text| {
        // Blocks share one line numbering, so that a problem's line says
        // which block it is in (see `locate`).
        let mut budget = usize::MAX;
        let mut lexed = Findings::new(limits);
        let tokens = lex_within(0, text, limits, &mut budget, &mut lexed);
        // The shown text always lexes; if it did not, say so where it is.
        for (span, problem, severity) in lexed.into_sorted() {
            let line = span.line.saturating_add(lines);
            v.report((crate::span::Span { line, ..span }, problem, severity));
        }
        let mut tree = Builder::new(limits);
        let mut built = Findings::new(limits);
        for mut t in tokens {
            t.span.line = t.span.line.saturating_add(lines);
            t.line = t.line.saturating_add(lines);
            tree.push(t, &mut built);
        }
        let stmts = tree.finish(&mut built);
        for f in built.into_sorted() {
            v.report(f);
        }
        for stmt in stmts {
            v.stmt(&stmt);
        }
        lines = lines.saturating_add(line_count(text));
    });
    let rebuilt = v.finish();
    let found = found.into_sorted();
    let errors: Vec<&Found> = found.iter().filter(|f| f.2 == Severity::Error).collect();
    if !errors.is_empty() {
        return Err(locate(config, &errors));
    }
    if rebuilt != *config {
        let diff = difference(config, &rebuilt);
        // The warnings say why the text rules changed a value.
        let warnings: Vec<&Found> = found.iter().filter(|f| f.2 == Severity::Warning).collect();
        let mut out = locate(config, &warnings);
        out.push(diff);
        return Err(out);
    }
    Ok(())
}

/// Lines in a shown block (it ends with a line end).
fn line_count(text: &str) -> u32 {
    u32::try_from(text.matches('\n').count()).unwrap_or(u32::MAX)
}

/// Blocks and list entries of `config`: each costs at least one word of
/// text, so no text within the caps has more.
fn items(c: &Config) -> usize {
    let instance = |i: &vigil_model::VrrpInstance| {
        1 + i.virtual_addresses.len()
            + i.excluded_addresses.len()
            + i.virtual_routes.len()
            + i.virtual_rules.len()
            + i.unicast_peers.len()
            + i.track_scripts.len()
            + i.track_interfaces.len()
            + i.track_files.len()
            + i.track_processes.len()
    };
    let server = |v: &vigil_model::VirtualServer| {
        1 + v.group.as_ref().map_or(0, |g| g.entries.len())
            + v.real_servers
                .iter()
                .map(|r| 1 + r.checkers.len())
                .sum::<usize>()
    };
    c.global.notification_email.len()
        + c.scripts.len()
        + c.sync_groups
            .iter()
            .map(|g| 1 + g.instances.len())
            .sum::<usize>()
        + c.instances.iter().map(instance).sum::<usize>()
        + c.virtual_servers.iter().map(server).sum::<usize>()
        + c.static_addresses.len()
        + c.static_routes.len()
        + c.static_rules.len()
        + c.track_files.len()
        + c.track_processes.len()
}

/// Names the block and keyword of each problem from the line it was found
/// at in the shown text (shown again, one block at a time).
fn locate(config: &Config, problems: &[&Found]) -> Vec<Refusal> {
    let mut out = Vec::with_capacity(problems.len());
    let mut start = 0u32;
    let mut next = problems.iter().peekable();
    show_each(config, &mut |text| {
        let end = start.saturating_add(line_count(text));
        while let Some((span, problem, _)) = next.next_if(|p| p.0.line <= end) {
            let (block, field) = place(text, span.line.saturating_sub(start));
            out.push(Refusal {
                block,
                field,
                problem: format!("{problem}"),
            });
        }
        start = end;
    });
    // Problems past the last block (none are expected) keep their words.
    for (_, problem, _) in next {
        out.push(Refusal {
            block: "configuration".into(),
            field: String::new(),
            problem: format!("{problem}"),
        });
    }
    out
}

/// The top-level block and the path to the keyword at 1-based `line` of
/// one shown block.
fn place(text: &str, line: u32) -> (String, String) {
    let mut stack: Vec<String> = Vec::new();
    let mut field = String::new();
    for (n, raw) in text.lines().enumerate() {
        let l = raw.trim();
        let here = u32::try_from(n + 1).unwrap_or(u32::MAX) == line;
        if let Some(head) = l.strip_suffix('{') {
            let head = unquote(head.trim());
            if here {
                field.clear();
                if stack.is_empty() {
                    return (head, field);
                }
                stack.push(head);
                break;
            }
            stack.push(head);
        } else if l == "}" {
            stack.pop();
        } else if here {
            stack.push(unquote(l.split_whitespace().next().unwrap_or("")));
            break;
        }
    }
    let mut it = stack.into_iter();
    let block = it.next().unwrap_or_else(|| "configuration".into());
    let rest: Vec<String> = it.collect();
    field.push_str(&rest.join(" > "));
    (block, field)
}

fn unquote(s: &str) -> String {
    s.replace('"', "")
}

/// The first line where the text forms of the decoded and the rebuilt
/// models differ, as a refusal naming its block and keyword. Text, not
/// `Debug`: the printer is in the binary anyway, `Debug` of the whole model
/// would add 36 KB to it.
fn difference(decoded: &Config, rebuilt: &Config) -> Refusal {
    let mut blocks: Vec<String> = Vec::new();
    show_each(decoded, &mut |t| blocks.push(t.into()));
    let mut first = None;
    let mut i = 0;
    show_each(rebuilt, &mut |t| {
        let a = blocks.get(i).map_or("", String::as_str);
        if first.is_none() && a != t {
            first = Some(text_diff(a, t));
        }
        i += 1;
    });
    if first.is_none() {
        first = blocks.get(i).map(|a| text_diff(a, ""));
    }
    first.unwrap_or_else(|| Refusal {
        block: "configuration".into(),
        field: String::new(),
        problem: "holds values its text form cannot carry".into(),
    })
}

fn text_diff(a: &str, b: &str) -> Refusal {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let n = la.iter().zip(&lb).take_while(|(x, y)| x == y).count();
    let (x, y) = (la.get(n).map(|l| l.trim()), lb.get(n).map(|l| l.trim()));
    let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
    let (block, field) = place(if x.is_some() { a } else { b }, line);
    // One line dropped or added, rather than every later line changed.
    let dropped = la.get(n + 1).map(|l| l.trim()) == y;
    let added = lb.get(n + 1).map(|l| l.trim()) == x;
    let problem = match (x, y) {
        (Some(x), Some(_)) if dropped => format!("`{x}` is not kept by the text rules"),
        (Some(_), Some(y)) if added => format!("the text rules add `{y}`"),
        (Some(x), Some(y)) => format!("`{x}` where the text rules give `{y}`"),
        (Some(x), None) => format!("`{x}` is not kept by the text rules"),
        (None, Some(y)) => format!("the text rules add `{y}`"),
        (None, None) => "differs from what the text rules give".into(),
    };
    Refusal {
        block,
        field,
        problem,
    }
}
