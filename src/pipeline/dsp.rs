//! The DSP stage: one thread for both channels. Resamples to 16 kHz, finds
//! utterances, measures them, and hands finals, speculative and partial
//! decodes to the recogniser's queue. It also decides where calls begin
//! and end: a call opens at the first speech after idle and closes after
//! `call_end_silence_s` without speech on either side, when asked
//! (`end call`), or when the input ends.

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

use super::calls::CallMsg;
use super::queue::{AsrJob, AsrQueue, CallTag};
use super::Clock;
use crate::audio::features::{speech_rms_db, Voicing};
use crate::audio::guard::SampleGuard;
use crate::audio::resample::Resampler;
use crate::audio::source::SourceMsg;
use crate::audio::PIPELINE_SAMPLE_RATE_HZ;
use crate::events::{AcousticFeatures, EndReason, Speaker, StatusEvent, StatusKind};
use crate::vad::{sounds_like_speech, Segmenter, Utterance, VadConfig};

/// DSP settings.
#[derive(Debug, Clone)]
pub struct DspConfig {
    /// Segmentation.
    pub vad: VadConfig,
    /// Decode the growing utterance about this often (0 = no partials).
    pub partial_every_ms: u64,
    /// Start decoding an utterance ahead after this much silence.
    pub speculative_after_ms: f64,
    /// Whose speech gets partial results (the customer's by default: that
    /// is where churn intent must be caught early).
    pub partial_speakers: Vec<Speaker>,
    /// A call ends after this long without speech on either side.
    pub call_end_silence_s: f64,
}

impl DspConfig {
    /// From the `[vad]` and `[pipeline]` sections of the config.
    pub fn from_config(vad: &VadConfig, p: &crate::config::PipelineSection) -> Self {
        Self {
            vad: vad.clone(),
            partial_every_ms: p.partial_every_ms,
            speculative_after_ms: p.speculative_after_ms,
            partial_speakers: p.partial_speakers.clone(),
            call_end_silence_s: p.call_end_silence_s,
        }
    }
}

impl Default for DspConfig {
    fn default() -> Self {
        Self::from_config(&VadConfig::default(), &crate::config::PipelineSection::default())
    }
}

struct Chan {
    speaker: Speaker,
    resampler: Option<Resampler>,
    seg: Segmenter,
    /// (samples fed after this chunk, when).
    fed_log: VecDeque<(u64, Instant)>,
    fed: u64,
    partial_len: usize,
    speculative_sent: Option<(u64, u64)>,
    scratch: Vec<f32>,
}

impl Chan {
    fn new(speaker: Speaker, vad: &VadConfig) -> Self {
        Self {
            speaker,
            resampler: None,
            seg: Segmenter::new(vad.clone()),
            fed_log: VecDeque::new(),
            fed: 0,
            partial_len: 0,
            speculative_sent: None,
            scratch: Vec::new(),
        }
    }

    fn fed_at(&self, sample: u64) -> Instant {
        self.fed_log.iter().find(|(end, _)| *end >= sample).map_or_else(Instant::now, |(_, at)| *at)
    }
}

fn idx(s: Speaker) -> usize {
    match s {
        Speaker::Agent => 0,
        Speaker::Customer => 1,
    }
}

/// Where calls begin and end, on the stream's timeline (16 kHz samples).
struct Calls {
    open: Option<CallTag>,
    next: CallTag,
    /// End of the latest speech on either side.
    last_speech_end: u64,
    end_silence_samples: u64,
}

impl Calls {
    fn new(cfg: &DspConfig) -> Self {
        Self { open: None, next: 1, last_speech_end: 0, end_silence_samples: (cfg.call_end_silence_s * PIPELINE_SAMPLE_RATE_HZ as f64) as u64 }
    }

    /// The open call, opening one that starts at `start_sample` if none is.
    fn ensure_open(&mut self, start_sample: u64, queue: &AsrQueue) -> CallTag {
        if let Some(c) = self.open {
            return c;
        }
        let call = self.next;
        self.next += 1;
        self.open = Some(call);
        self.last_speech_end = self.last_speech_end.max(start_sample);
        queue.push(AsrJob::CallOpen { call, start_sample });
        call
    }

    fn close(&mut self, reason: EndReason, queue: &AsrQueue) {
        if let Some(call) = self.open.take() {
            queue.push(AsrJob::CallClose { call, end_sample: self.last_speech_end, reason });
        }
    }

    /// Closes the call once both sides have been quiet long enough.
    fn check_silence(&mut self, chans: &[Chan; 2], queue: &AsrQueue) {
        if self.open.is_none() || chans.iter().any(|c| c.seg.is_active()) {
            return;
        }
        let now = chans[0].fed.max(chans[1].fed);
        if now.saturating_sub(self.last_speech_end) >= self.end_silence_samples {
            self.close(EndReason::Silence, queue);
        }
    }
}

/// Starts the DSP thread.
pub fn spawn_dsp(rx: Receiver<SourceMsg>, queue: Arc<AsrQueue>, out: Sender<CallMsg>, clock: Arc<Clock>, cfg: DspConfig) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name("dsp".into()).spawn(move || {
        let mut chans = [Chan::new(Speaker::Agent, &cfg.vad), Chan::new(Speaker::Customer, &cfg.vad)];
        let mut utts: Vec<Utterance> = Vec::new();
        let mut calls = Calls::new(&cfg);
        let mut guards = [SampleGuard::new(), SampleGuard::new()];
        let status = |kind: StatusKind, speaker: Option<Speaker>, message: String| {
            let _ = out.send(CallMsg::Status { stream_s: clock.t(), status: StatusEvent { kind, speaker, message } });
        };
        let mut end_reason = EndReason::InputEnded;
        while let Ok(msg) = rx.recv() {
            match msg {
                SourceMsg::Audio { speaker, sample_rate_hz, mut samples } => {
                    let i = idx(speaker);
                    for report in guards[i].clean(&mut samples, sample_rate_hz) {
                        status(StatusKind::BadAudio, Some(speaker), report);
                    }
                    let ch = &mut chans[i];
                    if ch.resampler.as_ref().is_none_or(|r| r.in_rate_hz() != sample_rate_hz) {
                        if let Some(mut old) = ch.resampler.take() {
                            ch.scratch.clear();
                            old.finish(&mut ch.scratch);
                        }
                        ch.resampler = Some(Resampler::new(sample_rate_hz, PIPELINE_SAMPLE_RATE_HZ));
                    }
                    if let Some(r) = ch.resampler.as_mut() {
                        r.process(&samples, &mut ch.scratch);
                    }
                    let block = std::mem::take(&mut ch.scratch);
                    feed(&mut chans, i, &block, &mut utts, &queue, &clock, &cfg, &mut calls);
                    chans[i].scratch = block;
                    chans[i].scratch.clear();
                    calls.check_silence(&chans, &queue);
                }
                SourceMsg::DeviceLost { speaker, message } => {
                    let i = idx(speaker);
                    // Whatever was being said when the device went away is kept.
                    chans[i].seg.finish(&mut utts);
                    send_finals(&mut chans, i, &mut utts, &queue, &cfg.vad, &mut calls);
                    status(StatusKind::DeviceLost, Some(speaker), message);
                }
                SourceMsg::DeviceBack { speaker, gap_s } => {
                    let i = idx(speaker);
                    let silence = vec![0.0f32; (gap_s * PIPELINE_SAMPLE_RATE_HZ as f64) as usize];
                    feed(&mut chans, i, &silence, &mut utts, &queue, &clock, &cfg, &mut calls);
                    status(StatusKind::DeviceBack, Some(speaker), format!("audio is back after {gap_s:.1} s"));
                }
                SourceMsg::Overrun { speaker, samples_lost } => {
                    status(StatusKind::Overrun, Some(speaker), format!("{samples_lost} samples were lost before the pipeline (buffer full)"));
                }
                SourceMsg::Note { kind, message } => status(kind, None, message),
                SourceMsg::EndCall => {
                    flush(&mut chans, &mut utts, &queue, &clock, &cfg, &mut calls, false);
                    calls.close(EndReason::Requested, &queue);
                }
                SourceMsg::End { reason } => {
                    end_reason = reason;
                    break;
                }
            }
        }
        flush(&mut chans, &mut utts, &queue, &clock, &cfg, &mut calls, true);
        calls.close(end_reason, &queue);
        queue.close();
    })
}

/// Finishes the utterances in progress on both sides (and, at the end of
/// the stream, the resamplers' tails) so nothing said is lost.
fn flush(chans: &mut [Chan; 2], utts: &mut Vec<Utterance>, queue: &AsrQueue, clock: &Clock, cfg: &DspConfig, calls: &mut Calls, end_of_stream: bool) {
    for i in 0..2 {
        if end_of_stream {
            if let Some(mut r) = chans[i].resampler.take() {
                let mut tail = Vec::new();
                r.finish(&mut tail);
                feed(chans, i, &tail, utts, queue, clock, cfg, calls);
            }
        }
        chans[i].seg.finish(utts);
        send_finals(chans, i, utts, queue, &cfg.vad, calls);
    }
}

#[allow(clippy::too_many_arguments)]
fn feed(chans: &mut [Chan; 2], i: usize, block: &[f32], utts: &mut Vec<Utterance>, queue: &AsrQueue, clock: &Clock, cfg: &DspConfig, calls: &mut Calls) {
    let ch = &mut chans[i];
    ch.seg.push(block, utts);
    ch.fed += block.len() as u64;
    ch.fed_log.push_back((ch.fed, Instant::now()));
    while ch.fed_log.len() > 4096 {
        ch.fed_log.pop_front();
    }
    clock.fed(chans[0].fed.max(chans[1].fed));
    send_finals(chans, i, utts, queue, &cfg.vad, calls);
    let ch = &mut chans[i];
    if let Some(p) = ch.seg.pending_end() {
        let key = (p.start_sample, p.speech_end_sample);
        if p.silence_ms >= cfg.speculative_after_ms && ch.speculative_sent != Some(key) {
            if let Some(audio) = ch.seg.audio_between(p.start_sample, p.audio_end_sample).filter(|a| sounds_like_speech(a, &cfg.vad)) {
                ch.speculative_sent = Some(key);
                let call = calls.ensure_open(p.start_sample, queue);
                queue.push(AsrJob::Speculative {
                    call,
                    speaker: ch.speaker,
                    start_sample: p.start_sample,
                    speech_end_sample: p.speech_end_sample,
                    samples: audio.to_vec(),
                });
            }
        }
        let silence_ms = p.silence_ms;
        if cfg.partial_every_ms > 0 && silence_ms == 0.0 && cfg.partial_speakers.contains(&ch.speaker) {
            if let Some((s, audio)) = ch.seg.in_progress() {
                let step = (cfg.partial_every_ms * 16) as usize;
                if audio.len() >= step && audio.len() >= ch.partial_len + step {
                    ch.partial_len = audio.len();
                    if !sounds_like_speech(audio, &cfg.vad) {
                        return;
                    }
                    let samples = audio.to_vec();
                    let call = calls.ensure_open(s, queue);
                    queue.push(AsrJob::Partial { call, speaker: ch.speaker, start_sample: s, samples, fed_at: Instant::now() });
                }
            }
        }
    } else {
        ch.partial_len = 0;
    }
}

fn send_finals(chans: &mut [Chan; 2], i: usize, utts: &mut Vec<Utterance>, queue: &AsrQueue, vad: &VadConfig, calls: &mut Calls) {
    for u in utts.drain(..) {
        let voicing = Voicing::of(&u.samples);
        if voicing.voiced_fraction < vad.min_voiced_fraction {
            tracing::debug!(speaker = %chans[i].speaker, start_s = u.start_s(), "not voiced: noise, not decoded");
            queue.drop_partial(chans[i].speaker);
            continue;
        }
        let other = &chans[1 - i].seg;
        let (f0_median_hz, f0_range_hz) = voicing.pitch_stats();
        let features = AcousticFeatures {
            rms_db: (speech_rms_db(&u.samples) * 10.0).round() / 10.0,
            f0_median_hz: f0_median_hz.map(|v| v.round()),
            f0_range_hz: f0_range_hz.map(|v| v.round()),
            chars_per_min: None,
            overlap_s: ((other.speech_seconds_between(u.start_sample, u.end_sample) * 100.0).round() / 100.0) as f32,
        };
        let ch = &mut chans[i];
        queue.drop_partial(ch.speaker);
        ch.partial_len = 0;
        let call = calls.ensure_open(u.start_sample, queue);
        calls.last_speech_end = calls.last_speech_end.max(u.speech_end_sample);
        queue.push(AsrJob::Final {
            call,
            speaker: ch.speaker,
            start_sample: u.start_sample,
            end_sample: u.end_sample,
            speech_end_sample: u.speech_end_sample,
            end_fed_at: ch.fed_at(u.end_sample),
            active_s: u.talk_s,
            samples: u.samples,
            features,
        });
    }
}
