//! The live spine: audio source -> DSP (resample, VAD, features) -> Whisper
//! -> analysis -> coach, each stage a thread talking to the next through a
//! channel, out comes one timeline of typed events.

pub mod asr_worker;
pub mod calls;
pub mod dsp;
pub mod fanout;
pub mod queue;
pub mod turns;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{unbounded, Receiver, Sender};

use crate::asr::{AsrError, WhisperEngine};
use crate::audio::source::SourceMsg;
use crate::events::{CallId, CardFeedback, StatusEvent, SupervisorNote};

pub use calls::{CallParts, Control};
pub use dsp::DspConfig;
pub use fanout::{Delivery, Fanout, QueueReport, Subscription};
pub use queue::{AsrQueue, QueueStats};

/// The call clock that stamps events: seconds of audio fed so far (replay
/// as fast as possible), or wall time since the start (real time, live).
pub struct Clock {
    start: Instant,
    realtime: bool,
    /// Audio seconds per wall second when paced (1 for live).
    speed: f64,
    fed_samples: AtomicU64,
}

impl Clock {
    /// A clock; `realtime` uses wall time.
    pub fn new(realtime: bool) -> Self {
        Self::starting_at(Instant::now(), realtime)
    }

    /// A clock whose wall time starts at `start` (the moment the audio
    /// sources started, so stream time and wall time agree).
    pub fn starting_at(start: Instant, realtime: bool) -> Self {
        Self { start, realtime, speed: 1.0, fed_samples: AtomicU64::new(0) }
    }

    /// Audio comes paced at `speed` times real time (a soak test replays an
    /// hour in a quarter of it): wall time scaled is call time.
    pub fn with_speed(mut self, speed: f64) -> Self {
        self.speed = speed.max(0.01);
        self
    }

    /// Records how far the audio has been fed (16 kHz samples).
    pub fn fed(&self, samples: u64) {
        self.fed_samples.fetch_max(samples, Ordering::Relaxed);
    }

    /// Seconds of audio fed so far.
    pub fn audio_s(&self) -> f64 {
        self.fed_samples.load(Ordering::Relaxed) as f64 / 16_000.0
    }

    /// True when call time is wall time (live capture, `--realtime`).
    pub fn is_realtime(&self) -> bool {
        self.realtime
    }

    /// Call time now.
    pub fn t(&self) -> f64 {
        if self.realtime {
            self.start.elapsed().as_secs_f64() * self.speed
        } else {
            self.audio_s()
        }
    }
}

/// Everything a pipeline is made of.
pub struct PipelineParts {
    /// The loaded model.
    pub engine: WhisperEngine,
    /// Analysis, coach and call identity.
    pub calls: CallParts,
    /// Segmentation and decoding schedule.
    pub dsp: DspConfig,
    /// Audio arrives in real time (live capture, `--realtime`).
    pub realtime: bool,
    /// Finished utterances allowed to wait for Whisper before the source waits.
    pub max_queued_audio_s: f64,
    /// When the sources started (their audio's time 0); None: now.
    pub epoch: Option<Instant>,
    /// With `realtime`: audio seconds per wall second (1 but for soak tests).
    pub speed: f64,
}

/// What the agent's screen (or a command) can ask of a running pipeline.
#[derive(Clone)]
pub struct Controls {
    source: Sender<SourceMsg>,
    calls: Sender<CallMsg>,
}

use calls::CallMsg;

impl Controls {
    /// Ends the call in progress now (what is being said is kept).
    pub fn end_call(&self) {
        let _ = self.source.send(SourceMsg::EndCall);
    }

    /// Records the agent's verdict on a card.
    pub fn card_feedback(&self, feedback: CardFeedback) {
        let _ = self.calls.send(CallMsg::Control(Control::CardFeedback(feedback)));
    }

    /// Shows a supervisor's note in the call (if it is still in progress).
    pub fn note(&self, call_id: Option<CallId>, note: SupervisorNote) {
        let _ = self.calls.send(CallMsg::Control(Control::Note { call_id, note }));
    }

    /// Reports a condition of a part outside the pipeline (the board link)
    /// on the event stream, so every screen shows it.
    pub fn status(&self, status: StatusEvent) {
        let _ = self.calls.send(CallMsg::Status { stream_s: 0.0, status });
    }
}

/// A running pipeline: DSP, recogniser and call threads.
pub struct Pipeline {
    /// The DSP -> recogniser queue (for its measurements).
    pub queue: Arc<AsrQueue>,
    /// The call clock.
    pub clock: Arc<Clock>,
    controls: Controls,
    handles: Vec<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the threads reading from `source`; events go to `fanout`'s
    /// consumers (subscribe them first). `source_tx` is a sender of the same
    /// channel, kept for [`Controls::end_call`].
    pub fn start(source: Receiver<SourceMsg>, source_tx: Sender<SourceMsg>, parts: PipelineParts, fanout: Fanout) -> Result<Self, AsrError> {
        let clock = Arc::new(Clock::starting_at(parts.epoch.unwrap_or_else(Instant::now), parts.realtime).with_speed(parts.speed));
        let queue = Arc::new(AsrQueue::new(parts.max_queued_audio_s));
        let (calls_tx, calls_rx) = unbounded::<CallMsg>();
        let thread_err = |what: &str, e: std::io::Error| AsrError::Config(format!("cannot start the {what} thread: {e}"));
        let calls = calls::spawn_calls(parts.calls, calls_rx, fanout, clock.clone(), queue.clone()).map_err(|e| thread_err("call", e))?;
        let asr = asr_worker::spawn_asr(parts.engine, queue.clone(), calls_tx.clone(), clock.clone())?;
        let dsp = dsp::spawn_dsp(source, queue.clone(), calls_tx.clone(), clock.clone(), parts.dsp).map_err(|e| thread_err("DSP", e))?;
        Ok(Self { queue, clock, controls: Controls { source: source_tx, calls: calls_tx }, handles: vec![dsp, asr, calls] })
    }

    /// A handle for the agent's screen.
    pub fn controls(&self) -> Controls {
        self.controls.clone()
    }

    /// Waits for the threads: the input has ended and every event is out.
    pub fn join(self) {
        for h in self.handles {
            if h.join().is_err() {
                tracing::error!("a pipeline thread panicked");
            }
        }
    }
}
