//! Command line: `vigil run|check|compile|show|status|ipvs`, plus keepalived's own
//! top-level flags (`vigil -f FILE -n -l -D`, `vigil -t`) so that existing
//! service files keep working.
//!
//! Exit codes:
//! - 0 ([`EXIT_OK`]): success (for `check`: the configuration is usable);
//! - 1 ([`EXIT_CONFIG`]): the configuration is refused (diagnostics on stderr);
//! - 2 ([`EXIT_USAGE`]): bad command line;
//! - 3 ([`EXIT_IO`]): a file could not be read or written.

use crate::os::logger::{self, LogOptions};
use crate::os::syslog::Facility;
use crate::runtime;
use std::process::ExitCode;

use argh::FromArgs;
use vigil_config::{show, to_binary, Diagnostic, LoadAnyError, Options};
use vigil_model::Config;

use crate::loader::{load, LoadFailure};

mod args;
mod check;

use check::{check, check_any};

pub use args::{Cli, RunOptions};
use args::{IpvsArgs, StatusArgs, Sub};

/// Success.
pub const EXIT_OK: u8 = 0;
/// The configuration is refused.
pub const EXIT_CONFIG: u8 = 1;
/// Bad command line.
pub const EXIT_USAGE: u8 = 2;
/// A file could not be read or written.
pub const EXIT_IO: u8 = 3;

/// Where the configuration is looked for when no file is given, in order.
pub const DEFAULT_CONFIGS: [&str; 2] = ["/etc/vigil/vigil.conf", "/etc/keepalived/keepalived.conf"];

/// `vigil status`: the daemon's answer on its control socket.
fn status(a: &StatusArgs) -> u8 {
    let path = a.control.as_deref().unwrap_or(runtime::DEFAULT_CONTROL);
    match crate::control::query(path, crate::control::Request::Status { json: a.json }) {
        Ok(body) => {
            out(&body);
            EXIT_OK
        }
        Err(e) => {
            eprintln!("vigil: {e}");
            EXIT_IO
        }
    }
}

/// `vigil ipvs`: reads the kernel's table itself.
fn ipvs(a: &IpvsArgs) -> u8 {
    use crate::ipvsadm::{render, render_json, Layout};
    let read = || {
        let k = crate::os::ipvs::Ipvs::open()?;
        Ok::<_, crate::os::ipvs::IpvsError>((k.info()?, k.dump()?))
    };
    let (info, services) = match read() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("vigil: {e}");
            return EXIT_IO;
        }
    };
    let layout = match (a.stats, a.rate) {
        (true, true) => {
            eprintln!("vigil: --stats and --rate exclude each other");
            return EXIT_USAGE;
        }
        (true, false) => Layout::Stats,
        (false, true) => Layout::Rate,
        (false, false) => Layout::List,
    };
    if a.json {
        out(&render_json(&info, &services));
    } else {
        out(&render(&info, &services, layout));
    }
    EXIT_OK
}

/// Writes to stdout, ignoring a closed pipe (`vigil show X | head`): with
/// `panic = "abort"`, `print!` on EPIPE would abort the process.
fn out(text: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|()| o.flush());
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(crate::os::child_load::SUBCOMMAND) {
        return ExitCode::from(crate::os::child_load::serve(args.get(2..).unwrap_or(&[])));
    }
    // This is the vigil binary: the daemon's loads may run it again.
    crate::loader::isolate_parsing(true);
    let name = args.first().map(String::as_str).unwrap_or("vigil");
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let cli = match Cli::from_args(&[name], &rest) {
        Ok(cli) => cli,
        Err(early) => {
            return match early.status {
                Ok(()) => {
                    out(&format!("{}\n", early.output));
                    ExitCode::from(EXIT_OK)
                }
                Err(()) => {
                    eprintln!("{}", early.output);
                    ExitCode::from(EXIT_USAGE)
                }
            };
        }
    };
    ExitCode::from(dispatch(cli))
}

fn dispatch(cli: Cli) -> u8 {
    // One config id for the whole process: the daemon's reloads use it too.
    let id = match &cli.command {
        Some(Sub::Run(o)) => o.config_id.clone(),
        Some(Sub::Check(a)) => a.config_id.clone(),
        Some(Sub::Show(a)) => a.config_id.clone(),
        _ => None,
    };
    crate::loader::set_config_id(id.or(cli.config_id.clone()));
    match cli.command {
        Some(Sub::Run(opts)) => load_and_run(&opts),
        Some(Sub::Check(a)) => check_any(&a),
        Some(Sub::Compile(a)) => compile(&a.file, &a.output),
        Some(Sub::Show(a)) => show_file(&a.file),
        Some(Sub::Status(a)) => status(&a),
        Some(Sub::Ipvs(a)) => ipvs(&a),
        None if cli.config_test => check(cli.use_file.as_deref(), false, cli.log_detail),
        None => load_and_run(&RunOptions {
            use_file: cli.use_file,
            dont_fork: cli.dont_fork,
            log_console: cli.log_console,
            log_detail: cli.log_detail,
            log_facility: cli.log_facility,
            pid: cli.pid,
            control: None,
            config_id: cli.config_id,
        }),
    }
}

/// The file to read: the one given, else the first default that exists.
fn config_path(given: Option<&str>) -> String {
    if let Some(p) = given {
        return p.into();
    }
    let found = DEFAULT_CONFIGS
        .iter()
        .find(|p| std::path::Path::new(p).exists());
    found.unwrap_or(&DEFAULT_CONFIGS[0]).to_string()
}

/// Loads a configuration, printing diagnostics; `Err` is the exit code.
fn load_reporting(path: &str, opts: Options) -> Result<(Config, Vec<Diagnostic>), u8> {
    match load(path, opts) {
        Ok((c, warnings)) => {
            for w in &warnings {
                eprintln!("{w}");
            }
            Ok((c, warnings))
        }
        Err(LoadFailure::Io(e)) => {
            eprintln!("vigil: cannot read {e}");
            Err(EXIT_IO)
        }
        Err(LoadFailure::Config(LoadAnyError::Binary(e))) => {
            eprintln!("{path}: {e}");
            Err(EXIT_CONFIG)
        }
        Err(LoadFailure::Config(LoadAnyError::Text(diags))) => {
            for d in &diags {
                eprintln!("{d}");
            }
            let n = diags.iter().filter(|d| d.is_error()).count();
            eprintln!(
                "{path}: configuration refused ({n} error{})",
                if n == 1 { "" } else { "s" }
            );
            Err(EXIT_CONFIG)
        }
    }
}

fn compile(file: &str, output: &str) -> u8 {
    let config = match load_reporting(file, Options::default()) {
        Ok((c, _)) => c,
        Err(code) => return code,
    };
    let bytes = match to_binary(&config) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{file}: {e}");
            return EXIT_CONFIG;
        }
    };
    if let Err(e) = std::fs::write(output, &bytes) {
        eprintln!("vigil: cannot write {output}: {e}");
        return EXIT_IO;
    }
    EXIT_OK
}

fn show_file(file: &str) -> u8 {
    match load_reporting(file, Options::default()) {
        Ok((c, _)) => {
            out(&show(&c));
            EXIT_OK
        }
        Err(code) => code,
    }
}

/// One line describing a configuration.
pub fn summary(c: &Config) -> String {
    let reals: usize = c.virtual_servers.iter().map(|v| v.real_servers.len()).sum();
    format!(
        "{} vrrp_instance, {} vrrp_script, {} vrrp_sync_group, {} virtual_server, {} real_server",
        c.instances.len(),
        c.scripts.len(),
        c.sync_groups.len(),
        c.virtual_servers.len(),
        reals
    )
}

fn load_and_run(opts: &RunOptions) -> u8 {
    let facility = match Facility::from_option(opts.log_facility.map(u32::from)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("vigil: {e}");
            return EXIT_USAGE;
        }
    };
    let log = LogOptions {
        to_stderr: opts.log_console,
        facility,
        detail: opts.log_detail,
    };
    // A second logger (in tests) is harmless: keep the first.
    let _ = logger::init(&log);
    let path = config_path(opts.use_file.as_deref());
    match crate::loader::load_for_start(&path) {
        Ok(config) => run(opts, log, &path, config),
        Err(code) => code,
    }
}

/// Runs the daemon on a loaded configuration until it is stopped.
pub fn run(opts: &RunOptions, log: LogOptions, path: &str, config: Config) -> u8 {
    log::info!(
        "vigil {} starting: {}",
        env!("CARGO_PKG_VERSION"),
        summary(&config)
    );
    crate::os::users::apply_umask(config.global.umask);
    let settings = runtime::Settings {
        config_path: path.into(),
        pid_file: opts.pid.as_ref().map(Into::into),
        control: Some(
            opts.control
                .clone()
                .unwrap_or_else(|| runtime::DEFAULT_CONTROL.to_string())
                .into(),
        ),
        log,
        foreground: opts.dont_fork,
    };
    runtime::run(settings, config)
}
