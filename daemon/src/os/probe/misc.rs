//! MISC_CHECK: the program runs through `os::script` (own process group,
//! stdin /dev/null, output discarded) as its `user`, else the default
//! script user, and under `enable_script_security` like the notify scripts;
//! `misc_timeout` kills its whole group.

use std::time::Duration;

use vigil_check::{FailReason, ProbeResult};
use vigil_model::Command;

use super::ProbeEnv;
use crate::os::script::{self, Outcome, Script};
use crate::os::{script_security, users};

pub(super) async fn probe(cmd: &Command, timeout: Duration, env: &ProbeEnv) -> ProbeResult {
    let run_as = match &cmd.run_as {
        Some(u) => match users::resolve(&u.user, u.group.as_deref()) {
            Ok(ids) => ids,
            Err(e) => {
                log::error!("MISC_CHECK \"{}\": {e}; disabled", cmd.text);
                return ProbeResult::NotRun(FailReason::ScriptDisabled);
            }
        },
        None => env.script_user,
    };
    let program = cmd.argv.first().map(String::as_str).unwrap_or("");
    let path_env = std::env::var_os("PATH");
    let path =
        match script_security::resolve_command(program, path_env.as_deref(), run_as.0, run_as.1) {
            Ok(p) => p,
            Err(e) => {
                log::warn!("MISC_CHECK \"{}\": {e}", cmd.text);
                return ProbeResult::Failed(FailReason::Spawn);
            }
        };
    if env.script_security && script_security::runs_privileged(&path, run_as.0, run_as.1) {
        if let Err(e) = script_security::check_script_security(&path) {
            log::error!(
                "MISC_CHECK \"{}\": SECURITY VIOLATION - {e}; disabled",
                cmd.text
            );
            return ProbeResult::NotRun(FailReason::ScriptDisabled);
        }
    }
    let mut argv = cmd.argv.clone();
    if let Some(first) = argv.first_mut() {
        *first = path.display().to_string();
    }
    let mut s = Script::new(argv);
    s.run_as = Some(run_as);
    s.timeout = Some(timeout);
    match script::run(&s).await {
        Ok(Outcome::Exited(code)) => match u8::try_from(code) {
            Ok(c) => ProbeResult::MiscExit(c),
            Err(_) => ProbeResult::Failed(FailReason::StatusLost),
        },
        Ok(Outcome::Signaled(sig)) => ProbeResult::Failed(FailReason::Signal(sig)),
        Ok(Outcome::TimedOut) => ProbeResult::TimedOut,
        Ok(Outcome::Lost) => ProbeResult::Failed(FailReason::StatusLost),
        Err(e) => {
            log::warn!("MISC_CHECK \"{}\": {e}", cmd.text);
            ProbeResult::Failed(FailReason::Spawn)
        }
    }
}
