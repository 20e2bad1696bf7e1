//! Per-turn cost of the analysis (`cargo bench --bench analysis_turn`):
//! every corpus line through a running call, many times; prints p50, p95,
//! p99 and max in microseconds; then the time of one customer turn and
//! one agent turn against their length (it grows linearly: long turns are
//! analysed in pieces).
//!
//! Wall time depends on the machine and on what else runs on it. The
//! instructions per turn do not: `-- --rounds 3 --turns-only` runs only
//! the per-turn part, three times over the corpus, short enough for
//! callgrind: `scripts/analysis_instructions.sh` runs it with
//! `--rounds 1 --turns-only` and prints the percentiles.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use callcoach::analysis::{AnalysisConfig, CallAnalysis, Lexicons, Turn};
use callcoach::events::Speaker;

/// `--rounds N`: passes over the corpus (default 20); `--turns-only`: no
/// time-against-length part.
fn options() -> (usize, bool) {
    let args: Vec<String> = std::env::args().collect();
    let rounds = args.iter().position(|a| a == "--rounds").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok()).unwrap_or(20);
    (rounds, args.iter().any(|a| a == "--turns-only"))
}

fn main() {
    let (rounds, turns_only) = options();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut lines: Vec<(Speaker, String)> = Vec::new();
    for (file, speaker) in [("customer.tsv", Speaker::Customer), ("agent.tsv", Speaker::Agent)] {
        let text = std::fs::read_to_string(root.join(file)).expect("corpus");
        for l in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
            if let Some(t) = l.split('\t').next() {
                lines.push((speaker, t.to_string()));
            }
        }
    }
    let lex = Arc::new(Lexicons::embedded().expect("lexicons"));
    let load = Instant::now();
    let _ = Lexicons::embedded();
    let load_ms = load.elapsed().as_secs_f64() * 1000.0;
    let mut call = CallAnalysis::new(lex, AnalysisConfig::default());
    let mut us: Vec<f64> = Vec::new();
    let mut t = 0.0;
    for _round in 0..rounds {
        for (speaker, text) in &lines {
            let start = Instant::now();
            let _ = call.turn(&Turn { speaker: *speaker, text, start: t, end: t + 3.0, duration_known: true, is_final: true, features: None });
            us.push(start.elapsed().as_secs_f64() * 1e6);
            t += 3.5;
        }
    }
    us.sort_by(f64::total_cmp);
    let q = |p: f64| us[((us.len() - 1) as f64 * p) as usize];
    println!("analysis per turn over {} turns ({} distinct lines)", us.len(), lines.len());
    println!("p50_us {:.0}  p95_us {:.0}  p99_us {:.0}  max_us {:.0}", q(0.5), q(0.95), q(0.99), us[us.len() - 1]);
    println!("lexicon_load_ms {load_ms:.1}");
    if turns_only {
        return;
    }
    // Time against length: one customer turn and one agent turn of n
    // characters (the agent's clauses are each read in their turn).
    let units =
        [(Speaker::Customer, "我要销户你们的信号太差了，乱扣话费，不是不想用"), (Speaker::Agent, "非常抱歉，这是公司规定，我也没办法，您去营业厅问问吧")];
    println!("speaker      chars      ms   us_per_char");
    for (speaker, unit) in units {
        for n in [100usize, 1_000, 10_000, 100_000, 400_000] {
            let text: String = unit.chars().cycle().take(n).collect();
            let mut call = CallAnalysis::new(Arc::new(Lexicons::embedded().expect("lexicons")), AnalysisConfig::default());
            let start = Instant::now();
            let _ = call.turn(&Turn { speaker, text: &text, start: 0.0, end: 3.0, duration_known: false, is_final: true, features: None });
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            println!("{:<9} {n:>8} {ms:>7.1} {:>13.2}", format!("{speaker:?}").to_lowercase(), ms * 1000.0 / n as f64);
        }
    }
}
