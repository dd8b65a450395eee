//! The chaos figures as a table: one column per daemon, so the benchmark can
//! print vigil and keepalived side by side on the same schedule.

use super::judge::{Finding, Report, DUAL_LIMIT, SETTLE, STALE_LIMIT};
use super::schedule::KINDS;

fn secs(d: std::time::Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Rows of (measurement, one value per report).
pub fn rows(reports: &[&Report]) -> Vec<(String, Vec<String>)> {
    let col = |f: &dyn Fn(&Report) -> String| reports.iter().map(|r| f(r)).collect();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (k, name) in KINDS.iter().enumerate() {
        out.push((format!("faults: {name}"), col(&|r| r.faults[k].to_string())));
    }
    out.push((
        "faults: total".into(),
        col(&|r| r.faults.iter().sum::<usize>().to_string()),
    ));
    out.push((
        format!("violations: two holders > {}", secs(DUAL_LIMIT)),
        col(&|r| r.dual.len().to_string()),
    ));
    out.push((
        format!("violations: not settled {} after a heal", secs(SETTLE)),
        col(&|r| r.settle.len().to_string()),
    ));
    out.push((
        "violations: daemon exit unasked".into(),
        col(&|r| r.exits.len().to_string()),
    ));
    out.push((
        format!("violations: VIP on a non-master > {}", secs(STALE_LIMIT)),
        col(&|r| r.stale.len().to_string()),
    ));
    out.push(("max dual-holder time".into(), col(&|r| secs(r.max_dual))));
    out.push((
        "max re-convergence (heal -> settled)".into(),
        col(&|r| r.max_reconv().map_or("none measured".into(), secs)),
    ));
    out.push((
        "re-convergences measured / cut short".into(),
        col(&|r| format!("{} / {}", r.reconv.len(), r.unmeasured)),
    ));
    out.push((
        "max VIP-on-non-master time".into(),
        col(&|r| secs(r.max_stale)),
    ));
    out.push((
        "settled windows checked".into(),
        col(&|r| r.windows.to_string()),
    ));
    out.push((
        "samples (max gap)".into(),
        col(&|r| format!("{} ({})", r.samples, secs(r.max_gap))),
    ));
    out
}

/// Prints the table with `heads` as column titles.
pub fn print_table(heads: &[&str], reports: &[&Report]) {
    let rows = rows(reports);
    let mut w = vec!["measurement".len()];
    w.extend(heads.iter().map(|h| h.len()));
    for (name, vals) in &rows {
        w[0] = w[0].max(name.len());
        for (i, v) in vals.iter().enumerate() {
            w[i + 1] = w[i + 1].max(v.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let c: Vec<String> = cells
            .iter()
            .zip(&w)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("| {} |", c.join(" | "));
    };
    let mut head = vec!["measurement"];
    head.extend(heads);
    line(head);
    println!(
        "|{}|",
        w.iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for (name, vals) in &rows {
        let mut cells = vec![name.as_str()];
        cells.extend(vals.iter().map(String::as_str));
        line(cells);
    }
}

/// The findings of one report, at most `max` per invariant.
pub fn findings(r: &Report, max: usize) -> String {
    let mut s = String::new();
    for (what, list) in [
        ("two holders", &r.dual),
        ("not settled", &r.settle),
        ("daemon exit", &r.exits),
        ("VIP on a non-master", &r.stale),
    ] {
        let list: &Vec<Finding> = list;
        for f in list.iter().take(max) {
            s.push_str(&format!(
                "  [{what}] at {:.2} s: {}\n",
                f.t.as_secs_f64(),
                f.what
            ));
        }
        if list.len() > max {
            s.push_str(&format!("  [{what}] ... {} more\n", list.len() - max));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_figure() {
        let mut r = Report::default();
        r.faults[2] = 3;
        r.reconv.push(std::time::Duration::from_millis(3700));
        let rows = rows(&[&r, &Report::default()]);
        let get = |n: &str| {
            rows.iter()
                .find(|(k, _)| k.starts_with(n))
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(get("faults: sighup"), vec!["3", "0"]);
        assert_eq!(get("faults: total"), vec!["3", "0"]);
        assert_eq!(get("max re-convergence"), vec!["3.70 s", "none measured"]);
        assert_eq!(findings(&r, 5), "");
    }
}
