//! Every file of keepalived's samples and of the real-world corpus through
//! the reader, against keepalived 2.2.7's recorded verdict
//! (`tests/data/keepalived-verdicts.tsv`, written by
//! `tests/compat/record-verdicts`, which runs `keepalived -t -i vigil`).
//!
//! The rule (README, "Configuration reference"): what keepalived runs, vigil
//! runs; every unknown-keyword warning of vigil is one keepalived gives on
//! the same line; every deviation is listed in [`DEVIATIONS`] with its
//! reason, and the test fails if the list is wrong either way.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use vigil_config::{parse_file, Diagnostic, Options, Problem, Severity};

/// Files vigil reads differently from keepalived 2.2.7, on purpose.
const DEVIATIONS: &[(&str, &str)] = &[
    (
        "keepalived-samples/keepalived.conf.HTTP_GET.port",
        "SSL_GET: no TLS client in this build",
    ),
    (
        "keepalived-samples/keepalived.conf.SSL_GET",
        "SSL_GET: no TLS client in this build; auth_type AH not implemented",
    ),
    (
        "keepalived-samples/keepalived.conf.status_code",
        "SSL_GET: no TLS client in this build",
    ),
    (
        "keepalived-samples/keepalived.conf.virtualhost",
        "SSL_GET: no TLS client in this build",
    ),
    (
        "keepalived-wild/034-shidg-note.conf",
        "SSL_GET: no TLS client in this build (keepalived, misled by the typo \
         SMTP_CHEKC, skips the SSL_GET block as an unknown keyword)",
    ),
];

/// The config id the verdicts were recorded with (`keepalived -i vigil`).
const CONFIG_ID: &str = "vigil";

struct Verdict {
    runs: bool,
    /// keepalived's messages by line number (those that have one).
    messages: BTreeMap<u32, Vec<String>>,
}

fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .canonicalize()
        .unwrap()
}

fn verdicts() -> BTreeMap<String, Verdict> {
    let text = std::fs::read_to_string(data_dir().join("keepalived-verdicts.tsv")).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 3, "bad verdict line: {line}");
        let mut messages: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for m in cols.get(3).unwrap_or(&"").split(" | ") {
            if let Some((n, msg)) = m.split_once(": ") {
                if let Ok(n) = n.trim().parse::<u32>() {
                    messages.entry(n).or_default().push(msg.to_string());
                }
            }
        }
        let runs = match cols[2] {
            "runs" => true,
            "refused" => false,
            v => panic!("bad verdict {v}"),
        };
        out.insert(cols[0].to_string(), Verdict { runs, messages });
    }
    out
}

/// Why vigil's reading of `file` differs from keepalived's, if it does.
fn difference(
    file: &str,
    k: &Verdict,
    result: &Result<Vec<Diagnostic>, Vec<Diagnostic>>,
) -> Option<String> {
    let (diags, runs) = match result {
        Ok(d) => (d, true),
        Err(d) => (d, false),
    };
    if runs != k.runs {
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| d.is_error())
            .take(3)
            .map(|d| format!("{}:{}: {}", d.line, d.col, d.problem))
            .collect();
        return Some(format!(
            "{file}: keepalived {}, vigil {} ({})",
            if k.runs { "runs it" } else { "refuses it" },
            if runs { "runs it" } else { "refuses it" },
            errors.join("; ")
        ));
    }
    // An unknown keyword to vigil must be one to keepalived too.
    for d in diags.iter().filter(|d| d.file.ends_with(file)) {
        if let Problem::UnknownKeyword(kw, _) = &d.problem {
            let known = k.messages.get(&d.line).is_some_and(|ms| {
                ms.iter()
                    .any(|m| m.starts_with("Unknown keyword") || m.contains("nknown"))
            });
            if !known {
                return Some(format!(
                    "{file}:{}: vigil does not know '{kw}', keepalived does",
                    d.line
                ));
            }
        }
    }
    None
}

#[test]
fn both_corpora_read_as_keepalived_2_2_7_reads_them() {
    let dir = data_dir();
    let loader = common::load_tree(&dir);
    let verdicts = verdicts();
    assert_eq!(
        verdicts.len(),
        84,
        "both corpora: 25 samples and 59 wild files"
    );
    let opts = Options {
        config_id: Some(CONFIG_ID),
        ..Options::default()
    };
    let mut differ = Vec::new();
    let mut warned = 0;
    for (file, k) in &verdicts {
        let path = dir.join(file);
        let result = parse_file(&loader, path.to_str().unwrap(), opts).map(|(_, w)| w);
        if let Ok(w) = &result {
            warned += usize::from(w.iter().any(|d| d.severity == Severity::Warning));
        }
        if let Some(why) = difference(file, k, &result) {
            differ.push((file.clone(), why));
        }
    }
    let same = verdicts.len() - differ.len();
    println!(
        "{same} of {} read as keepalived 2.2.7 reads them ({warned} with warnings)",
        verdicts.len()
    );
    for (_, why) in &differ {
        println!("  differs: {why}");
    }
    let listed: Vec<&str> = DEVIATIONS.iter().map(|(f, _)| *f).collect();
    let found: Vec<&str> = differ.iter().map(|(f, _)| f.as_str()).collect();
    let unexpected: Vec<&(String, String)> = differ
        .iter()
        .filter(|(f, _)| !listed.contains(&f.as_str()))
        .collect();
    let fixed: Vec<&&str> = listed.iter().filter(|f| !found.contains(f)).collect();
    assert!(
        unexpected.is_empty(),
        "unlisted differences: {unexpected:#?}"
    );
    assert!(
        fixed.is_empty(),
        "listed deviations that no longer differ: {fixed:?}"
    );
}
