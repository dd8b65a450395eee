//! `show` for the trackers: `track_file` and `vrrp_track_process` blocks
//! (printed before anything refers to them, as keepalived reads in order)
//! and the `track_*` lists of sync groups and instances.

use alloc::format;

use vigil_model::{Config, ParamMatch, SyncGroup, TrackRef};

use super::{quote, quote_always, track, Writer};

/// Every `track_file` and `vrrp_track_process` block.
pub(super) fn blocks(w: &mut Writer, config: &Config) {
    for f in &config.track_files {
        w.open(&["track_file", &quote(&f.name)]);
        w.value("file", &quote_always(&f.path));
        weight(w, f.weight, f.reverse);
        if let Some(i) = &f.init_file {
            let v = format!("{}", i.value);
            if i.overwrite {
                w.line(&["init_file", &v, "overwrite"]);
            } else {
                w.line(&["init_file", &v]);
            }
        }
        w.close();
    }
    for p in &config.track_processes {
        w.open(&["vrrp_track_process", &quote(&p.name)]);
        let mut words = alloc::vec![quote_always(&p.process)];
        words.extend(p.params.iter().map(|s| quote_always(s)));
        let mut line: alloc::vec::Vec<&str> = alloc::vec!["process"];
        line.extend(words.iter().map(|s| s.as_str()));
        w.line(&line);
        match p.param_match {
            ParamMatch::None | ParamMatch::Exact => {}
            ParamMatch::Partial => w.value("param_match", "partial"),
            ParamMatch::Initial => w.value("param_match", "initial"),
        }
        if p.param_match == ParamMatch::Exact && p.params.is_empty() {
            w.line(&["param_match"]);
        }
        w.flag("full_command", p.full_command);
        weight(w, i32::from(p.weight), p.reverse);
        // quorum_max first: it may reset quorum when read.
        if p.quorum_max != u32::MAX {
            w.num("quorum_max", p.quorum_max);
        }
        if p.quorum_max != 0 {
            w.num("quorum", p.quorum);
        }
        // keepalived refuses a zero delay (its range starts at 1 us).
        if !p.fork_delay.is_zero() {
            w.duration("fork_delay", p.fork_delay);
        }
        if !p.terminate_delay.is_zero() {
            w.duration("terminate_delay", p.terminate_delay);
        }
        w.close();
    }
}

fn weight(w: &mut Writer, n: i32, reverse: bool) {
    let n = format!("{n}");
    if reverse {
        w.line(&["weight", &n, "reverse"]);
    } else {
        w.line(&["weight", &n]);
    }
}

/// An instance's or group's `track_file` / `track_process` lists.
pub(super) fn refs(w: &mut Writer, files: &[TrackRef], processes: &[TrackRef]) {
    for (kw, list) in [("track_file", files), ("track_process", processes)] {
        if list.is_empty() {
            continue;
        }
        w.open(&[kw]);
        for t in list {
            track(w, &t.name, t.weight, t.reverse);
        }
        w.close();
    }
}

/// A sync group's trackers and `sync_group_tracking_weight`.
pub(super) fn group(w: &mut Writer, g: &SyncGroup) {
    if !g.track_interfaces.is_empty() {
        w.open(&["track_interface"]);
        for t in &g.track_interfaces {
            track(w, &t.name, t.weight, t.reverse);
        }
        w.close();
    }
    if !g.track_scripts.is_empty() {
        w.open(&["track_script"]);
        for t in &g.track_scripts {
            track(w, &t.name, t.weight, t.reverse);
        }
        w.close();
    }
    refs(w, &g.track_files, &g.track_processes);
    w.flag("sync_group_tracking_weight", g.tracking_weight);
}
