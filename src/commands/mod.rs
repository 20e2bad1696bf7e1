//! The application layer: one function per subcommand, adding context to
//! library errors with `anyhow`.

mod model;
mod transcribe;

use std::io::Write;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let cfg = cli.resolve_config()?;
    if cli.print_config {
        print!("{}", cfg.to_toml());
        return Ok(());
    }
    match cli.command {
        Some(Command::Transcribe(args)) => transcribe::run(&cfg, &args),
        Some(Command::Model(cmd)) => model::run(&cfg, cmd),
        None => {
            anyhow::bail!("no command given; try `callcoach --help`")
        }
    }
}

/// Writes a line to stdout, treating a closed pipe (`| head`) as the end.
pub(crate) fn out_line(line: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}
