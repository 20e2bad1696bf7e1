//! Recognition accuracy against speed, per decoding option
//! (`cargo bench --bench asr_accuracy`).
//!
//! Every call of `tests/asr_eval/<set>/` (stereo, agent left, customer
//! right, a reference `.tsv` beside each) goes through the real pipeline as
//! fast as it runs; the final text of each channel, revisions applied, is
//! scored against the reference (CER, numbers folded: 十二 = 12). Then the
//! first calls are replayed again in real time, both channels live, for the
//! end of speech -> final text latency and the process's CPU use.
//!
//! - `CALLCOACH_ASR_OPTIONS`: comma-separated options, each a `+`-joined list
//!   of `sized` (the default), `full`, `margin:N` (positions added to a sized
//!   context), `min:N` (smallest sized context), `beam:N`, `model:PATH`,
//!   `pass:off|sized|full` (the second pass over finished turns).
//! - `CALLCOACH_ASR_SETS`: comma-separated sets (default `dev`).
//! - `CALLCOACH_ASR_REALTIME_CALLS`: calls replayed in real time per option
//!   (default 2, 0 for none).
//! - `CALLCOACH_ASR_MODE=turns`: the recogniser alone on each reference turn
//!   cut from the call (no voice activity detection), to tell the decoder's
//!   errors from the segmentation's.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use callcoach::asr::{AsrConfig, SecondPass, WhisperEngine};
use callcoach::audio::resample::resample_all;
use callcoach::audio::wav::read_wav;
use callcoach::events::{Event, SegmentEvent, Speaker};
use callcoach::pipeline::DspConfig;
use callcoach::score::{cer, CerCounts};
use common::pct;

/// One option under test.
#[derive(Clone)]
struct Variant {
    name: String,
    asr: AsrConfig,
    dsp: DspConfig,
}

fn parse_option(spec: &str) -> Variant {
    let mut asr = AsrConfig::default();
    let dsp = DspConfig::default();
    for part in spec.split('+') {
        let (key, value) = part.split_once(':').unwrap_or((part, ""));
        let num = || value.parse::<i32>().unwrap_or_else(|_| panic!("{part}: a number is expected after ':'"));
        match key {
            "sized" => {}
            "full" => asr.sized_audio_ctx = false,
            "margin" => asr.audio_ctx_margin = num(),
            "min" => asr.min_audio_ctx = num(),
            "beam" => asr.beam_size = num() as usize,
            "model" => asr.model_path = PathBuf::from(value),
            "pass" => {
                asr.second_pass = match value {
                    "off" => SecondPass::Off,
                    "sized" => SecondPass::Sized,
                    "full" => SecondPass::Full,
                    other => panic!("pass:{other}: off, sized or full"),
                }
            }
            other => panic!("unknown option part {other:?} in {spec:?}"),
        }
    }
    Variant { name: spec.to_string(), asr, dsp }
}

/// One reference call.
struct EvalCall {
    wav: PathBuf,
    telephone: bool,
    reference: [String; 2],
    /// Speaker side, start and end in seconds, text.
    turns: Vec<(usize, f64, f64, String)>,
}

fn load_set(dir: &Path) -> Vec<EvalCall> {
    let mut calls = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    entries.sort();
    for wav in entries {
        let tsv = wav.with_extension("tsv");
        let text = std::fs::read_to_string(&tsv).unwrap_or_else(|e| panic!("{}: {e}", tsv.display()));
        let mut reference = [String::new(), String::new()];
        let mut turns = Vec::new();
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            let side = usize::from(f[2] == "customer");
            reference[side].push_str(f[3]);
            turns.push((side, f[0].parse().unwrap_or(0.0), f[1].parse().unwrap_or(0.0), f[3].to_string()));
        }
        let rate = hound::WavReader::open(&wav).map(|r| r.spec().sample_rate).unwrap_or(0);
        calls.push(EvalCall { wav, telephone: rate <= 8_000, reference, turns });
    }
    calls
}

/// The recogniser alone on each reference turn (0.2 s of margin each side).
fn decode_turns(call: &EvalCall, engine: &WhisperEngine) -> [String; 2] {
    let wav = read_wav(&call.wav).expect("eval call");
    let sides: Vec<Vec<f32>> = wav.channels.iter().map(|c| resample_all(c, wav.sample_rate_hz, 16_000)).collect();
    let mut states = [engine.new_state().expect("state"), engine.new_state().expect("state")];
    let mut text = [String::new(), String::new()];
    for (side, start, end, _) in &call.turns {
        let samples = &sides[*side];
        let a = (((start - 0.2).max(0.0)) * 16_000.0) as usize;
        let b = (((end + 0.2) * 16_000.0) as usize).min(samples.len());
        let tr = engine.transcribe(&mut states[*side], &samples[a.min(b)..b]).expect("decode");
        text[*side].push_str(&tr.text);
    }
    text
}

/// The final text of each channel, in time order, the latest revision of
/// every segment kept; and the final latencies when paced.
fn run_call(call: &EvalCall, opt: &Variant, speed: Option<f64>) -> ([String; 2], Vec<f64>) {
    let wav = read_wav(&call.wav).expect("eval call");
    let run = common::replay_with(wav, opt.asr.clone(), opt.dsp.clone(), speed);
    let mut finals: Vec<SegmentEvent> = Vec::new();
    let mut latencies = Vec::new();
    for ev in run.events.iter() {
        if let Event::Segment(s) = ev.event {
            if !s.is_final {
                continue;
            }
            if let (Some(l), 0) = (s.latency_ms, s.revision) {
                latencies.push(l);
            }
            // A revision replaces the finals of the turn it covers.
            finals.retain(|f| !s.replaces(f.speaker, f.start, f.end));
            finals.push(s);
        }
    }
    run.join();
    finals.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut text = [String::new(), String::new()];
    for f in finals {
        text[usize::from(f.speaker == Speaker::Customer)].push_str(&f.text);
    }
    (text, latencies)
}

#[derive(Default)]
struct Tally {
    sides: [CerCounts; 2],
    clean: CerCounts,
    telephone: CerCounts,
}

fn main() {
    let options: Vec<Variant> =
        std::env::var("CALLCOACH_ASR_OPTIONS").unwrap_or_else(|_| "sized,full".into()).split(',').filter(|s| !s.is_empty()).map(parse_option).collect();
    let sets: Vec<String> = std::env::var("CALLCOACH_ASR_SETS").unwrap_or_else(|_| "dev".into()).split(',').map(str::to_string).collect();
    let realtime_calls: usize = std::env::var("CALLCOACH_ASR_REALTIME_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let turns_mode = std::env::var("CALLCOACH_ASR_MODE").is_ok_and(|m| m == "turns");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asr_eval");
    println!(
        "{:<28} {:<8} {:>9} {:>9} {:>7} {:>7} {:>9} {:>8} {:>8} {:>8} {:>9}",
        "option", "set", "cer_agent", "cer_cust", "cer", "clean", "telephone", "decode_s", "p50_ms", "p95_ms", "cpu_cores"
    );
    for set in &sets {
        let calls = load_set(&root.join(set));
        for opt in &options {
            let mut tally = Tally::default();
            let started = Instant::now();
            let engine = turns_mode.then(|| WhisperEngine::load(opt.asr.clone()).expect("model"));
            for call in &calls {
                let text = match &engine {
                    Some(engine) => decode_turns(call, engine),
                    None => run_call(call, opt, None).0,
                };
                for (side, got) in text.iter().enumerate() {
                    let c = cer(&call.reference[side], got);
                    tally.sides[side].add(c);
                    if call.telephone {
                        tally.telephone.add(c);
                    } else {
                        tally.clean.add(c);
                    }
                }
            }
            let decode_s = started.elapsed().as_secs_f64();
            let (mut lat, mut cpu_s, mut wall_s) = (Vec::new(), 0.0, 0.0);
            for call in calls.iter().take(if turns_mode { 0 } else { realtime_calls }) {
                let (cpu0, t0) = (callcoach::sysinfo::cpu_time_s().unwrap_or(0.0), Instant::now());
                let (_, l) = run_call(call, opt, Some(1.0));
                cpu_s += callcoach::sysinfo::cpu_time_s().unwrap_or(0.0) - cpu0;
                wall_s += t0.elapsed().as_secs_f64();
                lat.extend(l);
            }
            let mut all = tally.sides[0];
            all.add(tally.sides[1]);
            let cores = if wall_s > 0.0 { format!("{:.2}", cpu_s / wall_s) } else { "-".into() };
            println!(
                "{:<28} {:<8} {:>9.3} {:>9.3} {:>7.3} {:>7.3} {:>9.3} {:>8.0} {:>8.0} {:>8.0} {:>9}",
                opt.name,
                set,
                tally.sides[0].rate(),
                tally.sides[1].rate(),
                all.rate(),
                tally.clean.rate(),
                tally.telephone.rate(),
                decode_s,
                pct(&lat, 0.5),
                pct(&lat, 0.95),
                cores
            );
        }
    }
}
