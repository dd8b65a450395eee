//! Who may ask: the control socket answers root, and members of the group
//! named by `control_socket_group` in global_defs (the socket file is then
//! mode 0660 and owned by that group). The kernel vouches for the peer's
//! uid and gid (SO_PEERCRED); supplementary groups come from the group
//! database, as for any login.

use std::os::fd::AsFd;

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::unistd::{getgrouplist, Gid, Uid, User};

/// Who is admitted besides root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access {
    /// Members of this group are admitted.
    pub group: Option<u32>,
}

impl Access {
    /// Whether the peer of `sock` may be answered; `Err` says who was
    /// refused, for the log.
    pub fn admits(&self, sock: &impl AsFd) -> Result<(), String> {
        let cred = getsockopt(sock, PeerCredentials)
            .map_err(|e| format!("cannot read the client's credentials: {e}"))?;
        let (uid, gid) = (cred.uid(), cred.gid());
        if uid == 0 {
            return Ok(());
        }
        let refused = || format!("uid {uid} gid {gid} is neither root nor in the control group");
        let Some(group) = self.group else {
            return Err(refused());
        };
        if gid == group || member(uid, gid, group) {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

/// Whether user `uid` belongs to `group` through its supplementary groups.
fn member(uid: u32, gid: u32, group: u32) -> bool {
    let Ok(Some(user)) = User::from_uid(Uid::from_raw(uid)) else {
        return false;
    };
    let Ok(name) = std::ffi::CString::new(user.name) else {
        return false;
    };
    getgrouplist(&name, Gid::from_raw(gid)).is_ok_and(|gs| gs.iter().any(|g| g.as_raw() == group))
}
