//! What the engine asks the LVS thread to do outside it: probes, notify
//! scripts and alerts (FIFO lines and mails).

use vigil_check::ProbeKind;
use vigil_model::Command as Script;

/// Something the LVS thread must do outside the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Run this probe; report with [`Engine::handle_probe`] and this token.
    Probe { token: u64, kind: ProbeKind },
    /// Run a notify command (`notify_up`, `quorum_down`, ...); `what` names
    /// it for the log.
    Script { what: String, command: Script },
    /// A real server went up or down, or a virtual server's quorum
    /// changed: the FIFO line and the alert mail (indices into the
    /// configuration in force).
    Alert(Alert),
}

/// See [`Out::Alert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    RealServer {
        vs: usize,
        rs: usize,
        up: bool,
        /// The first checker's block (`TCP_CHECK`, ...), named in the mail.
        check: &'static str,
    },
    Quorum {
        vs: usize,
        up: bool,
        initial: bool,
        /// The weights of the live real servers, summed (keepalived's mail
        /// body names it).
        weight: u64,
    },
    /// A checker changed without changing its real server (`up`: the
    /// checker's state; `kind`: its keyword, for the mail's words).
    Checker {
        vs: usize,
        rs: usize,
        up: bool,
        kind: &'static str,
    },
    /// `omega` at stop: a live real server (`Some`) or the virtual
    /// server goes DOWN, "=> Shutting down <=".
    Shutdown { vs: usize, rs: Option<usize> },
}
