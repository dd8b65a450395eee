//! The filesystem [`Loader`] the daemon gives to `vigil-config`.

use std::io::ErrorKind;

use vigil_config::{load_any, Diagnostic, LoadAnyError, LoadError, Loader, Options};
use vigil_model::Config;

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

impl Loader for FsLoader {
    fn read(&self, path: &str) -> Result<String, LoadError> {
        std::fs::read_to_string(path).map_err(map)
    }

    fn list_dir(&self, dir: &str) -> Result<Vec<String>, LoadError> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(map)? {
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

/// Reads and validates a configuration file, text or binary (sniffed).
pub fn load(path: &str, opts: Options) -> Result<(Config, Vec<Diagnostic>), LoadFailure> {
    let bytes = std::fs::read(path).map_err(|e| LoadFailure::Io(format!("{path}: {e}")))?;
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
        assert_eq!(FsLoader.read(&format!("{d}/a.conf")).unwrap(), "x");
        assert_eq!(
            FsLoader.read(&format!("{d}/none")),
            Err(LoadError::NotFound)
        );
        assert_eq!(
            FsLoader.list_dir(&format!("{d}/a.conf")),
            Err(LoadError::NotADirectory)
        );
        std::fs::write(dir.join("bin"), [0xffu8, 0xfe]).unwrap();
        assert_eq!(FsLoader.read(&format!("{d}/bin")), Err(LoadError::NotUtf8));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
