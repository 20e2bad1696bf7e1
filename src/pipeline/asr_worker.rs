//! The recogniser stage: one Whisper model, a decoder state per speaker.
//! It decodes what the queue hands it and passes the text on, in order, to
//! the call thread; analysis and coaching happen there, off this thread.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use super::calls::{CallMsg, Recognised};
use super::queue::{AsrJob, AsrQueue, CallTag, Popped};
use super::turns::{Piece, Turn, TurnCollector};
use super::Clock;
use crate::asr::{AsrError, DecoderState, EncoderContext, SecondPass, Transcript, WhisperEngine, MAX_TURN_S};
use crate::events::{Speaker, StatusEvent, StatusKind};
use crate::text::spoken_units;

struct Worker {
    engine: WhisperEngine,
    states: [DecoderState; 2],
    speculative: Vec<((Speaker, u64, u64), Transcript)>,
    out: Sender<CallMsg>,
    clock: Arc<Clock>,
    max_partial_samples: usize,
    turns: TurnCollector,
}

/// A pause this long ends a speaker's turn for the second pass.
const TURN_GAP_S: f64 = 1.5;
/// How long the recogniser waits for work before it looks at finished turns.
const IDLE_POLL: std::time::Duration = std::time::Duration::from_millis(100);

fn idx(s: Speaker) -> usize {
    match s {
        Speaker::Agent => 0,
        Speaker::Customer => 1,
    }
}

/// Starts the worker thread; it ends when the queue is closed and drained.
pub fn spawn_asr(engine: WhisperEngine, queue: Arc<AsrQueue>, out: Sender<CallMsg>, clock: Arc<Clock>) -> Result<JoinHandle<()>, AsrError> {
    let states = [engine.new_state()?, engine.new_state()?];
    let turns = TurnCollector::new(TURN_GAP_S, MAX_TURN_S);
    let mut w = Worker { engine, states, speculative: Vec::new(), out, clock, max_partial_samples: 10 * 16_000, turns };
    std::thread::Builder::new()
        .name("asr".into())
        .spawn(move || {
            loop {
                let result = match queue.pop_timeout(IDLE_POLL) {
                    Popped::Job(job) => w.handle(job, &queue),
                    Popped::Idle => Ok(()),
                    Popped::Closed => break,
                };
                let result = result.and_then(|()| w.second_pass_while_idle(&queue));
                if let Err(e) = result {
                    w.report(e);
                }
            }
            w.send(CallMsg::InputDone);
        })
        .map_err(|e| AsrError::Config(format!("cannot start the recogniser thread: {e}")))
}

impl Worker {
    fn report(&self, e: AsrError) {
        let status = StatusEvent { kind: StatusKind::AsrError, speaker: None, message: e.to_string() };
        self.send(CallMsg::Status { stream_s: self.clock.t(), status });
    }

    fn second_pass(&self) -> SecondPass {
        self.engine.config().second_pass
    }

    /// Decodes finished turns again while no live work waits; a decode that
    /// live work interrupts is tried again later.
    fn second_pass_while_idle(&mut self, queue: &AsrQueue) -> Result<(), AsrError> {
        if self.second_pass() == SecondPass::Off {
            return Ok(());
        }
        if self.clock.is_realtime() {
            self.turns.tick((self.clock.t() * 16_000.0) as u64);
        }
        while !queue.live_work_flag().load(std::sync::atomic::Ordering::Relaxed) {
            let Some(turn) = self.turns.next_ready() else { break };
            if let Some(turn) = self.revise(turn, Some(queue.live_work_flag()))? {
                self.turns.retry_later(turn);
                break;
            }
        }
        Ok(())
    }

    /// Every finished turn of `call`, before its end goes out.
    fn second_pass_of_call(&mut self, call: CallTag) -> Result<(), AsrError> {
        if self.second_pass() == SecondPass::Off {
            return Ok(());
        }
        self.turns.close_call(call);
        while let Some(turn) = self.turns.next_ready() {
            if turn.call == call {
                self.revise(turn, None)?;
            } else {
                tracing::debug!(call = turn.call, "a turn of an earlier call; second pass skipped");
            }
        }
        Ok(())
    }

    /// Decodes `turn` as one piece and sends the text when it differs from
    /// what the live decodes said. Returns the turn when `abort` stopped it.
    fn revise(&mut self, turn: Turn, abort: Option<&std::sync::atomic::AtomicBool>) -> Result<Option<Turn>, AsrError> {
        let context = match self.second_pass() {
            SecondPass::Full => EncoderContext::Full,
            SecondPass::Sized if turn.pieces.len() > 1 => EncoderContext::Sized,
            // One utterance on the same context would decode the same.
            SecondPass::Sized | SecondPass::Off => return Ok(None),
        };
        let audio = turn.audio();
        let Some(tr) = self.engine.transcribe_in(&mut self.states[idx(turn.speaker)], &audio, context, abort)? else {
            return Ok(Some(turn));
        };
        let live = turn.live_text();
        tracing::debug!(speaker = %turn.speaker, pieces = turn.pieces.len(), %live, revised = %tr.text, decode_ms = tr.decode_ms, "second pass");
        // Nothing better: an empty result (the filters dropped it) or the same words.
        if tr.text.is_empty() || crate::score::fold(&tr.text) == crate::score::fold(&live) {
            return Ok(None);
        }
        self.send(CallMsg::Recognised(Recognised {
            call: turn.call,
            speaker: turn.speaker,
            start_sample: turn.start_sample(),
            end_sample: turn.end_sample(),
            is_final: true,
            latency_ms: None,
            features: None,
            dropped: tr.dropped.iter().map(ToString::to_string).collect(),
            text: tr.text,
            revision: 1,
        }));
        Ok(None)
    }

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
            AsrJob::CallClose { call, end_sample, reason } => {
                // The call's summary gets the second pass's text.
                let revised = self.second_pass_of_call(call);
                self.send(CallMsg::Close { call, end_sample, reason });
                revised?;
            }
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
                if self.second_pass() != SecondPass::Off {
                    // The audio is not needed here any more: the turn keeps it.
                    self.turns.push(call, speaker, Piece { start_sample, end_sample, samples, text: tr.text.clone() });
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
                    revision: 0,
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
                    revision: 0,
                }));
            }
        }
        Ok(())
    }
}
