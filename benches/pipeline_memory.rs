//! Memory over a long call (`cargo bench --bench pipeline_memory`): a
//! 10-minute call (the bundled one repeated) replayed as fast as possible;
//! prints RSS every minute of call audio. Flat is the goal.

use std::path::Path;

use callcoach::asr::{AsrConfig, WhisperEngine};
use callcoach::audio::replay::{channel_map, spawn_replay};
use callcoach::audio::wav::read_wav;
use callcoach::config::AudioSection;
use callcoach::pipeline::{AsrWorkerParts, DspConfig, Pipeline};

fn main() {
    let minutes: f64 = std::env::var("CALLCOACH_BENCH_MINUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(10.0);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/retention_call.wav");
    let mut wav = read_wav(&path).expect("sample call");
    let one: Vec<Vec<f32>> = wav.channels.clone();
    while wav.duration_s() < minutes * 60.0 {
        for (ch, src) in wav.channels.iter_mut().zip(&one) {
            ch.extend_from_slice(src);
        }
    }
    let audio_s = wav.duration_s();
    let map = channel_map(&wav, &AudioSection::default());
    let parts = AsrWorkerParts::with_builtin_playbook(WhisperEngine::load(AsrConfig::default()).expect("model: run `callcoach model install`")).expect("built-in playbook");
    let (tx, rx) = crossbeam_channel::bounded(256);
    let p = Pipeline::start(rx, parts, DspConfig::default(), false, 120.0).expect("pipeline");
    let replay = spawn_replay(wav, map, false, tx).expect("replay");
    let mut next_minute = 1.0;
    let mut samples = Vec::new();
    let started = std::time::Instant::now();
    for ev in p.events.iter() {
        if ev.t / 60.0 >= next_minute {
            if let Some(rss) = callcoach::sysinfo::rss_mib() {
                samples.push((next_minute, rss));
            }
            next_minute += 1.0;
        }
    }
    p.join();
    let _ = replay.join();
    println!("{:.1} min call replayed in {:.0} s (real-time factor {:.3})", audio_s / 60.0, started.elapsed().as_secs_f64(), started.elapsed().as_secs_f64() / audio_s);
    for (m, rss) in &samples {
        println!("minute {m:>4.0}: rss_mib {rss:.0}");
    }
    if let Some(rss) = callcoach::sysinfo::peak_rss_mib() {
        println!("peak_rss_mib {rss:.0}");
    }
}
