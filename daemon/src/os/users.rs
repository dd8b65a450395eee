//! User and group names to ids for `script_user` and per-script `user`.
//!
//! keepalived runs scripts as `keepalived_script` when that user exists and
//! as root otherwise; a group given without a user's default group is looked
//! up by name.

use core::fmt;

use nix::unistd::{Group, User};

/// The user keepalived prefers for scripts.
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// A user or group name could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserError {
    NoSuchUser(String),
    NoSuchGroup(String),
    /// The password/group database could not be read (errno).
    Lookup(String, nix::errno::Errno),
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserError::NoSuchUser(u) => write!(f, "no such user {u}"),
            UserError::NoSuchGroup(g) => write!(f, "no such group {g}"),
            UserError::Lookup(n, e) => write!(f, "cannot look up {n}: {e}"),
        }
    }
}

impl std::error::Error for UserError {}

/// (uid, gid) for `user`, with `group` overriding the user's primary group.
/// Numeric names are taken as ids, like keepalived.
pub fn resolve(user: &str, group: Option<&str>) -> Result<(u32, u32), UserError> {
    let (uid, primary_gid) = match User::from_name(user) {
        Ok(Some(u)) => (u.uid.as_raw(), u.gid.as_raw()),
        Ok(None) => match user.parse::<u32>() {
            Ok(uid) => (uid, uid),
            Err(_) => return Err(UserError::NoSuchUser(user.to_string())),
        },
        Err(e) => return Err(UserError::Lookup(user.to_string(), e)),
    };
    let gid = match group {
        None => primary_gid,
        Some(g) => match Group::from_name(g) {
            Ok(Some(gr)) => gr.gid.as_raw(),
            Ok(None) => g
                .parse::<u32>()
                .map_err(|_| UserError::NoSuchGroup(g.to_string()))?,
            Err(e) => return Err(UserError::Lookup(g.to_string(), e)),
        },
    };
    Ok((uid, gid))
}

/// The default script credentials: `keepalived_script` if it exists, else
/// root (0, 0).
pub fn default_script_user() -> (u32, u32) {
    resolve(DEFAULT_SCRIPT_USER, None).unwrap_or((0, 0))
}

/// keepalived's default umask (IXUSR|IRWXG|IRWXO): new files 0600.
pub const DEFAULT_UMASK: u16 = 0o177;

/// Sets the process umask as keepalived does at start: `umask` from
/// `global_defs`, else its default; scripts and every file vigil creates
/// (FIFOs, `init_file`s) inherit it. Returns the mask set.
pub fn apply_umask(configured: Option<u16>) -> u16 {
    let m = configured.unwrap_or(DEFAULT_UMASK) & 0o777;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(m.into()));
    UMASK.store(m, std::sync::atomic::Ordering::Relaxed);
    m
}

/// The umask [`apply_umask`] set (keepalived's default before): read
/// where a mode is set explicitly after creation, without the racy
/// read-and-restore of umask(2).
pub fn umask() -> u16 {
    UMASK.load(std::sync::atomic::Ordering::Relaxed)
}

static UMASK: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(DEFAULT_UMASK);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_numbers() {
        assert_eq!(resolve("root", None), Ok((0, 0)));
        assert_eq!(resolve("root", Some("0")), Ok((0, 0)));
        assert_eq!(resolve("4242", None), Ok((4242, 4242)));
        assert_eq!(resolve("4242", Some("77")), Ok((4242, 77)));
        assert_eq!(
            resolve("no-such-user-vigil", None),
            Err(UserError::NoSuchUser("no-such-user-vigil".into()))
        );
        assert_eq!(
            resolve("root", Some("no-such-group-vigil")),
            Err(UserError::NoSuchGroup("no-such-group-vigil".into()))
        );
    }

    #[test]
    fn default_user_falls_back_to_root() {
        let (uid, gid) = default_script_user();
        match resolve(DEFAULT_SCRIPT_USER, None) {
            Ok(ids) => assert_eq!((uid, gid), ids),
            Err(_) => assert_eq!((uid, gid), (0, 0)),
        }
    }
}
