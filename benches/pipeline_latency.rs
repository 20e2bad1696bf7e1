//! End of speech -> final segment latency of the live pipeline, both
//! channels active (`cargo bench --bench pipeline_latency`).
//!
//! Replays the bundled call in real time (as a live call would arrive) and
//! prints the latency percentiles of final segments, partial latency, and
//! memory. `CALLCOACH_BENCH_ROUNDS` (default 2) repeats the call.

mod common;

use std::time::Instant;

use callcoach::audio::wav::read_wav;
use callcoach::events::Event;
use common::pct;

fn main() {
    let rounds: usize = std::env::var("CALLCOACH_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let (mut finals, mut partials, mut longest) = (Vec::new(), Vec::new(), 0.0f64);
    let started = Instant::now();
    for _ in 0..rounds {
        let wav = read_wav(&common::sample_call()).expect("sample call");
        let run = common::replay(wav, true);
        for ev in run.events.iter() {
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
        run.join();
    }
    println!("pipeline, real time, both channels, {rounds} x samples/retention_call.wav ({:.0} s wall)", started.elapsed().as_secs_f64());
    println!(
        "final segments {} (longest {longest:.1} s): latency_ms p50 {:.0} p95 {:.0} max {:.0}",
        finals.len(),
        pct(&finals, 0.5),
        pct(&finals, 0.95),
        pct(&finals, 1.0)
    );
    if !partials.is_empty() {
        println!("partial segments {}: latency_ms p50 {:.0} p95 {:.0}", partials.len(), pct(&partials, 0.5), pct(&partials, 0.95));
    }
    if let Some(rss) = callcoach::sysinfo::peak_rss_mib() {
        println!("peak_rss_mib {rss:.0}");
    }
}
