//! Real-time factor of Whisper base on 2, 5 and 10 s Mandarin clips.
//!
//! `cargo bench --bench asr_rtf` (the model must be installed). Prints, per
//! clip length, the median and worst decode time over several runs and the
//! real-time factor (decode time / clip length), with the encoder context
//! sized to the clip and, for 5 s, with the full 30 s context for comparison.

use std::path::Path;
use std::time::Instant;

use callcoach::asr::{AsrConfig, WhisperEngine};

const RUNS: usize = 5;

fn load_clip_audio() -> Vec<f32> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zh");
    let mut all = Vec::new();
    let mut names: Vec<_> =
        std::fs::read_dir(&dir).expect("fixtures").filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "wav")).collect();
    names.sort();
    for p in names {
        let mut r = hound::WavReader::open(&p).expect("wav");
        all.extend(r.samples::<i16>().map(|s| s.unwrap_or(0) as f32 / 32768.0));
        all.extend(std::iter::repeat_n(0.0, 3200));
    }
    all
}

fn main() {
    let threads: usize = std::env::var("CALLCOACH_BENCH_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let audio = load_clip_audio();
    let mut table = Vec::new();
    for (secs, sized) in [(2usize, true), (5, true), (10, true), (5, false)] {
        let cfg = AsrConfig { threads, sized_audio_ctx: sized, ..AsrConfig::default() };
        let engine = match WhisperEngine::load(cfg) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("cannot load the model: {e}");
                std::process::exit(1);
            }
        };
        let mut state = engine.new_state().expect("state");
        let clip = &audio[..secs * 16_000];
        let _ = engine.transcribe(&mut state, clip); // warm-up
        let mut ms: Vec<f64> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let _ = engine.transcribe(&mut state, clip);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let median = ms[RUNS / 2];
        table.push((secs, sized, median, ms[RUNS - 1], median / 1000.0 / secs as f64));
    }
    println!("whisper base, {threads} threads, {RUNS} runs each");
    println!("{:>6} {:>10} {:>10} {:>9} {:>6}", "clip_s", "context", "median_ms", "max_ms", "rtf");
    for (secs, sized, median, max, rtf) in table {
        println!("{secs:>6} {:>10} {median:>10.0} {max:>9.0} {rtf:>6.3}", if sized { "sized" } else { "full 30s" });
    }
    if let Some(rss) = callcoach::sysinfo::peak_rss_mib() {
        println!("peak_rss_mib {rss:.0}");
    }
}
