//! The recogniser stage: one Whisper model, a decoder state per speaker.
//! It decodes what the queue hands it and passes the text on, in order, to
//! the call thread; analysis and coaching happen there, off this thread.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use super::calls::{CallMsg, Recognised};
use super::queue::{AsrJob, AsrQueue};
use super::Clock;
use crate::asr::{AsrError, DecoderState, Transcript, WhisperEngine};
use crate::events::{Speaker, StatusEvent, StatusKind};
use crate::text::spoken_units;

struct Worker {
    engine: WhisperEngine,
    states: [DecoderState; 2],
    speculative: Vec<((Speaker, u64, u64), Transcript)>,
    out: Sender<CallMsg>,
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
pub fn spawn_asr(engine: WhisperEngine, queue: Arc<AsrQueue>, out: Sender<CallMsg>, clock: Arc<Clock>) -> Result<JoinHandle<()>, AsrError> {
    let states = [engine.new_state()?, engine.new_state()?];
    let mut w = Worker { engine, states, speculative: Vec::new(), out, clock, max_partial_samples: 10 * 16_000 };
    std::thread::Builder::new()
        .name("asr".into())
        .spawn(move || {
            while let Some(job) = queue.pop() {
                if let Err(e) = w.handle(job, &queue) {
                    let status = StatusEvent { kind: StatusKind::AsrError, speaker: None, message: e.to_string() };
                    w.send(CallMsg::Status { stream_s: w.clock.t(), status });
                }
            }
            w.send(CallMsg::InputDone);
        })
        .map_err(|e| AsrError::Config(format!("cannot start the recogniser thread: {e}")))
}

impl Worker {
    fn send(&self, msg: CallMsg) {
        // The call thread only goes away when the session is torn down.
        let _ = self.out.send(msg);
    }

    /// Latency means something only when audio arrives in real time; a fast
    /// replay floods the queue on purpose.
    fn latency_ms(&self, since: std::time::Instant) -> Option<f64> {
        self.clock.is_realtime().then(|| (since.elapsed().as_secs_f64() * 1000.0).round())
    }

    fn handle(&mut self, job: AsrJob, queue: &AsrQueue) -> Result<(), AsrError> {
        match job {
            AsrJob::CallOpen { call, start_sample } => self.send(CallMsg::Open { call, start_sample }),
            AsrJob::CallClose { call, end_sample, reason } => self.send(CallMsg::Close { call, end_sample, reason }),
            AsrJob::Final { call, speaker, start_sample, end_sample, speech_end_sample, samples, mut features, active_s, end_fed_at } => {
                let key = (speaker, start_sample, speech_end_sample);
                let (tr, ahead) = match self.speculative.iter().position(|(k, _)| *k == key) {
                    Some(p) => (self.speculative.swap_remove(p).1, true),
                    None => (self.engine.transcribe(&mut self.states[idx(speaker)], &samples)?, false),
                };
                tracing::debug!(%speaker, start_s = start_sample as f64 / 16_000.0, decoded_ahead = ahead, decode_ms = tr.decode_ms, "final");
                self.speculative.retain(|((s, _, _), _)| *s != speaker);
                if tr.text.is_empty() {
                    return Ok(());
                }
                if active_s >= 0.5 {
                    features.chars_per_min = Some((spoken_units(&tr.text) as f64 / active_s * 60.0).round() as f32);
                }
                self.send(CallMsg::Recognised(Recognised {
                    call,
                    speaker,
                    start_sample,
                    end_sample,
                    is_final: true,
                    latency_ms: self.latency_ms(end_fed_at),
                    features: Some(features),
                    dropped: tr.dropped.iter().map(ToString::to_string).collect(),
                    text: tr.text,
                }));
            }
            AsrJob::Speculative { call: _, speaker, start_sample, speech_end_sample, samples } => {
                if queue.final_waiting() {
                    return Ok(());
                }
                // Not abortable: the final most likely to arrive meanwhile is
                // this very utterance, which then needs no decode of its own.
                let tr = self.engine.transcribe(&mut self.states[idx(speaker)], &samples)?;
                self.speculative.retain(|((s, _, _), _)| *s != speaker);
                self.speculative.push(((speaker, start_sample, speech_end_sample), tr));
            }
            AsrJob::Partial { call, speaker, start_sample, samples, fed_at } => {
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
                self.send(CallMsg::Recognised(Recognised {
                    call,
                    speaker,
                    start_sample,
                    end_sample: start_sample + samples.len() as u64,
                    is_final: false,
                    latency_ms: self.latency_ms(fed_at),
                    features: None,
                    dropped: Vec::new(),
                    text: tr.text,
                }));
            }
        }
        Ok(())
    }
}
