//! External programs: notify hooks, tracking scripts, MISC_CHECK.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// A program to run, as keepalived takes it: a (usually quoted) string such as
/// `"/etc/keepalived/mail.sh master"`, optionally followed by `USER [GROUP]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The text as written (without the quotes), for logs and `show`.
    pub text: String,
    /// `text` split into words (shell-like: blanks separate, '...' and "..."
    /// group, a backslash escapes). Never empty; `argv[0]` is the program.
    pub argv: Vec<String>,
    /// The user (and group) to run it as; `None` = global `script_user`, or
    /// keepalived's default `keepalived_script`, decided by the daemon.
    pub run_as: Option<RunAs>,
}

/// `USER [GROUP]`; without a group the user's own group is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAs {
    /// User name (or numeric id as text).
    pub user: String,
    /// Group name; `None` = the user's primary group.
    pub group: Option<String>,
}

/// The notify hooks shared by `vrrp_instance` and `vrrp_sync_group`. All
/// default to none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Notify {
    /// `notify_master`: run on transition to MASTER.
    pub master: Option<Command>,
    /// `notify_backup`: run on transition to BACKUP.
    pub backup: Option<Command>,
    /// `notify_fault`: run on transition to FAULT.
    pub fault: Option<Command>,
    /// `notify_stop`: run when the instance stops.
    pub stop: Option<Command>,
    /// `notify`: run after any of the above, with the extra arguments
    /// `GROUP|INSTANCE NAME STATE PRIORITY`.
    pub any: Option<Command>,
}

impl Notify {
    /// True when no hook is configured.
    pub fn is_empty(&self) -> bool {
        self.master.is_none()
            && self.backup.is_none()
            && self.fault.is_none()
            && self.stop.is_none()
            && self.any.is_none()
    }
}
