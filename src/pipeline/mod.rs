//! The live spine: audio source -> DSP (resample, VAD, features) -> Whisper
//! -> analysis -> coach, each stage a thread talking to the next through a
//! channel, out comes one timeline of typed events.

pub mod asr_worker;
pub mod dsp;
pub mod queue;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver};

use crate::asr::AsrError;
use crate::audio::source::SourceMsg;
use crate::events::TimedEvent;

pub use asr_worker::AsrWorkerParts;
pub use dsp::DspConfig;
pub use queue::{AsrQueue, QueueStats};

/// The call clock that stamps events: seconds of audio fed so far (replay
/// as fast as possible), or wall time since the start (real time, live).
pub struct Clock {
    start: Instant,
    realtime: bool,
    fed_samples: AtomicU64,
}

impl Clock {
    /// A clock; `realtime` uses wall time.
    pub fn new(realtime: bool) -> Self {
        Self { start: Instant::now(), realtime, fed_samples: AtomicU64::new(0) }
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
            self.start.elapsed().as_secs_f64()
        } else {
            self.audio_s()
        }
    }
}

/// A running pipeline.
pub struct Pipeline {
    /// The event timeline.
    pub events: Receiver<TimedEvent>,
    /// The queue (for its measurements).
    pub queue: Arc<AsrQueue>,
    /// The call clock.
    pub clock: Arc<Clock>,
    handles: Vec<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the DSP and recogniser threads reading from `source`.
    pub fn start(source: Receiver<SourceMsg>, parts: AsrWorkerParts, dsp: DspConfig, realtime: bool, max_queued_audio_s: f64) -> Result<Self, AsrError> {
        let clock = Arc::new(Clock::new(realtime));
        let queue = Arc::new(AsrQueue::new(max_queued_audio_s));
        let (tx, rx) = bounded::<TimedEvent>(4096);
        let asr = asr_worker::spawn_asr(parts, queue.clone(), tx.clone(), clock.clone())?;
        let dsp = dsp::spawn_dsp(source, queue.clone(), tx, clock.clone(), dsp)
            .map_err(|e| AsrError::Config(format!("cannot start the DSP thread: {e}")))?;
        Ok(Self { events: rx, queue, clock, handles: vec![dsp, asr] })
    }

    /// Waits for the threads after the event stream has ended.
    pub fn join(self) {
        for h in self.handles {
            if h.join().is_err() {
                tracing::error!("a pipeline thread panicked");
            }
        }
    }
}
