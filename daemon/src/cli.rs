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

/// vigil: a keepalived-compatible VRRP and IPVS daemon. Without a
/// subcommand it runs, taking keepalived's flags.
#[derive(FromArgs, Debug, PartialEq)]
pub struct Cli {
    #[argh(subcommand)]
    command: Option<Sub>,
    /// configuration file (text or binary; default /etc/vigil/vigil.conf,
    /// then /etc/keepalived/keepalived.conf)
    #[argh(option, short = 'f', long = "use-file")]
    use_file: Option<String>,
    /// stay in the foreground
    #[argh(switch, short = 'n', long = "dont-fork")]
    dont_fork: bool,
    /// log to the console
    #[argh(switch, short = 'l', long = "log-console")]
    log_console: bool,
    /// detailed (debug) logging
    #[argh(switch, short = 'D', long = "log-detail")]
    log_detail: bool,
    /// syslog facility LOG_LOCAL<N> (0..7)
    #[argh(option, short = 'S', long = "log-facility")]
    log_facility: Option<u8>,
    /// pid file
    #[argh(option, short = 'p', long = "pid")]
    pid: Option<String>,
    /// check the configuration and exit (keepalived -t)
    #[argh(switch, short = 't', long = "config-test")]
    config_test: bool,
    /// config id for @ID conditional lines (default: the host name up to
    /// its first dot)
    #[argh(option, short = 'i', long = "config-id")]
    config_id: Option<String>,
}

#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand)]
enum Sub {
    Run(RunOptions),
    Check(CheckArgs),
    Compile(CompileArgs),
    Show(ShowArgs),
    Status(StatusArgs),
    Ipvs(IpvsArgs),
}

/// Load the configuration and run the daemon.
#[derive(FromArgs, Debug, PartialEq, Default, Clone)]
#[argh(subcommand, name = "run")]
pub struct RunOptions {
    /// configuration file (text or binary)
    #[argh(option, short = 'f', long = "use-file")]
    pub use_file: Option<String>,
    /// stay in the foreground
    #[argh(switch, short = 'n', long = "dont-fork")]
    pub dont_fork: bool,
    /// log to the console
    #[argh(switch, short = 'l', long = "log-console")]
    pub log_console: bool,
    /// detailed (debug) logging
    #[argh(switch, short = 'D', long = "log-detail")]
    pub log_detail: bool,
    /// syslog facility LOG_LOCAL<N> (0..7)
    #[argh(option, short = 'S', long = "log-facility")]
    pub log_facility: Option<u8>,
    /// pid file
    #[argh(option, short = 'p', long = "pid")]
    pub pid: Option<String>,
    /// control socket path
    #[argh(option, long = "control")]
    pub control: Option<String>,
    /// config id for @ID conditional lines (default: the host name up to
    /// its first dot)
    #[argh(option, short = 'i', long = "config-id")]
    pub config_id: Option<String>,
}

/// Check a configuration (like keepalived -t): exit 0 if usable.
#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand, name = "check")]
struct CheckArgs {
    /// configuration file
    #[argh(option, short = 'f', long = "use-file")]
    use_file: Option<String>,
    /// unknown keywords and any warning make the check fail
    #[argh(switch)]
    strict: bool,
    /// config id for @ID conditional lines (default: the host name up to
    /// its first dot)
    #[argh(option, short = 'i', long = "config-id")]
    config_id: Option<String>,
    /// detail: print what each conditional line, parameter and ~SEQ
    /// resolved to
    #[argh(switch, short = 'D', long = "log-detail")]
    detail: bool,
    /// the other router's configuration: check that both are a
    /// consistent pair
    #[argh(option)]
    peer: Option<String>,
    /// config id for the peer's @ID lines (default: the same as -i)
    #[argh(option)]
    peer_id: Option<String>,
    /// one file (as -f), or two: the routers of a pair
    #[argh(positional)]
    files: Vec<String>,
}

/// Compile a configuration to the compact binary form.
#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand, name = "compile")]
struct CompileArgs {
    /// configuration file (text or binary)
    #[argh(positional)]
    file: String,
    /// output file
    #[argh(option, short = 'o')]
    output: String,
}

/// Ask the running daemon for the state of every instance.
#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand, name = "status")]
struct StatusArgs {
    /// control socket path (default /run/vigil.sock)
    #[argh(option, long = "control")]
    control: Option<String>,
    /// machine-readable JSON
    #[argh(switch)]
    json: bool,
}

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

/// Print the kernel's IPVS table like `ipvsadm -Ln` (no daemon needed).
#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand, name = "ipvs")]
struct IpvsArgs {
    /// counters (ipvsadm -Ln --stats)
    #[argh(switch)]
    stats: bool,
    /// rates (ipvsadm -Ln --rate)
    #[argh(switch)]
    rate: bool,
    /// machine-readable JSON
    #[argh(switch)]
    json: bool,
}

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

/// Print a configuration (text or binary) as canonical keepalived.conf.
#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand, name = "show")]
struct ShowArgs {
    /// configuration file
    #[argh(positional)]
    file: String,
    /// config id for @ID conditional lines (default: the host name up to
    /// its first dot)
    #[argh(option, short = 'i', long = "config-id")]
    config_id: Option<String>,
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

/// Why a configuration could not be loaded, with its exit code.
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

fn check(file: Option<&str>, strict: bool, detail: bool) -> u8 {
    let path = config_path(file);
    let opts = Options {
        strict,
        detail,
        ..Options::default()
    };
    match load_reporting(&path, opts) {
        Ok((_, warnings)) if strict && warnings.iter().any(is_warning) => {
            let n = warnings.iter().filter(|d| is_warning(d)).count();
            eprintln!(
                "{path}: configuration refused ({n} warning{} under --strict)",
                plural(n)
            );
            EXIT_CONFIG
        }
        Ok((c, warnings)) => {
            // Never a silent OK: say how many warnings, and how many are
            // keywords this version reads but does not act on.
            let n = warnings.iter().filter(|d| is_warning(d)).count();
            let idle = warnings
                .iter()
                .filter(|d| matches!(d.problem, vigil_config::Problem::NotActedOn(_)))
                .count();
            let tail = match (n, idle) {
                (0, _) => String::new(),
                (n, 0) => format!(", {n} warning{}", plural(n)),
                (n, m) => format!(", {n} warning{} ({m} parsed but not acted on)", plural(n)),
            };
            no_accept_note(&path, &c);
            eprintln!("{path}: configuration OK ({}{tail})", summary(&c));
            EXIT_OK
        }
        Err(code) => code,
    }
}

/// keepalived drops traffic to a no_accept instance's VIPs with nftables;
/// say so when this kernel (or our privileges) will not let vigil do it.
fn no_accept_note(path: &str, c: &vigil_model::Config) {
    let Some(i) = c.instances.iter().find(|i| !i.accept && i.priority != 255) else {
        return;
    };
    let table = crate::os::nftables::Table::of(&c.global.nftables);
    let probe = crate::os::nftables::Nft::open(table).and_then(|mut n| n.probe());
    if let Err(e) = probe {
        eprintln!(
            "{path}: note: ({}) no_accept cannot be enforced on this host: {e}; its VIPs would answer as with accept",
            i.name
        );
    }
}

/// `check` with one file, or with two (`--peer`, or two positionals).
fn check_any(a: &CheckArgs) -> u8 {
    let mut files: Vec<&str> = a.use_file.iter().map(String::as_str).collect();
    files.extend(a.files.iter().map(String::as_str));
    files.extend(a.peer.iter().map(String::as_str));
    match files.as_slice() {
        [] | [_] if a.peer.is_none() => check(files.first().copied(), a.strict, a.detail),
        [one, two] => check_pair(one, two, a),
        [_] => check_pair(&config_path(None), a.peer.as_deref().unwrap_or(""), a),
        _ => {
            eprintln!("vigil: check takes one configuration, or two with --peer");
            EXIT_USAGE
        }
    }
}

/// Reads one side of a pair, printing its own diagnostics.
fn read_side(path: &str, id: Option<&str>, a: &CheckArgs) -> Result<vigil_config::pair::Side, u8> {
    let opts = Options {
        strict: a.strict,
        detail: a.detail,
        config_id: Some(id.unwrap_or(crate::loader::config_id())),
        ..Options::default()
    };
    match vigil_config::pair::read(&crate::loader::FsLoader, path, opts) {
        Ok((side, diags)) => {
            for d in &diags {
                eprintln!("{d}");
            }
            if a.strict && diags.iter().any(is_warning) {
                eprintln!("{path}: configuration refused (warnings under --strict)");
                return Err(EXIT_CONFIG);
            }
            Ok(side)
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            let n = diags.iter().filter(|d| d.is_error()).count();
            eprintln!("{path}: configuration refused ({n} error{})", plural(n));
            Err(EXIT_CONFIG)
        }
    }
}

/// `vigil check A --peer B`: each file alone, then the two as a pair.
fn check_pair(first: &str, second: &str, a: &CheckArgs) -> u8 {
    let x = read_side(first, None, a);
    let y = read_side(second, a.peer_id.as_deref(), a);
    let (x, y) = match (x, y) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    let found = vigil_config::pair::check_pair(&x, &y);
    for f in &found {
        eprintln!("{f}");
    }
    let errors = found.iter().filter(|f| f.is_error()).count();
    let warnings = found.len() - errors;
    let verdict = if errors > 0 || (a.strict && warnings > 0) {
        "pair inconsistent"
    } else {
        "pair consistent"
    };
    eprintln!(
        "{first} + {second}: {verdict} ({errors} error{}, {warnings} warning{})",
        plural(errors),
        plural(warnings)
    );
    if verdict == "pair consistent" {
        EXIT_OK
    } else {
        EXIT_CONFIG
    }
}

fn is_warning(d: &Diagnostic) -> bool {
    d.severity == vigil_config::Severity::Warning
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::from_args(&["vigil"], args).unwrap()
    }

    #[test]
    fn check_takes_a_peer_or_two_files() {
        match parse(&[
            "check",
            "-f",
            "a.conf",
            "--peer",
            "b.conf",
            "--peer-id",
            "r2",
        ])
        .command
        {
            Some(Sub::Check(a)) => {
                assert_eq!(a.use_file.as_deref(), Some("a.conf"));
                assert_eq!(a.peer.as_deref(), Some("b.conf"));
                assert_eq!(a.peer_id.as_deref(), Some("r2"));
            }
            other => panic!("{other:?}"),
        }
        match parse(&["check", "a.conf", "b.conf"]).command {
            Some(Sub::Check(a)) => assert_eq!(a.files, ["a.conf", "b.conf"]),
            other => panic!("{other:?}"),
        }
        let three = Cli::from_args(&["vigil"], &["check", "a", "b", "c"]).unwrap();
        match three.command {
            Some(Sub::Check(a)) => assert_eq!(check_any(&a), EXIT_USAGE),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keepalived_flags_without_subcommand() {
        let c = parse(&[
            "-f",
            "/x.conf",
            "-n",
            "-l",
            "-D",
            "-S",
            "3",
            "-p",
            "/run/v.pid",
        ]);
        assert_eq!(c.command, None);
        assert_eq!(c.use_file.as_deref(), Some("/x.conf"));
        assert!(c.dont_fork && c.log_console && c.log_detail);
        assert_eq!(c.log_facility, Some(3));
        let c = parse(&["--use-file", "/y.conf", "--config-test"]);
        assert!(c.config_test);
        assert_eq!(c.use_file.as_deref(), Some("/y.conf"));
    }

    #[test]
    fn subcommands() {
        let c = parse(&["run", "-f", "a", "--control", "/run/vigil.sock", "-n"]);
        let Some(Sub::Run(r)) = c.command else {
            panic!()
        };
        assert_eq!(
            (r.use_file.as_deref(), r.control.as_deref(), r.dont_fork),
            (Some("a"), Some("/run/vigil.sock"), true)
        );
        assert!(matches!(
            parse(&["check", "--strict"]).command,
            Some(Sub::Check(CheckArgs { strict: true, .. }))
        ));
        assert!(matches!(
            parse(&["compile", "a", "-o", "b"]).command,
            Some(Sub::Compile(_))
        ));
        assert!(matches!(parse(&["show", "a"]).command, Some(Sub::Show(_))));
        assert!(matches!(
            parse(&["ipvs", "--stats", "--json"]).command,
            Some(Sub::Ipvs(IpvsArgs {
                stats: true,
                rate: false,
                json: true
            }))
        ));
        assert!(
            Cli::from_args(&["vigil"], &["compile", "a"]).is_err(),
            "-o is required"
        );
    }
}
