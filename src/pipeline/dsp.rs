//! The DSP stage: one thread for both channels. Resamples to 16 kHz, finds
//! utterances, measures them, and hands finals, speculative and partial
//! decodes to the recogniser's queue.

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

use super::queue::{AsrJob, AsrQueue};
use super::Clock;
use crate::audio::features::{speech_rms_db, Voicing};
use crate::audio::resample::Resampler;
use crate::audio::source::SourceMsg;
use crate::audio::PIPELINE_SAMPLE_RATE_HZ;
use crate::events::{AcousticFeatures, Event, Speaker, StatusEvent, TimedEvent};
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
}

impl DspConfig {
    /// From the `[vad]` and `[pipeline]` sections of the config.
    pub fn from_config(vad: &VadConfig, p: &crate::config::PipelineSection) -> Self {
        Self {
            vad: vad.clone(),
            partial_every_ms: p.partial_every_ms,
            speculative_after_ms: p.speculative_after_ms,
            partial_speakers: p.partial_speakers.clone(),
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

fn status(clock: &Clock, kind: &str, speaker: Option<Speaker>, message: String) -> TimedEvent {
    TimedEvent { t: clock.t(), event: Event::Status(StatusEvent { kind: kind.into(), speaker, message }) }
}

/// Starts the DSP thread.
pub fn spawn_dsp(rx: Receiver<SourceMsg>, queue: Arc<AsrQueue>, out: Sender<TimedEvent>, clock: Arc<Clock>, cfg: DspConfig) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name("dsp".into()).spawn(move || {
        let mut chans = [Chan::new(Speaker::Agent, &cfg.vad), Chan::new(Speaker::Customer, &cfg.vad)];
        let mut utts: Vec<Utterance> = Vec::new();
        while let Ok(msg) = rx.recv() {
            match msg {
                SourceMsg::Audio { speaker, sample_rate_hz, samples } => {
                    let i = idx(speaker);
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
                    feed(&mut chans, i, &block, &mut utts, &queue, &clock, &cfg);
                    chans[i].scratch = block;
                    chans[i].scratch.clear();
                }
                SourceMsg::DeviceLost { speaker, message } => {
                    let i = idx(speaker);
                    // Whatever was being said when the device went away is kept.
                    chans[i].seg.finish(&mut utts);
                    send_finals(&mut chans, i, &mut utts, &queue, &cfg.vad);
                    let _ = out.send(status(&clock, "device_lost", Some(speaker), message));
                }
                SourceMsg::DeviceBack { speaker, gap_s } => {
                    let i = idx(speaker);
                    let silence = vec![0.0f32; (gap_s * PIPELINE_SAMPLE_RATE_HZ as f64) as usize];
                    feed(&mut chans, i, &silence, &mut utts, &queue, &clock, &cfg);
                    let _ = out.send(status(&clock, "device_back", Some(speaker), format!("audio is back after {gap_s:.1} s")));
                }
                SourceMsg::Overrun { speaker, samples_lost } => {
                    let _ = out.send(status(&clock, "overrun", Some(speaker), format!("{samples_lost} samples were lost before the pipeline (buffer full)")));
                }
                SourceMsg::Note { kind, message } => {
                    let _ = out.send(status(&clock, &kind, None, message));
                }
                SourceMsg::End => break,
            }
        }
        for i in 0..2 {
            if let Some(mut r) = chans[i].resampler.take() {
                let mut tail = Vec::new();
                r.finish(&mut tail);
                feed(&mut chans, i, &tail, &mut utts, &queue, &clock, &cfg);
            }
            chans[i].seg.finish(&mut utts);
            send_finals(&mut chans, i, &mut utts, &queue, &cfg.vad);
        }
        queue.close();
    })
}

fn feed(chans: &mut [Chan; 2], i: usize, block: &[f32], utts: &mut Vec<Utterance>, queue: &AsrQueue, clock: &Clock, cfg: &DspConfig) {
    let ch = &mut chans[i];
    ch.seg.push(block, utts);
    ch.fed += block.len() as u64;
    ch.fed_log.push_back((ch.fed, Instant::now()));
    while ch.fed_log.len() > 4096 {
        ch.fed_log.pop_front();
    }
    clock.fed(chans[0].fed.max(chans[1].fed));
    send_finals(chans, i, utts, queue, &cfg.vad);
    let ch = &mut chans[i];
    if let Some(p) = ch.seg.pending_end() {
        let key = (p.start_sample, p.speech_end_sample);
        if p.silence_ms >= cfg.speculative_after_ms && ch.speculative_sent != Some(key) {
            if let Some(audio) = ch.seg.audio_between(p.start_sample, p.audio_end_sample).filter(|a| sounds_like_speech(a, &cfg.vad)) {
                ch.speculative_sent = Some(key);
                queue.push(AsrJob::Speculative {
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
                    queue.push(AsrJob::Partial { speaker: ch.speaker, start_sample: s, samples: audio.to_vec(), fed_at: Instant::now() });
                }
            }
        }
    } else {
        ch.partial_len = 0;
    }
}

fn send_finals(chans: &mut [Chan; 2], i: usize, utts: &mut Vec<Utterance>, queue: &AsrQueue, vad: &VadConfig) {
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
        queue.push(AsrJob::Final {
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
