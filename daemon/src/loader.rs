//! The filesystem [`Loader`] the daemon gives to `vigil-config`.

use std::io::ErrorKind;

use vigil_config::{LoadError, Loader};

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
