//! The command line's shape: keepalived's top-level flags and the
//! subcommands, as argh parses them.

use argh::FromArgs;

/// vigil: a keepalived-compatible VRRP and IPVS daemon. Without a
/// subcommand it runs, taking keepalived's flags.
#[derive(FromArgs, Debug, PartialEq)]
pub struct Cli {
    #[argh(subcommand)]
    pub(super) command: Option<Sub>,
    /// configuration file (text or binary; default /etc/vigil/vigil.conf,
    /// then /etc/keepalived/keepalived.conf)
    #[argh(option, short = 'f', long = "use-file")]
    pub(super) use_file: Option<String>,
    /// stay in the foreground
    #[argh(switch, short = 'n', long = "dont-fork")]
    pub(super) dont_fork: bool,
    /// log to the console
    #[argh(switch, short = 'l', long = "log-console")]
    pub(super) log_console: bool,
    /// detailed (debug) logging
    #[argh(switch, short = 'D', long = "log-detail")]
    pub(super) log_detail: bool,
    /// syslog facility LOG_LOCAL<N> (0..7)
    #[argh(option, short = 'S', long = "log-facility")]
    pub(super) log_facility: Option<u8>,
    /// pid file
    #[argh(option, short = 'p', long = "pid")]
    pub(super) pid: Option<String>,
    /// check the configuration and exit (keepalived -t)
    #[argh(switch, short = 't', long = "config-test")]
    pub(super) config_test: bool,
    /// config id for @ID conditional lines (default: the host name up to
    /// its first dot)
    #[argh(option, short = 'i', long = "config-id")]
    pub(super) config_id: Option<String>,
}

#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand)]
pub(super) enum Sub {
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
pub(super) struct CheckArgs {
    /// configuration file
    #[argh(option, short = 'f', long = "use-file")]
    pub(super) use_file: Option<String>,
    /// unknown keywords and any warning make the check fail
    #[argh(switch)]
    pub(super) strict: bool,
    /// config id for @ID conditional lines (default: the host name up to
    /// its first dot)
    #[argh(option, short = 'i', long = "config-id")]
    pub(super) config_id: Option<String>,
    /// detail: print what each conditional line, parameter and ~SEQ
    /// resolved to
    #[argh(switch, short = 'D', long = "log-detail")]
    pub(super) detail: bool,
    /// the other router's configuration: check that both are a
    /// consistent pair
    #[argh(option)]
    pub(super) peer: Option<String>,
    /// config id for the peer's @ID lines (default: the same as -i)
    #[argh(option)]
    pub(super) peer_id: Option<String>,
    /// one file (as -f), or two: the routers of a pair
    #[argh(positional)]
    pub(super) files: Vec<String>,
}

/// Compile a configuration to the compact binary form.
#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand, name = "compile")]
pub(super) struct CompileArgs {
    /// configuration file (text or binary)
    #[argh(positional)]
    pub(super) file: String,
    /// output file
    #[argh(option, short = 'o')]
    pub(super) output: String,
}

/// Ask the running daemon for the state of every instance.
#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand, name = "status")]
pub(super) struct StatusArgs {
    /// control socket path (default /run/vigil.sock)
    #[argh(option, long = "control")]
    pub(super) control: Option<String>,
    /// machine-readable JSON
    #[argh(switch)]
    pub(super) json: bool,
}

/// Print the kernel's IPVS table like `ipvsadm -Ln` (no daemon needed).
#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand, name = "ipvs")]
pub(super) struct IpvsArgs {
    /// counters (ipvsadm -Ln --stats)
    #[argh(switch)]
    pub(super) stats: bool,
    /// rates (ipvsadm -Ln --rate)
    #[argh(switch)]
    pub(super) rate: bool,
    /// machine-readable JSON
    #[argh(switch)]
    pub(super) json: bool,
}

/// Print a configuration (text or binary) as canonical keepalived.conf.
#[derive(FromArgs, Debug, PartialEq)]
#[argh(subcommand, name = "show")]
pub(super) struct ShowArgs {
    /// configuration file
    #[argh(positional)]
    pub(super) file: String,
    /// config id for @ID conditional lines (default: the host name up to
    /// its first dot)
    #[argh(option, short = 'i', long = "config-id")]
    pub(super) config_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::check::check_any;
    use crate::cli::EXIT_USAGE;

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
