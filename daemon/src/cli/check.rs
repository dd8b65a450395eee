//! `vigil check`: one configuration, or two as the routers of a pair.

use vigil_config::{Diagnostic, Options};

use super::args::CheckArgs;
use super::{config_path, load_reporting, summary, EXIT_CONFIG, EXIT_OK, EXIT_USAGE};

pub(super) fn check(file: Option<&str>, strict: bool, detail: bool) -> u8 {
    let path = config_path(file);
    let opts = Options {
        strict,
        detail,
        ..Options::default()
    };
    match load_reporting(&path, opts) {
        Ok((_, warnings)) if strict && warnings.iter().any(is_warning) => {
            let n = warnings.iter().filter(|d| is_warning(d)).count();
            eprintln!(
                "{path}: configuration refused ({n} warning{} under --strict)",
                plural(n)
            );
            EXIT_CONFIG
        }
        Ok((c, warnings)) => {
            // Never a silent OK: say how many warnings, and how many are
            // keywords this version reads but does not act on.
            let n = warnings.iter().filter(|d| is_warning(d)).count();
            let idle = warnings
                .iter()
                .filter(|d| matches!(d.problem, vigil_config::Problem::NotActedOn(_)))
                .count();
            let tail = match (n, idle) {
                (0, _) => String::new(),
                (n, 0) => format!(", {n} warning{}", plural(n)),
                (n, m) => format!(", {n} warning{} ({m} parsed but not acted on)", plural(n)),
            };
            no_accept_note(&path, &c);
            eprintln!("{path}: configuration OK ({}{tail})", summary(&c));
            EXIT_OK
        }
        Err(code) => code,
    }
}

/// keepalived drops traffic to a no_accept instance's VIPs with nftables;
/// say so when this kernel (or our privileges) will not let vigil do it.
fn no_accept_note(path: &str, c: &vigil_model::Config) {
    let Some(i) = c.instances.iter().find(|i| !i.accept && i.priority != 255) else {
        return;
    };
    let table = crate::os::nftables::Table::of(&c.global.nftables);
    let probe = crate::os::nftables::Nft::open(table).and_then(|mut n| n.probe());
    if let Err(e) = probe {
        eprintln!(
            "{path}: note: ({}) no_accept cannot be enforced on this host: {e}; its VIPs would answer as with accept",
            i.name
        );
    }
}

/// `check` with one file, or with two (`--peer`, or two positionals).
pub(super) fn check_any(a: &CheckArgs) -> u8 {
    let mut files: Vec<&str> = a.use_file.iter().map(String::as_str).collect();
    files.extend(a.files.iter().map(String::as_str));
    files.extend(a.peer.iter().map(String::as_str));
    match files.as_slice() {
        [] | [_] if a.peer.is_none() => check(files.first().copied(), a.strict, a.detail),
        [one, two] => check_pair(one, two, a),
        [_] => check_pair(&config_path(None), a.peer.as_deref().unwrap_or(""), a),
        _ => {
            eprintln!("vigil: check takes one configuration, or two with --peer");
            EXIT_USAGE
        }
    }
}

/// Reads one side of a pair, printing its own diagnostics.
fn read_side(path: &str, id: Option<&str>, a: &CheckArgs) -> Result<vigil_config::pair::Side, u8> {
    let opts = Options {
        strict: a.strict,
        detail: a.detail,
        config_id: Some(id.unwrap_or(crate::loader::config_id())),
        ..Options::default()
    };
    match vigil_config::pair::read(&crate::loader::FsLoader, path, opts) {
        Ok((side, diags)) => {
            for d in &diags {
                eprintln!("{d}");
            }
            if a.strict && diags.iter().any(is_warning) {
                eprintln!("{path}: configuration refused (warnings under --strict)");
                return Err(EXIT_CONFIG);
            }
            Ok(side)
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            let n = diags.iter().filter(|d| d.is_error()).count();
            eprintln!("{path}: configuration refused ({n} error{})", plural(n));
            Err(EXIT_CONFIG)
        }
    }
}

/// `vigil check A --peer B`: each file alone, then the two as a pair.
fn check_pair(first: &str, second: &str, a: &CheckArgs) -> u8 {
    let x = read_side(first, None, a);
    let y = read_side(second, a.peer_id.as_deref(), a);
    let (x, y) = match (x, y) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    let found = vigil_config::pair::check_pair(&x, &y);
    for f in &found {
        eprintln!("{f}");
    }
    let errors = found.iter().filter(|f| f.is_error()).count();
    let warnings = found.len() - errors;
    let verdict = if errors > 0 || (a.strict && warnings > 0) {
        "pair inconsistent"
    } else {
        "pair consistent"
    };
    eprintln!(
        "{first} + {second}: {verdict} ({errors} error{}, {warnings} warning{})",
        plural(errors),
        plural(warnings)
    );
    if verdict == "pair consistent" {
        EXIT_OK
    } else {
        EXIT_CONFIG
    }
}

fn is_warning(d: &Diagnostic) -> bool {
    d.severity == vigil_config::Severity::Warning
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
