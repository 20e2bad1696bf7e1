//! The call thread: calls as units. It receives recognised text in call
//! order, runs the analysis and the coach (off the Whisper thread), stamps
//! every event with its call's id, gap-free `seq` and call time, builds the
//! call's summary, and hands the events to the fan-out.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::fanout::Fanout;
use super::queue::{AsrQueue, CallTag};
use super::Clock;
use crate::analysis::{AnalysisConfig, Lexicons};
use crate::call::{Call, TurnIn};
use crate::coach::watch::{PlaybookWatcher, Reload};
use crate::coach::Playbook;
use crate::events::{
    round_ms, AcousticFeatures, CallId, CallSource, CallStarted, CardFeedback, EndReason, Event, Speaker, StatusEvent, StatusKind, SupervisorNote, TimedEvent,
};

const SAMPLE_RATE_HZ: f64 = 16_000.0;

/// Text the recogniser made of an utterance (or of its beginning).
#[derive(Debug, Clone)]
pub struct Recognised {
    /// The call it belongs to.
    pub call: CallTag,
    /// Whose.
    pub speaker: Speaker,
    /// First sample (16 kHz, stream time).
    pub start_sample: u64,
    /// One past the last sample.
    pub end_sample: u64,
    /// False for a partial.
    pub is_final: bool,
    /// From the last sample fed to now (real time only).
    pub latency_ms: Option<f64>,
    /// Acoustic features (finals).
    pub features: Option<AcousticFeatures>,
    /// What the output filters removed.
    pub dropped: Vec<String>,
    /// The text.
    pub text: String,
    /// 0 live; 1 the second pass over a finished turn (replaces the finals
    /// of that speaker between `start_sample` and `end_sample`).
    pub revision: u32,
}

/// Something the agent or a supervisor did, to be recorded in the call.
#[derive(Debug, Clone)]
pub enum Control {
    /// The agent marked a card used or dismissed.
    CardFeedback(CardFeedback),
    /// A supervisor's note for the call in progress (`call_id` None: whatever
    /// call is in progress).
    Note {
        /// The call the supervisor was looking at.
        call_id: Option<CallId>,
        /// The note.
        note: SupervisorNote,
    },
}

/// What the call thread receives.
#[derive(Debug)]
pub enum CallMsg {
    /// A call begins (from the DSP stage, through the recogniser, in order).
    Open {
        /// The call.
        call: CallTag,
        /// Its first sample.
        start_sample: u64,
    },
    /// Recognised text.
    Recognised(Recognised),
    /// The call ends; all of its text came before.
    Close {
        /// The call.
        call: CallTag,
        /// End of its last speech.
        end_sample: u64,
        /// Why.
        reason: EndReason,
    },
    /// A pipeline condition.
    Status {
        /// Stream time of it, seconds.
        stream_s: f64,
        /// The status.
        status: StatusEvent,
    },
    /// The agent's or a supervisor's action.
    Control(Control),
    /// The recogniser has finished: no more input will come.
    InputDone,
}

/// What the call thread needs.
pub struct CallParts {
    /// Lexicons for the analysis.
    pub lexicons: Arc<Lexicons>,
    /// Analysis settings.
    pub analysis: AnalysisConfig,
    /// The playbook to start with.
    pub playbook: Arc<Playbook>,
    /// A watched playbook folder (cards and lexicons reloaded on change).
    pub watcher: Option<PlaybookWatcher>,
    /// The agent's name, for `call_started`.
    pub agent: String,
    /// Devices or file, for `call_started`.
    pub source: CallSource,
}

impl CallParts {
    /// The built-in lexicons and playbook with default settings.
    pub fn builtin(agent: &str, source: CallSource) -> Result<Self, String> {
        Ok(Self {
            lexicons: Arc::new(Lexicons::embedded().map_err(|e| e.to_string())?),
            analysis: AnalysisConfig::default(),
            playbook: Arc::new(Playbook::builtin().map_err(|e| e.to_string())?),
            watcher: None,
            agent: agent.into(),
            source,
        })
    }
}

struct OpenCall {
    call: Call,
    tag: CallTag,
    start_sample: u64,
    /// Call time of the latest audio the call's events were about (used as
    /// `t` when the audio does not arrive in real time).
    audio_t: f64,
}

struct CallThread {
    parts: CallParts,
    open: Option<OpenCall>,
    fanout: Fanout,
    clock: Arc<Clock>,
    queue: Arc<AsrQueue>,
    last_watch: Instant,
    last_lag_report: Option<Instant>,
    last_behind_check: Instant,
}

/// Starts the call thread.
pub fn spawn_calls(parts: CallParts, rx: Receiver<CallMsg>, fanout: Fanout, clock: Arc<Clock>, queue: Arc<AsrQueue>) -> std::io::Result<JoinHandle<()>> {
    let mut th = CallThread { parts, open: None, fanout, clock, queue, last_watch: Instant::now(), last_lag_report: None, last_behind_check: Instant::now() };
    std::thread::Builder::new().name("calls".into()).spawn(move || {
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(CallMsg::InputDone) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(msg) => th.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
            }
            th.housekeeping();
        }
        // The DSP stage closes every call before the input ends; a call
        // still open here lost its close (a stage failed): end it anyway.
        if let Some((tag, end)) = th.open.as_ref().map(|c| (c.tag, c.start_sample + (c.audio_t * SAMPLE_RATE_HZ) as u64)) {
            th.close(tag, end, EndReason::Shutdown);
        }
        th.report_behind();
    })
}

fn unix_ms_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn to_s(samples: u64) -> f64 {
    samples as f64 / SAMPLE_RATE_HZ
}

impl CallThread {
    /// Call time now: wall time in real time, else the audio reached.
    fn now(&self, c: &OpenCall) -> f64 {
        if self.clock.is_realtime() {
            (self.clock.t() - to_s(c.start_sample)).max(0.0)
        } else {
            c.audio_t
        }
    }

    /// Stamps and publishes an event: in the open call, or between calls.
    fn emit(&mut self, event: Event) {
        let ev = match self.open.as_ref() {
            Some(c) => {
                let t = self.now(c);
                let Some(c) = self.open.as_mut() else { return };
                c.call.stamp(t, event)
            }
            None => TimedEvent::idle(self.clock.t(), event),
        };
        self.fanout.publish(&ev);
    }

    fn publish(&mut self, events: Vec<TimedEvent>) {
        for ev in &events {
            self.fanout.publish(ev);
        }
    }

    fn status(&mut self, kind: StatusKind, message: String) {
        self.emit(Event::Status(StatusEvent { kind, speaker: None, message }));
    }

    fn handle(&mut self, msg: CallMsg) {
        match msg {
            CallMsg::Open { call, start_sample } => self.open_call(call, start_sample),
            CallMsg::Recognised(r) => self.recognised(r),
            CallMsg::Close { call, end_sample, reason } => self.close(call, end_sample, reason),
            CallMsg::Status { stream_s: _, status } => self.emit(Event::Status(status)),
            CallMsg::Control(Control::CardFeedback(f)) => {
                if self.open.is_some() {
                    self.emit(Event::CardFeedback(f));
                } else {
                    tracing::info!(card = %f.card_id, "card feedback after the call ended; not recorded");
                }
            }
            CallMsg::Control(Control::Note { call_id, note }) => match self.open.as_ref() {
                Some(c) if call_id.is_none_or(|id| id == c.call.id()) => self.emit(Event::Note(note)),
                _ => tracing::warn!(from = %note.from, "a supervisor note arrived for a call that is not in progress; not shown"),
            },
            CallMsg::InputDone => {}
        }
    }

    fn open_call(&mut self, tag: CallTag, start_sample: u64) {
        if let Some(c) = self.open.as_ref() {
            let end = c.start_sample + (c.audio_t * SAMPLE_RATE_HZ) as u64;
            self.close(c.tag, end, EndReason::Silence);
        }
        let started = CallStarted {
            agent: self.parts.agent.clone(),
            source: self.parts.source.clone(),
            started_at_unix_ms: unix_ms_now(),
            input_offset_s: round_ms(to_s(start_sample)),
        };
        let (call, first) = Call::start(self.parts.lexicons.clone(), self.parts.analysis.clone(), self.parts.playbook.clone(), started);
        self.open = Some(OpenCall { call, tag, start_sample, audio_t: 0.0 });
        self.fanout.publish(&first);
    }

    fn recognised(&mut self, r: Recognised) {
        let Some(c) = self.open.as_mut().filter(|c| c.tag == r.call) else {
            // A partial of a call that has already ended.
            tracing::debug!(call = r.call, "text of a call no longer open; dropped");
            return;
        };
        let start = to_s(r.start_sample.saturating_sub(c.start_sample));
        let end = to_s(r.end_sample.saturating_sub(c.start_sample));
        c.audio_t = c.audio_t.max(end);
        let Some(c) = self.open.as_ref() else { return };
        let t = self.now(c);
        let turn = TurnIn {
            speaker: r.speaker,
            text: &r.text,
            start,
            end,
            duration_known: true,
            is_final: r.is_final,
            latency_ms: r.latency_ms,
            features: r.features,
            dropped: r.dropped,
            revision: r.revision,
        };
        let events = match self.open.as_mut() {
            Some(c) => c.call.turn(t, turn),
            None => return,
        };
        self.publish(events);
    }

    fn close(&mut self, tag: CallTag, end_sample: u64, reason: EndReason) {
        if self.open.as_ref().is_none_or(|c| c.tag != tag) {
            return;
        }
        let Some(c) = self.open.take() else { return };
        let duration_s = round_ms(to_s(end_sample.saturating_sub(c.start_sample)).max(c.audio_t));
        let t = if self.clock.is_realtime() { self.now(&c) } else { duration_s };
        let ended = c.call.end(t, duration_s, reason);
        self.fanout.publish(&ended);
    }

    fn housekeeping(&mut self) {
        if let Some(c) = self.open.as_ref() {
            let t = self.now(c);
            let expired = self.open.as_mut().map(|c| c.call.tick(t)).unwrap_or_default();
            self.publish(expired);
        }
        if self.last_watch.elapsed() >= Duration::from_secs(2) {
            self.last_watch = Instant::now();
            self.reload();
        }
        // Lag only means something when audio arrives in real time (a fast
        // replay floods the queue on purpose and waits for it).
        let st = self.queue.stats();
        if self.clock.is_realtime() && st.oldest_ms > 3000.0 && self.last_lag_report.is_none_or(|t| t.elapsed().as_secs() >= 10) {
            self.last_lag_report = Some(Instant::now());
            self.status(
                StatusKind::Lagging,
                format!("recognition is {:.1} s behind ({} utterances, {:.1} s of audio waiting)", st.oldest_ms / 1000.0, st.finals_waiting, st.queued_audio_s),
            );
        }
        if self.last_behind_check.elapsed() >= Duration::from_secs(5) {
            self.last_behind_check = Instant::now();
            self.report_behind();
        }
    }

    fn report_behind(&mut self) {
        for b in self.fanout.behind() {
            let message = format!("{} fell behind: {} events dropped ({} in all); it shows the latest state", b.name, b.dropped, b.dropped_total);
            tracing::warn!("{message}");
            self.status(StatusKind::ConsumerBehind, message);
        }
    }

    fn reload(&mut self) {
        let Some(w) = self.parts.watcher.as_mut() else { return };
        match w.check() {
            Some(Reload::Reloaded { playbook, lexicons }) => {
                let n = playbook.cards.len();
                self.parts.playbook = playbook.clone();
                self.parts.lexicons = lexicons.clone();
                self.status(StatusKind::PlaybookReloaded, format!("{n} cards; lexicons reloaded"));
                let t = self.open.as_ref().map_or(0.0, |c| self.now(c));
                let cleared = self.open.as_mut().map(|c| c.call.reload(t, playbook, lexicons)).unwrap_or_default();
                self.publish(cleared);
            }
            Some(Reload::Failed(e)) => {
                self.status(StatusKind::PlaybookError, format!("the edited playbook is not valid; still using the previous one: {e}"));
            }
            None => {}
        }
    }
}
