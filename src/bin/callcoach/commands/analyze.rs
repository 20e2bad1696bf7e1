//! `callcoach analyze` and `callcoach eval`.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use callcoach::analysis::eval::{evaluate, EvalReport};
use callcoach::analysis::learned::pinned::Pinned;
use callcoach::analysis::learned::train::is_pinned;
use callcoach::analysis::learned::LearnedModels;
use callcoach::analysis::{Analysis, CallAnalysis, Lexicons, Turn};
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
    let mut lex = load_lexicons(cfg)?;
    if args.rules_only {
        lex = Arc::new(Lexicons { models: LearnedModels::none(), ..(*lex).clone() });
    }
    let mut sets = vec![args.corpus.clone()];
    if !args.flat {
        sets.extend(labelled_subfolders(&args.corpus).with_context(|| format!("listing {}", args.corpus.display()))?);
    }
    let mut summary = vec![summary_header()];
    let mut failures = Vec::new();
    for set in &sets {
        if is_pinned(set) {
            failures.extend(pinned(set, lex.clone(), cfg)?);
            continue;
        }
        let report = evaluate(set, lex.clone(), &cfg.analysis)?;
        if sets.len() > 1 {
            println!("== {}", set.display());
        }
        print!("{}", report.render(args.misses));
        summary.push(summary_row(&set.display().to_string(), &report));
        failures.extend(report.failures().into_iter().map(|f| format!("{}: {f}", set.display())));
    }
    if sets.len() > 1 {
        println!("\n== every set ({})", if args.rules_only { "rules only" } else { "rules and learned models" });
        for line in summary {
            println!("{line}");
        }
    }
    if args.check && !failures.is_empty() {
        bail!("floors not met: {}", failures.join("; "));
    }
    Ok(())
}

/// A pinned folder is not a measurement: it lists the pinned labels the
/// analysis gets wrong (each a failure under `--check`).
fn pinned(set: &Path, lex: Arc<Lexicons>, cfg: &Config) -> Result<Vec<String>> {
    let p = Pinned::read(set).with_context(|| format!("reading the pinned lines in {}", set.display()))?;
    let misses = p.all_misses(lex, &cfg.analysis);
    let (customer, agent) = p.counts();
    println!("== {} (pinned lines, checked by `callcoach train`; not a measurement)", set.display());
    println!("{customer} customer and {agent} agent lines; pinned labels this analysis gets wrong: {}", misses.len());
    let mut failures = Vec::new();
    for m in misses {
        println!("  {:<10} expected {:<12} got {}: {}", m.label, m.expected, m.got, m.text);
        failures.push(format!("{}: pinned {} wrong: {}", set.display(), m.label, m.text));
    }
    Ok(failures)
}

/// Sub-folders holding a customer.tsv, sorted.
fn labelled_subfolders(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("customer.tsv").is_file()).collect();
    v.sort();
    Ok(v)
}

fn summary_header() -> String {
    format!(
        "{:<24} {:>5} {:>5} {:>17} {:>7} {:>7} {:>13} {:>8} {:>8}",
        "set", "cust", "agent", "churn F1 (P/R)", "reason", "calm", "inflaming R/P", "empathy", "choice"
    )
}

fn summary_row(name: &str, r: &EvalReport) -> String {
    let agent = r.empathy.tp + r.empathy.fp + r.empathy.fn_ + r.empathy.tn;
    format!(
        "{name:<24} {:>5} {agent:>5} {:>17} {:>7.3} {:>7.3} {:>13} {:>8.3} {:>8.3}",
        r.reason_total,
        format!("{:.3} ({:.2}/{:.2})", r.churn.f1(), r.churn.precision(), r.churn.recall()),
        r.reason_accuracy(),
        r.not_calm.accuracy(),
        format!("{:.3}/{:.3}", r.inflaming.recall(), r.inflaming.precision()),
        r.empathy.f1(),
        r.choice.f1()
    )
}
