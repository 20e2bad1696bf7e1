//! The `callcoach` binary: parse the command line into a validated
//! configuration, run the command, map errors to exit codes. Everything
//! else is in the library.

mod cli;
mod commands;
#[cfg(feature = "engine")]
mod signals;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn try_main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose);
    commands::run(cli)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        // whisper.cpp logs an aborted partial decode as an error; its real
        // failures reach the user through callcoach's own errors.
        0 => "warn,whisper_rs=off",
        1 => "info,whisper_rs=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}
