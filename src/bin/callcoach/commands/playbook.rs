//! `callcoach playbook check | list`.

use anyhow::{bail, Result};

use super::out_line;
use crate::cli::PlaybookCommand;
use callcoach::analysis::Lexicons;
use callcoach::coach::{Playbook, Stage};
use callcoach::config::Config;

pub(super) fn run(cfg: &Config, cmd: PlaybookCommand) -> Result<()> {
    match cmd {
        PlaybookCommand::Check { dir } => {
            let dir = dir.or_else(|| cfg.playbook.dir.clone());
            let (cards, lex) = match &dir {
                Some(d) => (Playbook::load_dir(d), Lexicons::load_dir(d).map(drop)),
                None => (Playbook::builtin(), Lexicons::embedded().map(drop)),
            };
            let mut problems: Vec<String> = Vec::new();
            match &cards {
                Ok(_) => {}
                Err(e) => problems.extend(e.0.iter().map(ToString::to_string)),
            }
            if let Err(e) = lex {
                problems.push(e.to_string());
            }
            if !problems.is_empty() {
                for p in &problems {
                    eprintln!("{p}");
                }
                bail!("{} problem(s) in the playbook {}", problems.len(), dir.map_or("<built-in>".into(), |d| d.display().to_string()));
            }
            if let Ok(pb) = cards {
                let count = |s: Stage| pb.cards.iter().filter(|c| c.stage == s).count();
                out_line(&format!(
                    "ok: {} cards (listen {}, empathize {}, propose {}, confirm {}, alert {}), lexicons ok",
                    pb.cards.len(),
                    count(Stage::Listen),
                    count(Stage::Empathize),
                    count(Stage::Propose),
                    count(Stage::Confirm),
                    count(Stage::Alert)
                ))?;
            }
            Ok(())
        }
        PlaybookCommand::List => {
            let pb = super::load_playbook(cfg)?;
            for (c, o) in pb.cards.iter().zip(&pb.origins) {
                out_line(&format!("{:<28} {:<10} {:>3}  {}  ({}:{})", c.id, c.stage.as_str(), c.priority, c.title, o.path.display(), o.line))?;
            }
            Ok(())
        }
    }
}
