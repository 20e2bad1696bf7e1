//! The application layer: one function per subcommand, adding context to
//! library errors with `anyhow`.

#[cfg(all(feature = "engine", feature = "overlay"))]
mod agent;
mod analyze;
#[cfg(feature = "board")]
mod board;
#[cfg(feature = "engine")]
mod link;
#[cfg(feature = "engine")]
mod live;
#[cfg(feature = "engine")]
mod model;
mod playbook;
#[cfg(feature = "engine")]
mod replay;
#[cfg(feature = "engine")]
mod timeline;
mod train;
#[cfg(feature = "engine")]
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
        #[cfg(feature = "engine")]
        Some(Command::Transcribe(args)) => transcribe::run(&cfg, &args),
        #[cfg(feature = "engine")]
        Some(Command::Model(cmd)) => model::run(&cfg, cmd),
        Some(Command::Analyze(args)) => analyze::run(&cfg, &args),
        Some(Command::Eval(args)) => analyze::eval(&cfg, &args),
        Some(Command::Train(args)) => train::run(&cfg, &args),
        Some(Command::Playbook(cmd)) => playbook::run(&cfg, cmd),
        #[cfg(feature = "board")]
        Some(Command::Board(args)) => board::run(&args),
        #[cfg(feature = "engine")]
        Some(Command::Replay(args)) => replay::run(&cfg, &args),
        #[cfg(feature = "engine")]
        Some(Command::Run(args)) => live::run(&cfg, &args),
        #[cfg(feature = "engine")]
        Some(Command::Devices(args)) => live::devices(&args),
        #[cfg(all(feature = "engine", feature = "overlay"))]
        Some(Command::Agent(args)) => agent::run(&cfg, &args),
        None => {
            anyhow::bail!("no command given; try `callcoach --help`")
        }
    }
}

/// The lexicons named by the config (a playbook folder, or the built-in ones).
pub(crate) fn load_lexicons(cfg: &callcoach::config::Config) -> Result<std::sync::Arc<callcoach::analysis::Lexicons>> {
    let lex = match &cfg.playbook.dir {
        Some(dir) => callcoach::analysis::Lexicons::load_dir(dir)?,
        None => callcoach::analysis::Lexicons::embedded()?,
    };
    Ok(std::sync::Arc::new(lex))
}

/// The coaching cards named by the config (a playbook folder, or the built-in ones).
pub(crate) fn load_playbook(cfg: &callcoach::config::Config) -> Result<std::sync::Arc<callcoach::coach::Playbook>> {
    let pb = match &cfg.playbook.dir {
        Some(dir) => callcoach::coach::Playbook::load_dir(dir)?,
        None => callcoach::coach::Playbook::builtin()?,
    };
    Ok(std::sync::Arc::new(pb))
}

/// Writes a line to stdout, treating a closed pipe (`| head`) as the end.
pub(crate) fn out_line(line: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}
