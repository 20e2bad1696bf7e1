//! Memory over a long call (`cargo bench --bench pipeline_memory`): a
//! 10-minute call (the bundled one repeated) replayed as fast as possible;
//! prints RSS every minute of call audio. Flat is the goal.

mod common;

use callcoach::audio::wav::read_wav;

fn main() {
    let minutes: f64 = std::env::var("CALLCOACH_BENCH_MINUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(10.0);
    let mut wav = read_wav(&common::sample_call()).expect("sample call");
    let one: Vec<Vec<f32>> = wav.channels.clone();
    while wav.duration_s() < minutes * 60.0 {
        for (ch, src) in wav.channels.iter_mut().zip(&one) {
            ch.extend_from_slice(src);
        }
    }
    let audio_s = wav.duration_s();
    let run = common::replay(wav, false);
    let mut next_minute = 1.0;
    let mut samples = Vec::new();
    let started = std::time::Instant::now();
    for ev in run.events.iter() {
        if ev.t / 60.0 >= next_minute {
            if let Some(rss) = callcoach::sysinfo::rss_mib() {
                samples.push((next_minute, rss));
            }
            next_minute += 1.0;
        }
    }
    run.join();
    println!(
        "{:.1} min call replayed in {:.0} s (real-time factor {:.3})",
        audio_s / 60.0,
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() / audio_s
    );
    for (m, rss) in &samples {
        println!("minute {m:>4.0}: rss_mib {rss:.0}");
    }
    if let Some(rss) = callcoach::sysinfo::peak_rss_mib() {
        println!("peak_rss_mib {rss:.0}");
    }
}
