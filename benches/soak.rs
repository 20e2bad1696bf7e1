//! An hour-long call (`cargo bench --bench soak`): the bundled call repeated
//! with short pauses (one call: the pauses are under call_end_silence_s)
//! for 60 minutes of stereo audio, generated as it is fed and paced at 4x
//! real time so latency is measured; per 10 minutes of call: final-segment
//! latency, the recognition queue, and the process's memory. Flat is the
//! goal. `CALLCOACH_SOAK_MINUTES` and `CALLCOACH_SOAK_SPEED` change it.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use callcoach::audio::layout::channel_map;
use callcoach::audio::source::SourceMsg;
use callcoach::audio::wav::read_wav;
use callcoach::config::AudioSection;
use callcoach::events::{EndReason, Event};
use common::pct;

fn main() {
    let minutes: f64 = std::env::var("CALLCOACH_SOAK_MINUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(60.0);
    let speed: f64 = std::env::var("CALLCOACH_SOAK_SPEED").ok().and_then(|v| v.parse().ok()).unwrap_or(4.0);
    let wav = read_wav(&common::sample_call()).expect("sample call");
    let rate = wav.sample_rate_hz;
    let map = channel_map(&wav, &AudioSection::default(), Path::new("soak")).expect("layout");
    // One loop: the call, then 3 s of quiet (under call_end_silence_s, so
    // the hour stays one call). The hour is generated as it is fed, so only
    // the pipeline's memory is measured, not an hour of samples held here.
    let pause = (3 * rate) as usize;
    let loop_len = wav.channels[0].len() + pause;
    let total = (minutes * 60.0 * rate as f64) as usize;
    println!("soak: {:.1} min of call audio at {speed}x real time", total as f64 / rate as f64 / 60.0);
    let (tx, pipeline, events) = common::start_pipeline(Some(speed));
    let feeder = std::thread::spawn(move || {
        let step = rate as usize / 50;
        let started = Instant::now();
        let mut pos = 0usize;
        while pos < total {
            let end = (pos + step).min(total);
            let due = Duration::from_secs_f64(end as f64 / rate as f64 / speed);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
            for &(speaker, ch) in &map {
                let samples: Vec<f32> = (pos..end).map(|i| wav.channels[ch].get(i % loop_len).copied().unwrap_or(0.0)).collect();
                if tx.send(SourceMsg::Audio { speaker, sample_rate_hz: rate, samples }).is_err() {
                    return;
                }
            }
            pos = end;
        }
        let _ = tx.send(SourceMsg::End { reason: EndReason::InputEnded });
    });
    let audio_s = total as f64 / rate as f64;
    let run = common::Run { pipeline, events, replay: feeder };
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
