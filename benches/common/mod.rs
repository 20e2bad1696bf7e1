//! What the pipeline benches share: a recording through the real pipeline
//! on the built-in playbook, events to one lossless consumer.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;

use callcoach::asr::{AsrConfig, WhisperEngine};
use callcoach::audio::layout::channel_map;
use callcoach::audio::replay::spawn_replay;
use callcoach::audio::source::SourceMsg;
use callcoach::audio::wav::WavAudio;
use callcoach::config::AudioSection;
use callcoach::events::CallSource;
use callcoach::pipeline::{CallParts, Delivery, DspConfig, Fanout, Pipeline, PipelineParts, Subscription};

/// The bundled call.
pub fn sample_call() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/retention_call.wav")
}

/// A running replay of `wav`.
pub struct Run {
    pub pipeline: Pipeline,
    pub events: Subscription,
    pub replay: JoinHandle<()>,
}

impl Run {
    /// Waits for the end.
    pub fn join(self) {
        self.pipeline.join();
        let _ = self.replay.join();
    }
}

/// Replays `wav` through the pipeline, in real time or as fast as it goes.
pub fn replay(wav: WavAudio, realtime: bool) -> Run {
    replay_at(wav, realtime.then_some(1.0))
}

/// Replays `wav` paced at `speed` times real time (None: as fast as it goes);
/// latency is measured whenever the audio is paced.
pub fn replay_at(wav: WavAudio, speed: Option<f64>) -> Run {
    replay_with(wav, AsrConfig::default(), DspConfig::default(), speed)
}

/// Replays `wav` with these recogniser and scheduling settings.
pub fn replay_with(wav: WavAudio, asr: AsrConfig, dsp: DspConfig, speed: Option<f64>) -> Run {
    let map = channel_map(&wav, &AudioSection::default(), Path::new("bench")).expect("layout");
    let (tx, pipeline, events) = start_pipeline_with(asr, dsp, speed);
    let replay = spawn_replay(wav, map, speed, tx, Arc::new(AtomicBool::new(false))).expect("replay");
    Run { pipeline, events, replay }
}

/// The pipeline on the built-in playbook with one lossless consumer, fed
/// through the returned sender (paced at `speed`, or as fast as it goes).
pub fn start_pipeline(speed: Option<f64>) -> (crossbeam_channel::Sender<SourceMsg>, Pipeline, Subscription) {
    start_pipeline_with(AsrConfig::default(), DspConfig::default(), speed)
}

/// Like [`start_pipeline`] with these recogniser and scheduling settings.
pub fn start_pipeline_with(asr: AsrConfig, dsp: DspConfig, speed: Option<f64>) -> (crossbeam_channel::Sender<SourceMsg>, Pipeline, Subscription) {
    let engine = WhisperEngine::load(asr).expect("model: run `callcoach model install`");
    let calls = CallParts::builtin("bench", CallSource::File { path: "bench".into() }).expect("built-in playbook");
    let parts = PipelineParts { engine, calls, dsp, realtime: speed.is_some(), max_queued_audio_s: 120.0, epoch: None, speed: speed.unwrap_or(1.0) };
    let (tx, rx) = crossbeam_channel::bounded(256);
    let mut fanout = Fanout::new();
    let events = fanout.subscribe("bench", Delivery::Lossless);
    let pipeline = Pipeline::start(rx, tx.clone(), parts, fanout).expect("pipeline");
    (tx, pipeline, events)
}

/// The `p`-quantile of `v` (nearest rank).
pub fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * p).round() as usize]
}
