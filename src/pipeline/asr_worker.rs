//! The recogniser stage: one Whisper model, a decoder state per speaker,
//! then analysis and coaching inline (they take microseconds).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::Sender;

use super::queue::{AsrJob, AsrQueue};
use super::Clock;
use crate::analysis::{AnalysisConfig, CallAnalysis, Lexicons, Turn};
use crate::asr::{AsrError, DecoderState, Transcript, WhisperEngine};
use crate::coach::watch::{PlaybookWatcher, Reload};
use crate::coach::{Coach, CoachEvent, Playbook};
use crate::events::{round_ms, AcousticFeatures, Event, SegmentEvent, Speaker, StatusEvent, TimedEvent};
use crate::text::spoken_units;

/// What the worker needs besides the queue.
pub struct AsrWorkerParts {
    /// The loaded model.
    pub engine: WhisperEngine,
    /// Lexicons for the analysis.
    pub lexicons: Arc<Lexicons>,
    /// Analysis settings.
    pub analysis: AnalysisConfig,
    /// The playbook to start with.
    pub playbook: Arc<Playbook>,
    /// A watched playbook folder (reloaded on change), if any.
    pub watcher: Option<PlaybookWatcher>,
}

impl AsrWorkerParts {
    /// The built-in lexicons and playbook with default analysis settings.
    pub fn with_builtin_playbook(engine: WhisperEngine) -> Result<Self, String> {
        Ok(Self {
            engine,
            lexicons: Arc::new(Lexicons::embedded().map_err(|e| e.to_string())?),
            analysis: AnalysisConfig::default(),
            playbook: Arc::new(Playbook::builtin().map_err(|e| e.to_string())?),
            watcher: None,
        })
    }
}

struct Worker {
    engine: WhisperEngine,
    states: [DecoderState; 2],
    speculative: Vec<((Speaker, u64, u64), Transcript)>,
    call: CallAnalysis,
    coach: Coach,
    watcher: Option<PlaybookWatcher>,
    last_watch: Instant,
    last_lag_report: Option<Instant>,
    out: Sender<TimedEvent>,
    clock: Arc<Clock>,
    max_partial_samples: usize,
}

fn idx(s: Speaker) -> usize {
    match s {
        Speaker::Agent => 0,
        Speaker::Customer => 1,
    }
}

/// Starts the worker thread; it ends when the queue is closed and drained.
pub fn spawn_asr(parts: AsrWorkerParts, queue: Arc<AsrQueue>, out: Sender<TimedEvent>, clock: Arc<Clock>) -> Result<JoinHandle<()>, AsrError> {
    let states = [parts.engine.new_state()?, parts.engine.new_state()?];
    let mut w = Worker {
        call: CallAnalysis::new(parts.lexicons, parts.analysis),
        coach: Coach::new(parts.playbook),
        engine: parts.engine,
        states,
        speculative: Vec::new(),
        watcher: parts.watcher,
        last_watch: Instant::now(),
        last_lag_report: None,
        out,
        clock,
        max_partial_samples: 10 * 16_000,
    };
    std::thread::Builder::new()
        .name("asr".into())
        .spawn(move || {
            while let Some(job) = queue.pop() {
                if let Err(e) = w.handle(job, &queue) {
                    w.emit(Event::Status(StatusEvent { kind: "asr_error".into(), speaker: None, message: e.to_string() }));
                }
                w.housekeeping(&queue);
            }
        })
        .map_err(|e| AsrError::Config(format!("cannot start the recogniser thread: {e}")))
}

impl Worker {
    fn emit(&self, event: Event) {
        let _ = self.out.send(TimedEvent { t: round_ms(self.clock.t()), event });
    }

    fn handle(&mut self, job: AsrJob, queue: &AsrQueue) -> Result<(), AsrError> {
        match job {
            AsrJob::Final { speaker, start_sample, end_sample, speech_end_sample, samples, mut features, active_s, end_fed_at } => {
                let key = (speaker, start_sample, speech_end_sample);
                let waited_ms = end_fed_at.elapsed().as_secs_f64() * 1000.0;
                let (tr, ahead) = match self.speculative.iter().position(|(k, _)| *k == key) {
                    Some(p) => (self.speculative.swap_remove(p).1, true),
                    None => (self.engine.transcribe(&mut self.states[idx(speaker)], &samples)?, false),
                };
                tracing::debug!(%speaker, start_s = start_sample as f64 / 16_000.0, decoded_ahead = ahead, waited_ms, decode_ms = tr.decode_ms, "final");
                self.speculative.retain(|((s, _, _), _)| *s != speaker);
                if tr.text.is_empty() {
                    return Ok(());
                }
                let units = spoken_units(&tr.text);
                if active_s >= 0.5 {
                    features.chars_per_min = Some((units as f64 / active_s * 60.0).round() as f32);
                }
                let seg = SegmentEvent {
                    speaker,
                    start: round_ms(start_sample as f64 / 16_000.0),
                    end: round_ms(end_sample as f64 / 16_000.0),
                    text: tr.text.clone(),
                    is_final: true,
                    latency_ms: Some((end_fed_at.elapsed().as_secs_f64() * 1000.0).round()),
                    features: Some(features.clone()),
                    dropped: tr.dropped.iter().map(ToString::to_string).collect(),
                };
                self.emit(Event::Segment(seg));
                self.analyse(speaker, &tr.text, start_sample, end_sample, true, Some(&features));
            }
            AsrJob::Speculative { speaker, start_sample, speech_end_sample, samples } => {
                if queue.final_waiting() {
                    return Ok(());
                }
                // Not abortable: the final most likely to arrive meanwhile is
                // this very utterance, which then needs no decode of its own.
                let tr = self.engine.transcribe(&mut self.states[idx(speaker)], &samples)?;
                self.speculative.retain(|((s, _, _), _)| *s != speaker);
                self.speculative.push(((speaker, start_sample, speech_end_sample), tr));
            }
            AsrJob::Partial { speaker, start_sample, samples, fed_at } => {
                if queue.final_waiting() || samples.len() > self.max_partial_samples {
                    queue.count_skipped_partial_if(true);
                    return Ok(());
                }
                let Some(tr) = self.engine.transcribe_abortable(&mut self.states[idx(speaker)], &samples, Some(queue.preempt_flag()))? else {
                    queue.count_skipped_partial_if(true);
                    return Ok(());
                };
                if tr.text.is_empty() {
                    return Ok(());
                }
                let end_sample = start_sample + samples.len() as u64;
                self.emit(Event::Segment(SegmentEvent {
                    speaker,
                    start: round_ms(start_sample as f64 / 16_000.0),
                    end: round_ms(end_sample as f64 / 16_000.0),
                    text: tr.text.clone(),
                    is_final: false,
                    latency_ms: Some((fed_at.elapsed().as_secs_f64() * 1000.0).round()),
                    features: None,
                    dropped: Vec::new(),
                }));
                self.analyse(speaker, &tr.text, start_sample, end_sample, false, None);
            }
        }
        Ok(())
    }

    fn analyse(&mut self, speaker: Speaker, text: &str, start: u64, end: u64, is_final: bool, features: Option<&AcousticFeatures>) {
        let a = self.call.turn(&Turn {
            speaker,
            text,
            start: start as f64 / 16_000.0,
            end: end as f64 / 16_000.0,
            duration_known: true,
            is_final,
            features,
        });
        let coach_events = self.coach.on_analysis(&a);
        // Partials only matter when they carry churn intent.
        if is_final || a.churn.is_some_and(|c| c.intent) {
            self.emit(Event::Analysis(Box::new(a)));
        }
        for e in coach_events {
            self.emit(match e {
                CoachEvent::Card(c) => Event::Card(c),
                CoachEvent::Alert(al) => Event::Alert(al),
            });
        }
    }

    fn housekeeping(&mut self, queue: &AsrQueue) {
        for e in self.coach.tick(self.clock.t()) {
            if let CoachEvent::Card(c) = e {
                self.emit(Event::Card(c));
            }
        }
        if self.last_watch.elapsed().as_secs_f64() >= 2.0 {
            self.last_watch = Instant::now();
            let reload = self.watcher.as_mut().and_then(PlaybookWatcher::check);
            match reload {
                Some(Reload::Reloaded(pb)) => {
                    let n = pb.cards.len();
                    self.coach.set_playbook(pb);
                    self.emit(Event::Status(StatusEvent { kind: "playbook_reloaded".into(), speaker: None, message: format!("{n} cards") }));
                }
                Some(Reload::Failed(e)) => {
                    self.emit(Event::Status(StatusEvent {
                        kind: "playbook_error".into(),
                        speaker: None,
                        message: format!("the edited playbook is not valid; still using the previous one: {e}"),
                    }));
                }
                None => {}
            }
        }
        // Lag only means something when audio arrives in real time (a fast
        // replay floods the queue on purpose and waits for it).
        let st = queue.stats();
        if self.clock.is_realtime() && st.oldest_ms > 3000.0 && self.last_lag_report.is_none_or(|t| t.elapsed().as_secs() >= 10) {
            self.last_lag_report = Some(Instant::now());
            self.emit(Event::Status(StatusEvent {
                kind: "lagging".into(),
                speaker: None,
                message: format!("recognition is {:.1} s behind ({} utterances, {:.1} s of audio waiting)", st.oldest_ms / 1000.0, st.finals_waiting, st.queued_audio_s),
            }));
        }
    }
}
