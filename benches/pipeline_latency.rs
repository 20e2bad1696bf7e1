//! End of speech -> final segment latency of the live pipeline, both
//! channels active (`cargo bench --bench pipeline_latency`).
//!
//! Replays the bundled call in real time (as a live call would arrive) and
//! prints the latency percentiles of final segments, partial latency, and
//! memory. `CALLCOACH_BENCH_ROUNDS` (default 2) repeats the call.

use std::path::Path;
use std::time::Instant;

use callcoach::asr::{AsrConfig, WhisperEngine};
use callcoach::audio::replay::{channel_map, spawn_replay};
use callcoach::audio::wav::read_wav;
use callcoach::config::AudioSection;
use callcoach::events::Event;
use callcoach::pipeline::{AsrWorkerParts, DspConfig, Pipeline};

fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let rounds: usize = std::env::var("CALLCOACH_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/retention_call.wav");
    let (mut finals, mut partials, mut longest) = (Vec::new(), Vec::new(), 0.0f64);
    let started = Instant::now();
    for _ in 0..rounds {
        let wav = read_wav(&path).expect("sample call");
        let map = channel_map(&wav, &AudioSection::default());
        let engine = WhisperEngine::load(AsrConfig::default()).expect("model: run `callcoach model install`");
        let parts = AsrWorkerParts::with_builtin_playbook(engine).expect("built-in playbook");
        let (tx, rx) = crossbeam_channel::bounded(256);
        let p = Pipeline::start(rx, parts, DspConfig::default(), true, 120.0).expect("pipeline");
        let replay = spawn_replay(wav, map, true, tx).expect("replay");
        for ev in p.events.iter() {
            if let Event::Segment(s) = &ev.event {
                match (s.is_final, s.latency_ms) {
                    (true, Some(l)) => {
                        finals.push(l);
                        longest = longest.max(s.end - s.start);
                    }
                    (false, Some(l)) => partials.push(l),
                    _ => {}
                }
            }
        }
        p.join();
        let _ = replay.join();
    }
    println!("pipeline, real time, both channels, {rounds} x samples/retention_call.wav ({:.0} s wall)", started.elapsed().as_secs_f64());
    println!("final segments {} (longest {longest:.1} s): latency_ms p50 {:.0} p95 {:.0} max {:.0}", finals.len(), pct(&finals, 0.5), pct(&finals, 0.95), pct(&finals, 1.0));
    if !partials.is_empty() {
        println!("partial segments {}: latency_ms p50 {:.0} p95 {:.0}", partials.len(), pct(&partials, 0.5), pct(&partials, 0.95));
    }
    if let Some(rss) = callcoach::sysinfo::peak_rss_mib() {
        println!("peak_rss_mib {rss:.0}");
    }
}
