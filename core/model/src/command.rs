//! External programs: notify hooks, tracking scripts, MISC_CHECK.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// A program to run, as keepalived takes it: a (usually quoted) string such as
/// `"/etc/keepalived/mail.sh master"`, optionally followed by `USER [GROUP]`.
///
/// `argv` is always `text` split into words (see [`Command::new`]); the
/// binary form stores `text` only and splits it again when loading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "CommandWire", into = "CommandWire")]
pub struct Command {
    /// The text as written (without the quotes), for logs and `show`.
    pub text: String,
    /// `text` split into words (shell-like: blanks separate, '...' and "..."
    /// group, a backslash escapes). `argv[0]` is the program; empty only if
    /// the text is blank (which the validator refuses).
    pub argv: Vec<String>,
    /// The user (and group) to run it as; `None` = global `script_user`, or
    /// keepalived's default `keepalived_script`, decided by the daemon.
    pub run_as: Option<RunAs>,
}

impl Command {
    /// A command from its text, splitting `argv` out of it.
    pub fn new(text: &str, run_as: Option<RunAs>) -> Self {
        Command {
            text: text.into(),
            argv: split_words(text),
            run_as,
        }
    }
}

/// What the binary form stores of a [`Command`].
#[derive(Serialize, Deserialize)]
struct CommandWire {
    text: String,
    run_as: Option<RunAs>,
}

impl From<CommandWire> for Command {
    fn from(w: CommandWire) -> Self {
        Command::new(&w.text, w.run_as)
    }
}

impl From<Command> for CommandWire {
    fn from(c: Command) -> Self {
        CommandWire {
            text: c.text,
            run_as: c.run_as,
        }
    }
}

/// Splits a command line into words: blanks separate, `'...'` and `"..."`
/// group, a backslash outside single quotes escapes the next character.
pub fn split_words(text: &str) -> Vec<String> {
    let mut argv = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, ' ' | '\t') => {
                if in_word {
                    argv.push(core::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        argv.push(cur);
    }
    argv
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
