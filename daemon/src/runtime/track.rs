//! The shell's side of track_file and track_process: what to watch (from
//! the configuration), `init_file`, and the tasks that feed the router.
//! Files are watched with inotify on their directories, as keepalived
//! watches them ([`crate::os::inotify`]): a write or a rename into place
//! is read at once, a delete reads as 0. A file whose directory cannot be
//! watched (it does not exist, or no inotify) is read every `FILE_EVERY`.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use nix::libc;
use vigil_model as model;

use vigil_vrrp::{ProcessCause, Router};

use super::event::Event;
use super::Spawner;
use crate::os::inotify::{Change, FileWatch};

/// How often a tracked file that cannot be watched is read.
pub const FILE_EVERY: Duration = Duration::from_millis(500);

/// A tracked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedFile {
    pub name: String,
    pub path: String,
    pub init: Option<model::InitFile>,
}

/// Everything the configuration's instances and groups track.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watch {
    pub files: Vec<WatchedFile>,
    pub processes: Vec<model::TrackProcess>,
}

impl Watch {
    pub fn new(c: &model::Config) -> Watch {
        let refs = c
            .instances
            .iter()
            .map(|i| (&i.track_files, &i.track_processes))
            .chain(
                c.sync_groups
                    .iter()
                    .map(|g| (&g.track_files, &g.track_processes)),
            );
        let (mut files, mut procs): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for (f, p) in refs {
            files.extend(f.iter().map(|t| t.name.as_str()));
            procs.extend(p.iter().map(|t| t.name.as_str()));
        }
        Watch {
            files: c
                .track_files
                .iter()
                .filter(|f| files.contains(&f.name.as_str()))
                .map(|f| WatchedFile {
                    name: f.name.clone(),
                    path: f.path.clone(),
                    init: f.init_file,
                })
                .collect(),
            processes: c
                .track_processes
                .iter()
                .filter(|p| procs.contains(&p.name.as_str()))
                .cloned()
                .collect(),
        }
    }
}

/// `init_file`: write VALUE if the file is missing (always, with
/// `overwrite`), as keepalived does at start.
pub fn init_file(f: &WatchedFile) {
    let Some(init) = f.init else { return };
    if !init.overwrite && std::fs::symlink_metadata(&f.path).is_ok() {
        return;
    }
    if let Err(e) = std::fs::write(&f.path, format!("{}\n", init.value)) {
        log::warn!("track_file {}: init_file {}: {e}", f.name, f.path);
    }
}

/// The number in a file as keepalived reads it: a missing or unreadable
/// file is 0; `None` when the number is out of range (ignored).
pub fn read_value(path: &str) -> Option<i64> {
    let mut buf = [0u8; 127];
    let n = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .and_then(|mut f| f.read(&mut buf))
        .unwrap_or(0);
    vigil_check::file::value(&buf[..n])
}

/// What woke the file watcher.
enum Wake {
    Inotify,
    Tick,
}

async fn watch_files(
    files: Vec<WatchedFile>,
    mut last: Vec<Option<i64>>,
    tx: smol::channel::Sender<Event>,
) {
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let watch = match FileWatch::new(&paths).and_then(smol::Async::new) {
        Ok(w) => Some(w),
        Err(e) => {
            log::warn!("track_file: no inotify ({e}); files are read every {FILE_EVERY:?}");
            None
        }
    };
    let polled: Vec<usize> = (0..files.len())
        .filter(|i| !watch.as_ref().is_some_and(|w| w.get_ref().watched(*i)))
        .collect();
    for i in &polled {
        if let (Some(f), Some(_)) = (files.get(*i), &watch) {
            log::warn!(
                "track_file {}: the directory of {} cannot be watched; read every {FILE_EVERY:?}",
                f.name,
                f.path
            );
        }
    }
    loop {
        let inotify = async {
            match &watch {
                Some(w) => {
                    let _ = w.readable().await;
                    Wake::Inotify
                }
                None => smol::future::pending().await,
            }
        };
        let tick = async {
            if polled.is_empty() {
                smol::future::pending::<()>().await;
            }
            smol::Timer::after(FILE_EVERY).await;
            Wake::Tick
        };
        // (file, Some(value) to compare, None: read it).
        let changed: Vec<(usize, Option<i64>)> = match smol::future::or(inotify, tick).await {
            Wake::Inotify => match watch.as_ref().map(|w| w.get_ref().read()) {
                Some(Ok(c)) => c
                    .into_iter()
                    .map(|(i, c)| (i, (c == Change::Gone).then_some(0)))
                    .collect(),
                Some(Err(e)) => {
                    log::warn!("track_file: inotify: {e}");
                    smol::Timer::after(FILE_EVERY).await;
                    Vec::new()
                }
                None => Vec::new(),
            },
            Wake::Tick => polled.iter().map(|i| (*i, None)).collect(),
        };
        for (i, known) in changed {
            let (Some(f), Some(last)) = (files.get(i), last.get_mut(i)) else {
                continue;
            };
            let Some(v) = known.or_else(|| read_value(&f.path)) else {
                log::info!(
                    "track_file {}: invalid number in {}, ignored",
                    f.name,
                    f.path
                );
                continue;
            };
            if *last != Some(v) {
                *last = Some(v);
                let ev = Event::File {
                    name: f.name.clone(),
                    value: v,
                };
                if tx.send(ev).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The running watchers; dropping them stops them (a reload starts new ones).
#[derive(Default)]
pub struct Trackers {
    _tasks: Vec<smol::Task<()>>,
}

impl Trackers {
    /// Writes the `init_file`s, tells the router what the files hold and
    /// how many processes match now (before its start, as keepalived reads
    /// them at start), then starts the watchers.
    pub fn start(
        w: &Watch,
        spawner: Spawner,
        tx: &smol::channel::Sender<Event>,
        router: &mut Router,
        now: vigil_vrrp::Instant,
    ) -> Trackers {
        let mut tasks = Vec::new();
        if !w.files.is_empty() {
            let mut last = Vec::with_capacity(w.files.len());
            for f in &w.files {
                init_file(f);
                let v = read_value(&f.path);
                if let Some(v) = v {
                    router.handle_file_value(now, &f.name, v);
                }
                last.push(v);
            }
            tasks.push(spawner.spawn(watch_files(w.files.clone(), last, tx.clone())));
        }
        if !w.processes.is_empty() {
            let watcher = super::process::Watcher::open(w.processes.clone());
            for (name, count) in watcher.counts() {
                router.handle_process_count(now, &name, count, ProcessCause::Scan);
            }
            tasks.push(spawner.spawn(watcher.run(tx.clone())));
        }
        Trackers { _tasks: tasks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_file_creates_or_overwrites() {
        let dir = std::env::temp_dir().join(format!("vigil-track-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f").display().to_string();
        let mut f = WatchedFile {
            name: "f".into(),
            path: path.clone(),
            init: Some(model::InitFile {
                value: 7,
                overwrite: false,
            }),
        };
        init_file(&f);
        assert_eq!(read_value(&path), Some(7));
        std::fs::write(&path, "3").unwrap();
        init_file(&f);
        assert_eq!(read_value(&path), Some(3), "kept without overwrite");
        f.init = Some(model::InitFile {
            value: -2,
            overwrite: true,
        });
        init_file(&f);
        assert_eq!(read_value(&path), Some(-2));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(read_value(&path), Some(0), "missing is 0");
    }
}

#[cfg(test)]
mod watch_tests {
    use super::*;

    /// The watcher task reports a write at once (not at the next poll).
    #[test]
    fn a_write_is_reported_at_once() {
        let dir = std::env::temp_dir().join(format!("vigil-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, "0\n").unwrap();
        let f = WatchedFile {
            name: "f".into(),
            path: path.display().to_string(),
            init: None,
        };
        let (tx, rx) = smol::channel::bounded(8);
        let ex = smol::LocalExecutor::new();
        smol::block_on(ex.run(async {
            let _task = ex.spawn(watch_files(vec![f], vec![Some(0)], tx));
            smol::Timer::after(Duration::from_millis(50)).await;
            for (text, want) in [("3\n", 3), ("0\n", 0)] {
                let t0 = std::time::Instant::now();
                std::fs::write(&path, text).unwrap();
                let ev = rx.recv().await.unwrap();
                let took = t0.elapsed();
                assert!(matches!(ev, Event::File { value, .. } if value == want));
                assert!(took < Duration::from_millis(50), "{took:?}");
            }
            // Renamed away: 0 at once; renamed back in: read.
            let other = dir.join("g");
            std::fs::write(&path, "5\n").unwrap();
            assert!(matches!(
                rx.recv().await.unwrap(),
                Event::File { value: 5, .. }
            ));
            std::fs::rename(&path, &other).unwrap();
            assert!(matches!(
                rx.recv().await.unwrap(),
                Event::File { value: 0, .. }
            ));
            std::fs::rename(&other, &path).unwrap();
            assert!(matches!(
                rx.recv().await.unwrap(),
                Event::File { value: 5, .. }
            ));
        }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
