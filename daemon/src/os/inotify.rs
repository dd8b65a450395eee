//! Tracked files watched as keepalived 2.2.7 watches them
//! (trackers/track_file.c): an inotify watch on each file's directory for
//! IN_CLOSE_WRITE, IN_DELETE and IN_MOVE, matched by name, so a file
//! written in place or replaced by a rename is seen at once, and one that
//! is deleted or renamed away reads as 0. The path is resolved first
//! (realpath of the file, else of its directory), as keepalived does.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// What happened to a watched file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Written and closed, or renamed into place: read it again.
    Written,
    /// Deleted or renamed away: its value is 0.
    Gone,
}

/// One inotify instance watching the directories of a list of files.
pub struct FileWatch {
    ino: Inotify,
    /// Per watched file (by its index in the list given to `new`): the
    /// directory's watch and the file's name in it.
    files: Vec<Option<(WatchDescriptor, OsString)>>,
}

impl FileWatch {
    /// Watches the directory of each path. A path whose directory cannot
    /// be watched is left out (`watched` says which are in).
    pub fn new<P: AsRef<Path>>(paths: &[P]) -> io::Result<FileWatch> {
        let ino = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
        let flags =
            AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVE;
        let files = paths
            .iter()
            .map(|p| {
                let (dir, name) = split(p.as_ref())?;
                // The same directory twice gives the same descriptor.
                let wd = ino.add_watch(&dir, flags).ok()?;
                Some((wd, name))
            })
            .collect();
        Ok(FileWatch { ino, files })
    }

    /// True if file `i` is watched.
    pub fn watched(&self, i: usize) -> bool {
        self.files.get(i).is_some_and(Option::is_some)
    }

    /// The changes queued now (file index, change), without waiting; an
    /// overflowed queue reports every file as written (read them all).
    pub fn read(&self) -> io::Result<Vec<(usize, Change)>> {
        let mut out = Vec::new();
        loop {
            let events = match self.ino.read_events() {
                Ok(e) => e,
                Err(Errno::EAGAIN) => return Ok(out),
                Err(e) => return Err(e.into()),
            };
            for ev in events {
                if ev.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                    out.extend((0..self.files.len()).map(|i| (i, Change::Written)));
                    continue;
                }
                if ev.mask.contains(AddWatchFlags::IN_ISDIR) {
                    continue;
                }
                let change = if ev
                    .mask
                    .intersects(AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM)
                {
                    Change::Gone
                } else {
                    Change::Written
                };
                for (i, f) in self.files.iter().enumerate() {
                    if let Some((wd, name)) = f {
                        if *wd == ev.wd && ev.name.as_ref() == Some(name) {
                            out.push((i, change));
                        }
                    }
                }
            }
        }
    }
}

impl AsFd for FileWatch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.ino.as_fd()
    }
}

/// The directory to watch and the name in it: the file's real path if it
/// exists, else its directory's real path and the name as given.
fn split(path: &Path) -> Option<(PathBuf, OsString)> {
    let real = std::fs::canonicalize(path).ok().or_else(|| {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(path.file_name()?))
    })?;
    Some((
        real.parent()?.to_path_buf(),
        real.file_name()?.to_os_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_renames_and_deletes_are_seen() {
        let dir = std::env::temp_dir().join(format!("vigil-inotify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a");
        let b = dir.join("b");
        let w = FileWatch::new(&[&a, &b, &dir.join("no/such/dir/c")]).unwrap();
        assert!(w.watched(0) && w.watched(1) && !w.watched(2));
        assert_eq!(w.read().unwrap(), []);
        std::fs::write(&a, "1\n").unwrap();
        assert_eq!(w.read().unwrap(), [(0, Change::Written)]);
        // Replaced by a rename: the new file is seen, the temporary not.
        let tmp = dir.join("b.tmp");
        std::fs::write(&tmp, "2\n").unwrap();
        std::fs::rename(&tmp, &b).unwrap();
        assert_eq!(w.read().unwrap(), [(1, Change::Written)]);
        std::fs::rename(&b, &tmp).unwrap();
        assert_eq!(w.read().unwrap(), [(1, Change::Gone)]);
        std::fs::remove_file(&a).unwrap();
        assert_eq!(w.read().unwrap(), [(0, Change::Gone)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
