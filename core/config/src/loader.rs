//! How configuration files are reached: a caller-supplied [`Loader`].
//!
//! The library never touches the filesystem; the daemon supplies a loader on
//! top of `std::fs`, tests an in-memory one ([`MemoryLoader`]).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a file or directory could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// No such file or directory.
    NotFound,
    /// Permission denied.
    PermissionDenied,
    /// The file is not UTF-8 text.
    NotUtf8,
    /// Not a directory (when listing).
    NotADirectory,
    /// Not a regular file (a fifo, a device, a directory...): never read,
    /// since it may never end or never start.
    NotRegular(&'static str),
    /// Larger than the cap passed to [`Loader::read`], in bytes.
    TooLarge(usize),
    /// Any other I/O failure, described.
    Io(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound => write!(f, "no such file or directory"),
            LoadError::PermissionDenied => write!(f, "permission denied"),
            LoadError::NotUtf8 => write!(f, "not UTF-8 text"),
            LoadError::NotADirectory => write!(f, "not a directory"),
            LoadError::NotRegular(kind) => write!(f, "not a regular file ({kind})"),
            LoadError::TooLarge(n) => write!(f, "larger than the {n}-byte limit"),
            LoadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Access to configuration files. Paths are `/`-separated strings.
pub trait Loader {
    /// The whole content of the regular file at `path`, if it has at most
    /// `limit` bytes: anything else is refused before it is read
    /// ([`LoadError::NotRegular`], [`LoadError::TooLarge`]), so that a fifo
    /// or a device can neither hang nor flood the reader.
    fn read(&self, path: &str, limit: usize) -> Result<String, LoadError>;
    /// The names (not paths) of the entries of directory `dir`, in any
    /// order, without `.` and `..`.
    fn list_dir(&self, dir: &str) -> Result<Vec<String>, LoadError>;
}

/// A loader over files held in memory, keyed by path. Directories are implied
/// by the paths.
#[derive(Debug, Clone, Default)]
pub struct MemoryLoader {
    files: BTreeMap<String, String>,
}

impl MemoryLoader {
    /// An empty file set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: &str, text: &str) -> &mut Self {
        self.files.insert(path.into(), text.into());
        self
    }
}

impl Loader for MemoryLoader {
    fn read(&self, path: &str, limit: usize) -> Result<String, LoadError> {
        let text = self.files.get(path).ok_or(LoadError::NotFound)?;
        if text.len() > limit {
            return Err(LoadError::TooLarge(limit));
        }
        Ok(text.clone())
    }

    fn list_dir(&self, dir: &str) -> Result<Vec<String>, LoadError> {
        let mut prefix = String::from(dir);
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        let mut names: Vec<String> = Vec::new();
        for path in self.files.keys() {
            if let Some(rest) = path.strip_prefix(prefix.as_str()) {
                let name = rest.split('/').next().unwrap_or(rest);
                if !name.is_empty() && names.last().map(String::as_str) != Some(name) {
                    names.push(name.into());
                }
            }
        }
        if names.is_empty() {
            return Err(LoadError::NotFound);
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_loader_lists_files_and_implied_directories() {
        let mut l = MemoryLoader::new();
        l.insert("/a/x.conf", "1")
            .insert("/a/d/y.conf", "2")
            .insert("/b", "3");
        assert_eq!(l.list_dir("/a").unwrap(), ["d", "x.conf"]);
        assert_eq!(l.list_dir("/a/").unwrap(), ["d", "x.conf"]);
        assert_eq!(l.list_dir("/c"), Err(LoadError::NotFound));
        assert_eq!(l.read("/b", 1).unwrap(), "3");
        assert_eq!(l.read("/b", 0), Err(LoadError::TooLarge(0)));
        assert_eq!(l.read("/a", 9), Err(LoadError::NotFound));
    }
}
