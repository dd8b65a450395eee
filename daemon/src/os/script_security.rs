//! `enable_script_security` and the lookup of bare command names.
//!
//! keepalived.conf(5): a script run by root must not be modifiable or
//! replaceable by a non-root user. keepalived checks every component of the
//! script's resolved path; we apply the same rule:
//!
//! - every component (`/`, each directory, the file) is owned by root;
//! - no component is writable by "other", nor by its group unless that group is
//!   root (gid 0);
//! - a directory with the sticky bit (like /tmp) is exempt from the write rule,
//!   since other users cannot rename or delete a root-owned entry in it; its
//!   owner must still be root.
//!
//! The path is resolved first (symlinks, `.`/`..`), so the files actually
//! executed are checked; a symlink given as the script is itself required to be
//! root-owned, since whoever owns it could point it elsewhere.

use core::fmt;
use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const S_IWGRP: u32 = 0o020;
const S_IWOTH: u32 = 0o002;
const S_ISVTX: u32 = 0o1000;
const S_ISUID: u32 = 0o4000;
const S_ISGID: u32 = 0o2000;

/// What makes a path component unsafe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insecurity {
    /// Owned by this non-root uid.
    OwnerNotRoot(u32),
    /// Group-writable and the group (this gid) is not root.
    GroupWritable(u32),
    /// Writable by any user.
    WorldWritable,
}

impl fmt::Display for Insecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Insecurity::OwnerNotRoot(uid) => write!(f, "owned by uid {uid}, not root"),
            Insecurity::GroupWritable(gid) => write!(f, "writable by group {gid}"),
            Insecurity::WorldWritable => f.write_str("writable by all users"),
        }
    }
}

/// Why a script is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityError {
    /// The script or a directory on its path does not exist or cannot be read.
    NotFound { path: PathBuf, errno: i32 },
    /// A component that must be a directory is not, or the script is not a
    /// regular file.
    WrongType { path: PathBuf },
    /// `path` could be modified or replaced by a non-root user.
    Insecure { path: PathBuf, why: Insecurity },
}

impl fmt::Display for SecurityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecurityError::NotFound { path, errno } => write!(
                f,
                "script path {} cannot be accessed: {}",
                path.display(),
                nix::errno::Errno::from_raw(*errno)
            ),
            SecurityError::WrongType { path } => {
                write!(f, "wrong file type in script path: {}", path.display())
            }
            SecurityError::Insecure { path, why } => {
                write!(f, "unsafe permissions on {}: {why}", path.display())
            }
        }
    }
}

impl std::error::Error for SecurityError {}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

/// The rule for one component.
fn check_component(
    path: &Path,
    uid: u32,
    gid: u32,
    mode: u32,
    is_dir: bool,
) -> Result<(), SecurityError> {
    let insecure = |why| SecurityError::Insecure {
        path: path.to_path_buf(),
        why,
    };
    if uid != 0 {
        return Err(insecure(Insecurity::OwnerNotRoot(uid)));
    }
    if is_dir && mode & S_ISVTX != 0 {
        return Ok(());
    }
    if mode & S_IWOTH != 0 {
        return Err(insecure(Insecurity::WorldWritable));
    }
    if gid != 0 && mode & S_IWGRP != 0 {
        return Err(insecure(Insecurity::GroupWritable(gid)));
    }
    Ok(())
}

/// Refuse `script` if a non-root user could modify or replace it (see the
/// module doc). The error names the first offending path, from `/` down.
pub fn check_script_security(script: &Path) -> Result<(), SecurityError> {
    let not_found = |p: &Path, e: &std::io::Error| SecurityError::NotFound {
        path: p.to_path_buf(),
        errno: errno_of(e),
    };
    let link = std::fs::symlink_metadata(script).map_err(|e| not_found(script, &e))?;
    if link.file_type().is_symlink() && link.uid() != 0 {
        return Err(SecurityError::Insecure {
            path: script.to_path_buf(),
            why: Insecurity::OwnerNotRoot(link.uid()),
        });
    }
    let real = std::fs::canonicalize(script).map_err(|e| not_found(script, &e))?;
    let mut prefix = PathBuf::new();
    let mut components = real.components().peekable();
    while let Some(c) = components.next() {
        prefix.push(c);
        let last = components.peek().is_none();
        let m = std::fs::symlink_metadata(&prefix).map_err(|e| not_found(&prefix, &e))?;
        let ft = m.file_type();
        if (!last && !ft.is_dir()) || (last && !ft.is_file()) {
            return Err(SecurityError::WrongType { path: prefix });
        }
        check_component(&prefix, m.uid(), m.gid(), m.mode(), ft.is_dir())?;
    }
    Ok(())
}

/// Whether a script needs the security check: it runs as root (uid or gid 0),
/// or it is set-uid/set-gid root and so runs as root whoever starts it.
pub fn runs_privileged(script: &Path, uid: u32, gid: u32) -> bool {
    if uid == 0 || gid == 0 {
        return true;
    }
    match std::fs::metadata(script) {
        Ok(m) => {
            let mode = m.permissions().mode();
            (m.uid() == 0 && mode & S_ISUID != 0 && mode & 0o100 != 0)
                || (m.gid() == 0 && mode & S_ISGID != 0 && mode & 0o010 != 0)
        }
        Err(_) => false,
    }
}

/// Looking a bare command name up through PATH failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Empty command.
    Empty,
    /// No file of that name in any PATH directory.
    NotFound(String),
    /// Found, but not an executable regular file for the user.
    NotExecutable(PathBuf),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Empty => f.write_str("empty command"),
            ResolveError::NotFound(n) => write!(f, "cannot find script {n} in PATH"),
            ResolveError::NotExecutable(p) => write!(f, "script {} is not executable", p.display()),
        }
    }
}

impl std::error::Error for ResolveError {}

/// Default search path when PATH is unset (glibc's _CS_PATH).
pub const DEFAULT_PATH: &str = "/bin:/usr/bin";

/// Execute permission for `uid`/`gid` by mode bits, as execve would grant it
/// (root needs any x bit).
fn executable_by(mode: u32, file_uid: u32, file_gid: u32, uid: u32, gid: u32) -> bool {
    if uid == 0 {
        mode & 0o111 != 0
    } else if uid == file_uid {
        mode & 0o100 != 0
    } else if gid == file_gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// Resolve `cmd` like keepalived: a name containing `/` is used as is; a bare
/// name is searched in `path` (PATH, or [`DEFAULT_PATH`] when `None`), taking
/// the first regular file executable by `uid`/`gid`. An empty PATH entry means
/// the current directory. When only non-executable matches exist the error
/// names the first of them.
pub fn resolve_command(
    cmd: &str,
    path: Option<&OsStr>,
    uid: u32,
    gid: u32,
) -> Result<PathBuf, ResolveError> {
    if cmd.is_empty() {
        return Err(ResolveError::Empty);
    }
    if cmd.contains('/') {
        return Ok(PathBuf::from(cmd));
    }
    let path = path.unwrap_or(OsStr::new(DEFAULT_PATH));
    let mut denied = None;
    for dir in std::env::split_paths(path) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = dir.join(cmd);
        let Ok(m) = std::fs::metadata(&candidate) else {
            continue;
        };
        if m.is_file() && executable_by(m.mode(), m.uid(), m.gid(), uid, gid) {
            return Ok(candidate);
        }
        denied.get_or_insert(candidate);
    }
    Err(match denied {
        Some(p) => ResolveError::NotExecutable(p),
        None => ResolveError::NotFound(cmd.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_rule() {
        let p = Path::new("/x");
        assert!(check_component(p, 0, 0, 0o755, false).is_ok());
        assert!(
            check_component(p, 0, 0, 0o775, true).is_ok(),
            "root group may write"
        );
        assert_eq!(
            check_component(p, 0, 5, 0o775, true).unwrap_err(),
            SecurityError::Insecure {
                path: p.into(),
                why: Insecurity::GroupWritable(5)
            }
        );
        assert!(matches!(
            check_component(p, 0, 0, 0o757, false),
            Err(SecurityError::Insecure {
                why: Insecurity::WorldWritable,
                ..
            })
        ));
        assert!(check_component(p, 0, 0, 0o1777, true).is_ok(), "sticky dir");
        assert!(
            check_component(p, 0, 0, 0o1777, false).is_err(),
            "sticky bit does not protect a file"
        );
        assert!(matches!(
            check_component(p, 1000, 0, 0o755, false),
            Err(SecurityError::Insecure {
                why: Insecurity::OwnerNotRoot(1000),
                ..
            })
        ));
    }

    #[test]
    fn exec_bits() {
        assert!(executable_by(0o001, 5, 5, 0, 0));
        assert!(!executable_by(0o644, 0, 0, 0, 0));
        assert!(executable_by(0o100, 7, 9, 7, 1));
        assert!(!executable_by(0o011, 7, 9, 7, 9), "owner class decides");
        assert!(executable_by(0o010, 7, 9, 8, 9));
        assert!(executable_by(0o001, 7, 9, 8, 1));
    }

    #[test]
    fn resolve_through_path() {
        let p =
            resolve_command("sh", Some(OsStr::new("/nonexistent:/bin:/usr/bin")), 0, 0).unwrap();
        assert!(p.ends_with("sh") && p.is_absolute(), "{}", p.display());
        assert_eq!(
            resolve_command("no-such-cmd-vigil", Some(OsStr::new("/bin")), 0, 0),
            Err(ResolveError::NotFound("no-such-cmd-vigil".into()))
        );
        assert_eq!(resolve_command("", None, 0, 0), Err(ResolveError::Empty));
        assert_eq!(
            resolve_command("./x", None, 0, 0).unwrap(),
            PathBuf::from("./x")
        );
        // /etc/passwd exists but is not executable.
        assert_eq!(
            resolve_command("passwd", Some(OsStr::new("/etc")), 0, 0),
            Err(ResolveError::NotExecutable("/etc/passwd".into()))
        );
    }

    #[test]
    fn system_binaries_are_secure() {
        let sh = resolve_command("sh", None, 0, 0).unwrap();
        check_script_security(&sh).unwrap();
        assert!(matches!(
            check_script_security(Path::new("/nonexistent/script.sh")),
            Err(SecurityError::NotFound { .. })
        ));
        assert!(matches!(
            check_script_security(Path::new("/")),
            Err(SecurityError::WrongType { .. })
        ));
        assert!(runs_privileged(&sh, 0, 0));
        assert!(!runs_privileged(&sh, 1000, 1000));
    }
}
