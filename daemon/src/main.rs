//! The `vigil` binary: see [`vigil::cli`] for commands and exit codes.

fn main() -> std::process::ExitCode {
    vigil::cli::main()
}
