//! The queue between the DSP stage and the Whisper worker: a small
//! scheduler that reports its own length and lag. Final utterances are never
//! dropped (a full queue makes the producer wait, which pushes back to the
//! source); partial and speculative decodes keep only the latest per speaker
//! and are the first thing skipped under load, and every skip is counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::events::{AcousticFeatures, EndReason, Speaker};

/// The DSP stage's number for a call (the call thread gives it its id).
pub type CallTag = u64;

/// Work for the recogniser.
#[derive(Debug, Clone)]
pub enum AsrJob {
    /// A call begins at this sample: its first speech after idle. Goes
    /// through the queue in order with the finals.
    CallOpen {
        /// The call.
        call: CallTag,
        /// First sample of its first utterance (16 kHz, stream time).
        start_sample: u64,
    },
    /// The call ends; every final of it is ahead of this in the queue.
    CallClose {
        /// The call.
        call: CallTag,
        /// End of its last speech (16 kHz, stream time).
        end_sample: u64,
        /// Why.
        reason: EndReason,
    },
    /// A finished utterance.
    Final {
        /// The call it belongs to.
        call: CallTag,
        /// Whose.
        speaker: Speaker,
        /// First sample (16 kHz, channel time).
        start_sample: u64,
        /// One past the last sample.
        end_sample: u64,
        /// End of the last speech frame (matches a speculative decode).
        speech_end_sample: u64,
        /// The audio.
        samples: Vec<f32>,
        /// Loudness, pitch, overlap (rate is added once the text is known).
        features: AcousticFeatures,
        /// Seconds the speaker was talking (first to last speech frame).
        active_s: f64,
        /// When the audio at `end_sample` was fed to the pipeline.
        end_fed_at: Instant,
    },
    /// The utterance as it would end if the speaker has stopped: decoded
    /// ahead so the final can be emitted as soon as the silence is confirmed.
    Speculative {
        /// The call it belongs to.
        call: CallTag,
        /// Whose.
        speaker: Speaker,
        /// First sample.
        start_sample: u64,
        /// End of its last speech frame so far.
        speech_end_sample: u64,
        /// The audio.
        samples: Vec<f32>,
    },
    /// The utterance so far, while the speaker is still talking.
    Partial {
        /// The call it belongs to.
        call: CallTag,
        /// Whose.
        speaker: Speaker,
        /// First sample.
        start_sample: u64,
        /// Samples so far.
        samples: Vec<f32>,
        /// When the latest of these samples was fed.
        fed_at: Instant,
    },
}

/// Queue measurements.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueStats {
    /// Finals waiting now.
    pub finals_waiting: usize,
    /// Seconds of audio in waiting finals.
    pub queued_audio_s: f64,
    /// Age of the oldest waiting final.
    pub oldest_ms: f64,
    /// Most finals ever waiting.
    pub max_finals_waiting: usize,
    /// Largest lag seen (age of the oldest final when taken).
    pub max_lag_ms: f64,
    /// Partials replaced by a newer one before they were decoded, or given
    /// up for a final.
    pub partials_skipped: u64,
    /// Speculative decodes replaced before they were decoded.
    pub speculative_skipped: u64,
    /// Time producers waited because the queue was full.
    pub producer_wait_ms: f64,
}

#[derive(Default)]
struct State {
    finals: VecDeque<(Instant, AsrJob)>,
    speculative: [Option<AsrJob>; 2],
    partial: [Option<AsrJob>; 2],
    closed: bool,
    stats: QueueStats,
}

fn slot(s: Speaker) -> usize {
    match s {
        Speaker::Customer => 0,
        Speaker::Agent => 1,
    }
}

fn job_audio_s(j: &AsrJob) -> f64 {
    match j {
        AsrJob::Final { samples, .. } | AsrJob::Speculative { samples, .. } | AsrJob::Partial { samples, .. } => samples.len() as f64 / 16_000.0,
        AsrJob::CallOpen { .. } | AsrJob::CallClose { .. } => 0.0,
    }
}

/// The DSP -> ASR queue.
pub struct AsrQueue {
    state: Mutex<State>,
    cv: Condvar,
    max_queued_audio_s: f64,
    /// Set while a final waits: a partial or speculative decode in progress
    /// gives up so the final goes first.
    final_waiting: AtomicBool,
    /// Set while any job waits: a second-pass decode gives up so live work
    /// goes first.
    work_waiting: AtomicBool,
}

/// What [`AsrQueue::pop_timeout`] found.
#[derive(Debug)]
pub enum Popped {
    /// The next job.
    Job(AsrJob),
    /// Nothing came in time (the recogniser is idle).
    Idle,
    /// Closed and empty: no more jobs will come.
    Closed,
}

impl AsrQueue {
    /// A queue that holds at most `max_queued_audio_s` of final audio before
    /// the producer waits.
    pub fn new(max_queued_audio_s: f64) -> Self {
        Self {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            max_queued_audio_s,
            final_waiting: AtomicBool::new(false),
            work_waiting: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock means a worker panicked; the data is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a job. Finals wait for room; partial and speculative jobs
    /// replace an older one of the same speaker; call marks go in order
    /// with the finals.
    pub fn push(&self, job: AsrJob) {
        let mut st = self.lock();
        match &job {
            AsrJob::CallOpen { .. } | AsrJob::CallClose { .. } => {
                st.finals.push_back((Instant::now(), job));
            }
            AsrJob::Final { .. } => {
                let started = Instant::now();
                while !st.closed && st.stats.queued_audio_s + job_audio_s(&job) > self.max_queued_audio_s && !st.finals.is_empty() {
                    st = self.cv.wait_timeout(st, Duration::from_millis(50)).map(|r| r.0).unwrap_or_else(|p| p.into_inner().0);
                }
                st.stats.producer_wait_ms += started.elapsed().as_secs_f64() * 1000.0;
                st.stats.queued_audio_s += job_audio_s(&job);
                st.finals.push_back((Instant::now(), job));
                self.final_waiting.store(true, Ordering::Relaxed);
                st.stats.max_finals_waiting = st.stats.max_finals_waiting.max(st.finals.len());
                // A final supersedes any partial of the same speaker.
            }
            AsrJob::Speculative { speaker, .. } => {
                let i = slot(*speaker);
                if st.speculative[i].replace(job).is_some() {
                    st.stats.speculative_skipped += 1;
                }
            }
            AsrJob::Partial { speaker, .. } => {
                let i = slot(*speaker);
                if st.partial[i].replace(job).is_some() {
                    st.stats.partials_skipped += 1;
                }
            }
        }
        self.work_waiting.store(true, Ordering::Relaxed);
        drop(st);
        self.cv.notify_all();
    }

    /// Drops a waiting partial of `speaker` (its utterance just ended).
    pub fn drop_partial(&self, speaker: Speaker) {
        let mut st = self.lock();
        if st.partial[slot(speaker)].take().is_some() {
            st.stats.partials_skipped += 1;
        }
    }

    /// Counts a partial given up while decoding.
    pub fn count_skipped_partial_if(&self, skipped: bool) {
        if skipped {
            self.lock().stats.partials_skipped += 1;
        }
    }

    /// No more jobs will come.
    pub fn close(&self) {
        self.lock().closed = true;
        self.cv.notify_all();
    }

    /// Takes the next job: finals first, in the order the utterances ended
    /// (the analysis must see the call in order), then speculative decodes,
    /// then partials, the customer's before the agent's. None once closed
    /// and empty.
    pub fn pop(&self) -> Option<AsrJob> {
        loop {
            match self.pop_timeout(Duration::from_secs(3600)) {
                Popped::Job(job) => return Some(job),
                Popped::Closed => return None,
                Popped::Idle => {}
            }
        }
    }

    /// Like [`AsrQueue::pop`], but returns [`Popped::Idle`] when nothing
    /// comes within `timeout`.
    pub fn pop_timeout(&self, timeout: Duration) -> Popped {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        loop {
            if let Some(job) = Self::take_next(&mut st, &self.final_waiting) {
                let empty = st.finals.is_empty() && st.speculative.iter().all(Option::is_none) && st.partial.iter().all(Option::is_none);
                self.work_waiting.store(!empty, Ordering::Relaxed);
                drop(st);
                self.cv.notify_all();
                return Popped::Job(job);
            }
            self.work_waiting.store(false, Ordering::Relaxed);
            if st.closed {
                return Popped::Closed;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Popped::Idle;
            }
            st = self.cv.wait_timeout(st, left).map(|r| r.0).unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn take_next(st: &mut State, final_waiting: &AtomicBool) -> Option<AsrJob> {
        if let Some((at, job)) = st.finals.pop_front() {
            final_waiting.store(!st.finals.is_empty(), Ordering::Relaxed);
            st.stats.queued_audio_s = (st.stats.queued_audio_s - job_audio_s(&job)).max(0.0);
            st.stats.max_lag_ms = st.stats.max_lag_ms.max(at.elapsed().as_secs_f64() * 1000.0);
            return Some(job);
        }
        st.speculative.iter_mut().chain(st.partial.iter_mut()).find_map(Option::take)
    }

    /// The flag a second-pass decode watches to give way to live work.
    pub fn live_work_flag(&self) -> &AtomicBool {
        &self.work_waiting
    }

    /// True when a final is waiting (a speculative or partial decode then waits).
    pub fn final_waiting(&self) -> bool {
        self.final_waiting.load(Ordering::Relaxed)
    }

    /// The flag a partial decode watches to give way to a final.
    pub fn preempt_flag(&self) -> &AtomicBool {
        &self.final_waiting
    }

    /// Current measurements.
    pub fn stats(&self) -> QueueStats {
        let st = self.lock();
        let mut s = st.stats;
        s.finals_waiting = st.finals.len();
        s.oldest_ms = st.finals.front().map_or(0.0, |(at, _)| at.elapsed().as_secs_f64() * 1000.0);
        s
    }
}
