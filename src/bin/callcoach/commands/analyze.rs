//! `callcoach analyze` and `callcoach eval`.

use std::io::BufRead;
use std::path::Path;

use anyhow::{bail, Context, Result};
use callcoach::analysis::{eval::evaluate, Analysis, CallAnalysis, Turn};
use callcoach::coach::{CardRef, Coach};
use callcoach::config::Config;
use callcoach::transcript::{estimated_duration_s, parse_line};

use super::{load_lexicons, load_playbook, out_line};
use crate::cli::{AnalyzeArgs, EvalArgs};

/// One line of `analyze` output: the analysis plus the card it brought up.
#[derive(serde::Serialize)]
struct AnalyzedLine<'a> {
    #[serde(flatten)]
    analysis: &'a Analysis,
    card: Option<CardRef>,
}

pub(super) fn run(cfg: &Config, args: &AnalyzeArgs) -> Result<()> {
    let lex = load_lexicons(cfg)?;
    let mut call = CallAnalysis::new(lex, cfg.analysis.clone());
    let mut coach = Coach::new(load_playbook(cfg)?);
    let (reader, name): (Box<dyn BufRead>, String) = if args.file == Path::new("-") {
        (Box::new(std::io::stdin().lock()), "<stdin>".into())
    } else {
        let f = std::fs::File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
        (Box::new(std::io::BufReader::new(f)), args.file.display().to_string())
    };
    let mut bad = 0usize;
    let mut clock = 0.0f64;
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line.with_context(|| format!("{name}:{}: reading", i + 1))?;
        // A line that is not UTF-8 is reported like any other bad line; the rest is analysed.
        let line = match String::from_utf8(line) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{name}:{}: not UTF-8 text (invalid byte at column {}); save the transcript as UTF-8", i + 1, e.utf8_error().valid_up_to() + 1);
                bad += 1;
                continue;
            }
        };
        let parsed = match parse_line(line.trim_end_matches('\r')) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(e) => {
                eprintln!("{name}:{}: {e}", i + 1);
                bad += 1;
                continue;
            }
        };
        let start = parsed.time_s.unwrap_or(clock + 0.5);
        let end = parsed.end_s.unwrap_or(start + estimated_duration_s(&parsed.text));
        clock = end;
        let a = call.turn(&Turn {
            speaker: parsed.speaker,
            text: &parsed.text,
            start,
            end,
            duration_known: parsed.end_s.is_some(),
            is_final: true,
            features: None,
        });
        let card = Coach::shown_ref(&coach.on_analysis(&a));
        out_line(&serde_json::to_string(&AnalyzedLine { analysis: &a, card })?)?;
    }
    if bad > 0 {
        bail!("{bad} line(s) of {name} could not be read (see above); the others were analysed");
    }
    Ok(())
}

pub(super) fn eval(cfg: &Config, args: &EvalArgs) -> Result<()> {
    let lex = load_lexicons(cfg)?;
    let report = evaluate(&args.corpus, lex)?;
    print!("{}", report.render(args.misses));
    let failures = report.failures();
    if args.check && !failures.is_empty() {
        bail!("floors not met: {}", failures.join("; "));
    }
    Ok(())
}
