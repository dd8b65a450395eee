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

use crate::os::child_load::{self, Refusal, Reply};

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
    let opts = Options {
        config_id: opts.config_id.or(Some(config_id())),
        random_seed: opts.random_seed.or_else(|| Some(time_seed())),
        ..opts
    };
    load_any(&bytes, path, &FsLoader, opts).map_err(LoadFailure::Config)
}

/// Whether the daemon parses text in a child process ([`child_load`]); set
/// by the `vigil` binary's entry point. Tests of the library, whose
/// `/proc/self/exe` is a test harness, parse in-process.
static ISOLATE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes the daemon's loads ([`load_isolated`]) use a child process.
pub fn isolate_parsing(on: bool) {
    ISOLATE.store(on, std::sync::atomic::Ordering::Relaxed);
}

fn time_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// In-process [`load`], in the shape of the child's reply.
fn load_here(path: &str, seed: u64) -> Result<(Config, Vec<String>), Refusal> {
    let opts = Options {
        random_seed: Some(seed),
        ..Options::default()
    };
    match load(path, opts) {
        Ok((c, w)) => Ok((c, w.iter().map(ToString::to_string).collect())),
        Err(LoadFailure::Io(e)) => Err(Refusal::Io(e)),
        Err(LoadFailure::Config(LoadAnyError::Binary(e))) => Err(Refusal::Binary(e.to_string())),
        Err(LoadFailure::Config(LoadAnyError::Text(diags))) => Err(Refusal::Text {
            errors: diags.iter().filter(|d| d.is_error()).count(),
            lines: diags.iter().map(ToString::to_string).collect(),
        }),
    }
}

/// The daemon's load (start-up and reload): a binary file is decoded here
/// (its peak is about its result); text is parsed by a child process, so
/// the parse's peak never lands in the daemon's heap. A child that cannot
/// be started (ENOMEM, EAGAIN, no /proc) means parsing here, with a warning.
/// `Ok` carries the warnings, one line each.
pub fn load_isolated(path: &str) -> Result<(Config, Vec<String>), Refusal> {
    let seed = time_seed();
    if !ISOLATE.load(std::sync::atomic::Ordering::Relaxed) {
        return load_here(path, seed);
    }
    let bytes = read_bounded(path, Limits::DEFAULT.file_bytes)
        .map_err(|e| Refusal::Io(format!("{path}: {e}")))?;
    if vigil_config::binary::is_binary(&bytes) {
        return match vigil_config::from_binary(&bytes) {
            Ok(c) => Ok((c, Vec::new())),
            Err(e) => Err(Refusal::Binary(e.to_string())),
        };
    }
    drop(bytes);
    match child_load::run(&child_load::Request::new(path, config_id(), seed)) {
        Ok(Reply::Loaded { config, warnings }) => Ok((*config, warnings)),
        Ok(Reply::Refused(r)) => Err(r),
        Ok(Reply::Unencodable(why)) => {
            log::warn!("{path}: {why}: parsing it in the daemon's own memory");
            load_here(path, seed)
        }
        Err(e) => {
            log::warn!("cannot start the loading child ({e}): parsing {path} in-process");
            load_here(path, seed)
        }
    }
}

/// [`load_isolated`] at start-up: diagnostics on stderr, as `vigil check`
/// prints them; `Err` is the exit code.
pub fn load_for_start(path: &str) -> Result<Config, u8> {
    use crate::cli::{EXIT_CONFIG, EXIT_IO};
    match load_isolated(path) {
        Ok((c, warnings)) => {
            for w in &warnings {
                eprintln!("{w}");
            }
            Ok(c)
        }
        Err(Refusal::Io(e)) => {
            eprintln!("vigil: cannot read {e}");
            Err(EXIT_IO)
        }
        Err(Refusal::Binary(e)) => {
            eprintln!("{path}: {e}");
            Err(EXIT_CONFIG)
        }
        Err(Refusal::Child(e)) => {
            eprintln!("{path}: configuration refused: {e}");
            Err(EXIT_CONFIG)
        }
        Err(Refusal::Text { lines, errors }) => {
            for l in &lines {
                eprintln!("{l}");
            }
            let s = if errors == 1 { "" } else { "s" };
            eprintln!("{path}: configuration refused ({errors} error{s})");
            Err(EXIT_CONFIG)
        }
    }
}

/// [`load_isolated`] for the running daemon (reload): every diagnostic goes
/// to the log.
pub fn load_logged(path: &str) -> Option<Config> {
    match load_isolated(path) {
        Ok((c, warnings)) => {
            for w in &warnings {
                log::warn!("{w}");
            }
            Some(c)
        }
        Err(Refusal::Io(e)) => {
            log::error!("cannot read {e}");
            None
        }
        Err(Refusal::Binary(e)) => {
            log::error!("{path}: {e}");
            None
        }
        Err(Refusal::Child(e)) => {
            log::error!("{path}: {e}");
            None
        }
        Err(Refusal::Text { lines, .. }) => {
            for l in &lines {
                log::error!("{l}");
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
