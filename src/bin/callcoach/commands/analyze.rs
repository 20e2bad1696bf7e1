//! `callcoach analyze` and `callcoach eval`.

use std::io::BufRead;
use std::path::Path;

use anyhow::{bail, Context, Result};
use callcoach::analysis::{eval::evaluate, Analysis, CallAnalysis, Turn};
use callcoach::coach::{CardRef, Coach};
use callcoach::config::Config;
use callcoach::events::Speaker;
use callcoach::text::spoken_units;

use super::{load_lexicons, load_playbook, out_line};
use crate::cli::{AnalyzeArgs, EvalArgs};

/// One parsed transcript line.
#[derive(Debug, PartialEq)]
pub(crate) struct TranscriptLine {
    pub speaker: Speaker,
    pub time_s: Option<f64>,
    pub end_s: Option<f64>,
    pub text: String,
}

/// Parses `[mm:ss] C: text`, `[12.5] A: text`, `[00:05-00:09] A: text`,
/// `C：text` and the like.
pub(crate) fn parse_line(line: &str) -> Result<Option<TranscriptLine>, String> {
    let mut rest = line.trim();
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let (mut time_s, mut end_s) = (None, None);
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']').ok_or("a `[` time prefix has no closing `]`")?;
        let t = after[..close].trim();
        let bad = |t: &str| format!("time {t:?} is neither mm:ss, hh:mm:ss nor seconds");
        match t.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_time(a.trim()).ok_or_else(|| bad(a))?, parse_time(b.trim()).ok_or_else(|| bad(b))?);
                if b <= a {
                    return Err(format!("time range {t:?} ends before it starts"));
                }
                (time_s, end_s) = (Some(a), Some(b));
            }
            None => time_s = Some(parse_time(t).ok_or_else(|| bad(t))?),
        }
        rest = after[close + 1..].trim_start();
    }
    let (who, text) = rest.split_once([':', '：']).ok_or("expected `C: text` or `A: text` (C = customer, A = agent)")?;
    let speaker = match who.trim() {
        "C" | "c" | "customer" | "客户" | "用户" => Speaker::Customer,
        "A" | "a" | "agent" | "坐席" | "客服" | "话务员" => Speaker::Agent,
        other => return Err(format!("unknown speaker {other:?}: use C (customer) or A (agent)")),
    };
    let text = text.trim();
    if text.is_empty() {
        return Err("the turn has no text".into());
    }
    Ok(Some(TranscriptLine { speaker, time_s, end_s, text: text.to_string() }))
}

fn parse_time(t: &str) -> Option<f64> {
    if t.contains(':') {
        let parts: Vec<&str> = t.split(':').collect();
        let mut secs = 0.0;
        for p in &parts {
            secs = secs * 60.0 + p.trim().parse::<f64>().ok()?;
        }
        (parts.len() <= 3).then_some(secs)
    } else {
        t.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)
    }
}

/// Spoken duration of a turn when the transcript gives none: about 4
/// characters per second, at least one second.
fn estimated_duration_s(text: &str) -> f64 {
    (spoken_units(text) as f64 / 4.0).max(1.0)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_lines_parse_with_and_without_times() {
        let l = parse_line("[01:05] C: 我要销户").unwrap().unwrap();
        assert_eq!((l.speaker, l.time_s, l.text.as_str()), (Speaker::Customer, Some(65.0), "我要销户"));
        let l = parse_line("[12.5] A：您好").unwrap().unwrap();
        assert_eq!((l.speaker, l.time_s), (Speaker::Agent, Some(12.5)));
        let l = parse_line("[00:05-00:09.5] A: 您好").unwrap().unwrap();
        assert_eq!((l.time_s, l.end_s), (Some(5.0), Some(9.5)));
        assert!(parse_line("[9-5] A: x").unwrap_err().contains("ends before"));
        assert_eq!(parse_line("客户: 你好").unwrap().unwrap().speaker, Speaker::Customer);
        assert!(parse_line("   ").unwrap().is_none());
        assert!(parse_line("# comment").unwrap().is_none());
        assert!(parse_line("X: hi").unwrap_err().contains("unknown speaker"));
        assert!(parse_line("[1:xx] C: hi").unwrap_err().contains("time"));
        assert!(parse_line("我要销户").unwrap_err().contains("expected"));
    }
}
