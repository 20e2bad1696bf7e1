//! An hour-long call (`cargo bench --bench soak`): the bundled call repeated
//! with short pauses (one call: the pauses are under call_end_silence_s)
//! for 60 minutes of stereo audio, paced at 4x real time so latency is
//! measured; per 10 minutes of call: final-segment latency, the recognition
//! queue, and memory. Flat is the goal. `CALLCOACH_SOAK_MINUTES` and
//! `CALLCOACH_SOAK_SPEED` change it.

mod common;

use callcoach::audio::wav::read_wav;
use callcoach::events::Event;
use common::pct;

fn main() {
    let minutes: f64 = std::env::var("CALLCOACH_SOAK_MINUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(60.0);
    let speed: f64 = std::env::var("CALLCOACH_SOAK_SPEED").ok().and_then(|v| v.parse().ok()).unwrap_or(4.0);
    let mut wav = read_wav(&common::sample_call()).expect("sample call");
    let one: Vec<Vec<f32>> = wav.channels.clone();
    let pause = vec![0.0f32; (3.0 * wav.sample_rate_hz as f64) as usize];
    while wav.duration_s() < minutes * 60.0 {
        for (ch, src) in wav.channels.iter_mut().zip(&one) {
            ch.extend_from_slice(&pause);
            ch.extend_from_slice(src);
        }
    }
    let audio_s = wav.duration_s();
    println!("soak: {:.1} min of call audio at {speed}x real time", audio_s / 60.0);
    let run = common::replay_at(wav, Some(speed));
    let mut window: Vec<f64> = Vec::new();
    let mut next = 600.0;
    let mut calls = 0;
    println!("minute  finals  latency_p50_ms  latency_p95_ms  queue_waiting  queue_oldest_ms  rss_mib");
    let report = |m: f64, w: &mut Vec<f64>, run: &common::Run| {
        let q = run.pipeline.queue.stats();
        println!(
            "{:>6.0} {:>7} {:>15.0} {:>15.0} {:>14} {:>16.0} {:>8.0}",
            m / 60.0,
            w.len(),
            pct(w, 0.5),
            pct(w, 0.95),
            q.finals_waiting,
            q.oldest_ms,
            callcoach::sysinfo::rss_mib().unwrap_or(0.0)
        );
        w.clear();
    };
    for ev in run.events.iter() {
        match &ev.event {
            Event::CallStarted(_) => calls += 1,
            Event::Segment(s) if s.is_final => {
                window.extend(s.latency_ms);
                if s.end >= next {
                    report(next, &mut window, &run);
                    next += 600.0;
                }
            }
            _ => {}
        }
    }
    if !window.is_empty() {
        report(audio_s, &mut window, &run);
    }
    let q = run.pipeline.queue.stats();
    println!("calls: {calls} (one expected); queue max_lag_ms {:.0}; peak_rss_mib {:.0}", q.max_lag_ms, callcoach::sysinfo::peak_rss_mib().unwrap_or(0.0));
    run.join();
}
