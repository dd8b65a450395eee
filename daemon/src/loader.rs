//! The filesystem [`Loader`] the daemon gives to `vigil-config`.
//!
//! Every configuration file is opened with `O_NONBLOCK` (opening a fifo
//! would otherwise wait for a writer) and examined with `fstat` before a
//! byte is read: only regular files are read, and never more than the cap,
//! so `include /dev/zero` or a fifo in place of the file is one error line.

use std::fs::{File, FileType};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use nix::fcntl::OFlag;
use vigil_config::{load_any, Diagnostic, Limits, LoadAnyError, LoadError, Loader, Options};
use vigil_model::Config;

/// Most directory entries listed for an `include` glob; beyond it the
/// listing fails (and the glob matches nothing, with a warning).
const MAX_DIR_ENTRIES: usize = 1 << 16;

/// Reads configuration files with `std::fs`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

fn map(e: std::io::Error) -> LoadError {
    match e.kind() {
        ErrorKind::NotFound => LoadError::NotFound,
        ErrorKind::PermissionDenied => LoadError::PermissionDenied,
        ErrorKind::InvalidData => LoadError::NotUtf8,
        ErrorKind::NotADirectory => LoadError::NotADirectory,
        _ => LoadError::Io(e.to_string()),
    }
}

fn kind(t: FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a fifo"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    }
}

/// The bytes of the regular file at `path`, at most `limit` of them.
pub fn read_bounded(path: &str, limit: usize) -> Result<Vec<u8>, LoadError> {
    let file = File::options()
        .read(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)
        .map_err(map)?;
    let meta = file.metadata().map_err(map)?;
    if !meta.file_type().is_file() {
        return Err(LoadError::NotRegular(kind(meta.file_type())));
    }
    let cap = u64::try_from(limit).unwrap_or(u64::MAX);
    if meta.len() > cap {
        return Err(LoadError::TooLarge(limit));
    }
    // The size may change after fstat (and /proc files report 0): read one
    // byte past the cap to tell "exactly at the cap" from "over it".
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(map)?;
    if bytes.len() > limit {
        return Err(LoadError::TooLarge(limit));
    }
    Ok(bytes)
}

impl Loader for FsLoader {
    fn read(&self, path: &str, limit: usize) -> Result<String, LoadError> {
        String::from_utf8(read_bounded(path, limit)?).map_err(|_| LoadError::NotUtf8)
    }

    fn list_dir(&self, dir: &str) -> Result<Vec<String>, LoadError> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(map)? {
            if names.len() >= MAX_DIR_ENTRIES {
                return Err(LoadError::TooLarge(MAX_DIR_ENTRIES));
            }
            let entry = entry.map_err(map)?;
            // Names that are not UTF-8 cannot be named by a UTF-8 pattern.
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }
}

/// Why a configuration file could not be loaded.
pub enum LoadFailure {
    Io(String),
    Config(LoadAnyError),
}

/// The config id of this process (`-i`), set once from the command line.
static CONFIG_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the config id `@ID` lines are compared with: the one given, else
/// keepalived's default, the host name up to its first dot.
pub fn set_config_id(given: Option<String>) {
    let id = given.unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        host.trim().split('.').next().unwrap_or("").to_string()
    });
    let _ = CONFIG_ID.set(id);
}

/// The config id in use (the host name's first label if none was set).
pub fn config_id() -> &'static str {
    if CONFIG_ID.get().is_none() {
        set_config_id(None);
    }
    CONFIG_ID.get().map(String::as_str).unwrap_or("")
}

/// Reads and validates a configuration file, text or binary (sniffed).
/// Without a config id in `opts`, the process's ([`config_id`]) applies.
pub fn load(path: &str, opts: Options) -> Result<(Config, Vec<Diagnostic>), LoadFailure> {
    let bytes = read_bounded(path, Limits::DEFAULT.file_bytes)
        .map_err(|e| LoadFailure::Io(format!("{path}: {e}")))?;
    // `${_RANDOM}` is seeded by the time, as keepalived seeds random(3).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let opts = Options {
        config_id: opts.config_id.or(Some(config_id())),
        random_seed: opts.random_seed.or(Some(seed)),
        ..opts
    };
    load_any(&bytes, path, &FsLoader, opts).map_err(LoadFailure::Config)
}

/// [`load`] for the running daemon (reload): every diagnostic goes to the log.
pub fn load_logged(path: &str) -> Option<Config> {
    match load(path, Options::default()) {
        Ok((c, warnings)) => {
            for w in &warnings {
                log::warn!("{w}");
            }
            Some(c)
        }
        Err(LoadFailure::Io(e)) => {
            log::error!("cannot read {e}");
            None
        }
        Err(LoadFailure::Config(LoadAnyError::Binary(e))) => {
            log::error!("{path}: {e}");
            None
        }
        Err(LoadFailure::Config(LoadAnyError::Text(diags))) => {
            for d in &diags {
                log::error!("{d}");
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_lists_a_real_directory() {
        let dir = std::env::temp_dir().join(format!("vigil-loader-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.conf"), "x").unwrap();
        let d = dir.to_str().unwrap();
        let mut names = FsLoader.list_dir(d).unwrap();
        names.sort();
        assert_eq!(names, ["a.conf", "sub"]);
        assert_eq!(FsLoader.read(&format!("{d}/a.conf"), 1).unwrap(), "x");
        assert_eq!(
            FsLoader.read(&format!("{d}/a.conf"), 0),
            Err(LoadError::TooLarge(0))
        );
        assert_eq!(
            FsLoader.read(&format!("{d}/none"), 9),
            Err(LoadError::NotFound)
        );
        assert_eq!(
            FsLoader.list_dir(&format!("{d}/a.conf")),
            Err(LoadError::NotADirectory)
        );
        std::fs::write(dir.join("bin"), [0xffu8, 0xfe]).unwrap();
        assert_eq!(
            FsLoader.read(&format!("{d}/bin"), 9),
            Err(LoadError::NotUtf8)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn special_files_are_refused_before_reading() {
        let dir = std::env::temp_dir().join(format!("vigil-special-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // Without O_NONBLOCK this open would wait for a writer forever.
        let started = std::time::Instant::now();
        assert_eq!(
            FsLoader.read(fifo.to_str().unwrap(), 1 << 20),
            Err(LoadError::NotRegular("a fifo"))
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(
            FsLoader.read("/dev/zero", 1 << 20),
            Err(LoadError::NotRegular("a character device"))
        );
        assert_eq!(
            FsLoader.read(dir.to_str().unwrap(), 1 << 20),
            Err(LoadError::NotRegular("a directory"))
        );
        // The main file goes through the same reader.
        match load(fifo.to_str().unwrap(), Options::default()) {
            Err(LoadFailure::Io(e)) => assert!(e.ends_with("not a regular file (a fifo)"), "{e}"),
            _ => panic!("a fifo was loaded"),
        }
        std::fs::write(dir.join("big"), vec![b'#'; 100]).unwrap();
        assert_eq!(
            read_bounded(dir.join("big").to_str().unwrap(), 99),
            Err(LoadError::TooLarge(99))
        );
        assert_eq!(
            read_bounded(dir.join("big").to_str().unwrap(), 100)
                .unwrap()
                .len(),
            100
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
