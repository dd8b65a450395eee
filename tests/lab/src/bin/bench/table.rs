//! The printed table (vigil | keepalived | goal) and its verdicts.

use super::*;

pub(crate) fn fmt_secs(s: Option<Summary>) -> (String, String) {
    match s {
        Some(s) => (
            format!("{:.4} s", s.median),
            format!("{:.4} s (n={})", s.max, s.runs),
        ),
        None => ("failed".into(), "failed".into()),
    }
}

pub(crate) fn kib(k: u64) -> String {
    format!("{:.2} MiB", k as f64 / 1024.0)
}

pub(crate) struct Table {
    pub(crate) rows: Vec<[String; 4]>,
    /// Whether the current section ran (`--only`): rows of skipped ones are left out.
    pub(crate) on: bool,
}

impl Table {
    pub(crate) fn row(&mut self, what: &str, v: String, k: String, goal: &str) {
        if self.on {
            self.rows.push([what.into(), v, k, goal.into()]);
        }
    }

    pub(crate) fn print(&self) {
        let head = ["measurement", "vigil", "keepalived", "goal"];
        let mut w = head.map(|h| h.chars().count());
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |r: &[String; 4]| {
            let cells: Vec<String> = r
                .iter()
                .zip(w)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            println!("| {} |", cells.join(" | "));
        };
        line(&head.map(String::from));
        println!(
            "|{}|",
            w.iter()
                .map(|w| "-".repeat(w + 2))
                .collect::<Vec<_>>()
                .join("|")
        );
        for r in &self.rows {
            line(r);
        }
    }
}

pub(crate) fn within(s: Option<Summary>, expect: f64) -> String {
    match s {
        Some(s)
            if (s.median - expect).abs() <= TOLERANCE && (s.max - expect).abs() <= TOLERANCE =>
        {
            "met".into()
        }
        Some(s) => format!(
            "missed (median {:+.1} ms, max {:+.1} ms)",
            (s.median - expect) * 1e3,
            (s.max - expect) * 1e3
        ),
        None => "no data".into(),
    }
}
