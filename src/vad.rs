//! Voice activity detection and utterance segmentation for one channel of
//! 16 kHz audio.
//!
//! Each 16 ms frame is speech when the neural detector (earshot) scores it
//! above `threshold` **and** its level is above the energy gate, so silence
//! and line hiss never reach Whisper. An utterance starts after
//! `min_speech_ms` of speech (with a little pre-roll), ends after
//! `end_of_speech_silence_ms` of non-speech, and a monologue is cut at
//! `max_utterance_ms`, at the quietest frame of its last second.

use serde::{Deserialize, Serialize};

/// Samples per VAD frame (16 ms at 16 kHz).
pub const FRAME_SAMPLES: usize = 256;
const SAMPLE_RATE_HZ: f64 = 16_000.0;
const FRAME_MS: f64 = FRAME_SAMPLES as f64 * 1000.0 / SAMPLE_RATE_HZ;

/// Segmentation settings (the `[vad]` table of the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VadConfig {
    /// Detector score (0..1) above which a frame may be speech.
    pub threshold: f32,
    /// Frames quieter than this (dBFS) are never speech.
    pub energy_gate_dbfs: f32,
    /// Speech needed before an utterance starts.
    pub min_speech_ms: u32,
    /// Silence that ends an utterance.
    pub end_of_speech_silence_ms: u32,
    /// Longest utterance before it is cut.
    pub max_utterance_ms: u32,
    /// Audio kept before the first speech frame.
    pub pre_roll_ms: u32,
    /// Audio kept after the last speech frame.
    pub tail_ms: u32,
    /// An utterance with fewer voiced (pitched) frames than this share is
    /// noise, not speech, and never reaches Whisper (speech measures 0.3-0.8,
    /// rumble, hiss and crowd noise about 0).
    pub min_voiced_fraction: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            energy_gate_dbfs: -45.0,
            min_speech_ms: 120,
            end_of_speech_silence_ms: 400,
            max_utterance_ms: 12_000,
            pre_roll_ms: 200,
            tail_ms: 150,
            min_voiced_fraction: 0.15,
        }
    }
}

impl VadConfig {
    /// Checks ranges; returns the offending field and why.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(format!("vad.threshold = {} is outside 0..1", self.threshold));
        }
        if !(-120.0..=0.0).contains(&self.energy_gate_dbfs) {
            return Err(format!("vad.energy_gate_dbfs = {} is outside -120..0", self.energy_gate_dbfs));
        }
        if self.end_of_speech_silence_ms < 100 {
            return Err("vad.end_of_speech_silence_ms must be at least 100".into());
        }
        if !(1_000..=29_000).contains(&self.max_utterance_ms) {
            return Err("vad.max_utterance_ms must be within 1000..29000 (Whisper decodes at most 30 s)".into());
        }
        if !(0.0..=1.0).contains(&self.min_voiced_fraction) {
            return Err(format!("vad.min_voiced_fraction = {} is outside 0..1", self.min_voiced_fraction));
        }
        if self.tail_ms > self.end_of_speech_silence_ms {
            return Err("vad.tail_ms cannot exceed vad.end_of_speech_silence_ms".into());
        }
        Ok(())
    }
}

/// Why an utterance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CutReason {
    /// Enough silence after speech.
    EndOfSpeech,
    /// Reached `max_utterance_ms`.
    MaxLength,
    /// The stream ended.
    EndOfStream,
}

/// One stretch of speech.
#[derive(Debug, Clone)]
pub struct Utterance {
    /// Index of the first sample in the channel.
    pub start_sample: u64,
    /// Index one past the last sample.
    pub end_sample: u64,
    /// The audio (16 kHz mono).
    pub samples: Vec<f32>,
    /// Frames judged speech.
    pub speech_ms: f64,
    /// End of the last speech frame (before the tail).
    pub speech_end_sample: u64,
    /// From the first to the last speech frame (pre-roll and tail excluded):
    /// the time the speaker was talking, pauses included.
    pub talk_s: f64,
    /// Why it ended.
    pub cut: CutReason,
}

impl Utterance {
    /// Start in seconds.
    pub fn start_s(&self) -> f64 {
        self.start_sample as f64 / SAMPLE_RATE_HZ
    }
    /// End in seconds.
    pub fn end_s(&self) -> f64 {
        self.end_sample as f64 / SAMPLE_RATE_HZ
    }
}

/// An utterance that may be about to end (see [`Segmenter::pending_end`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PendingEnd {
    /// First sample.
    pub start_sample: u64,
    /// End of the last speech frame.
    pub speech_end_sample: u64,
    /// End of the audio there is so far after it (at most the tail).
    pub audio_end_sample: u64,
    /// Length of the silence so far.
    pub silence_ms: f64,
}

/// Per-frame level in dBFS.
pub fn rms_dbfs(frame: &[f32]) -> f32 {
    if frame.is_empty() {
        return -120.0;
    }
    let ms = frame.iter().map(|v| v * v).sum::<f32>() / frame.len() as f32;
    (10.0 * ms.max(1e-12).log10()).max(-120.0)
}

enum State {
    Idle,
    /// Speech seen but not yet `min_speech_ms` of it.
    Onset {
        start_sample: u64,
        speech_frames: u32,
        gap_frames: u32,
    },
    Speech,
}

/// Streaming segmenter for one channel.
pub struct Segmenter {
    cfg: VadConfig,
    detector: Box<earshot::Detector>,
    pending: Vec<f32>,
    /// Samples consumed into whole frames.
    frames_done: u64,
    /// Recent audio (pre-roll + current utterance), starts at `buf_start`.
    buf: Vec<f32>,
    buf_start: u64,
    /// Level of each frame of `buf` that belongs to the utterance.
    frame_db: Vec<f32>,
    state: State,
    utt_start: u64,
    speech_start: u64,
    last_speech_end: u64,
    silence_frames: u32,
    speech_frames: u32,
    /// End of the previous utterance (pre-roll never reaches back past it).
    prev_end: u64,
    /// Speech/non-speech per frame for the last [`ACTIVITY_FRAMES`] frames.
    activity: std::collections::VecDeque<bool>,
    /// Consecutive frames far below the energy gate.
    quiet_frames: u32,
}

/// Frames this far (dB) below the energy gate count as quiet.
const QUIET_MARGIN_DB: f32 = 6.0;
/// Quiet frames (0.5 s) after which the detector rests.
const QUIET_FRAMES_BEFORE_REST: u32 = 31;

/// Frames of speech activity kept for overlap measurement (2 minutes).
pub const ACTIVITY_FRAMES: usize = 7_500;

impl Segmenter {
    /// A segmenter with these settings.
    pub fn new(cfg: VadConfig) -> Self {
        Self {
            cfg,
            detector: earshot::Detector::default_boxed(),
            pending: Vec::with_capacity(FRAME_SAMPLES),
            frames_done: 0,
            buf: Vec::new(),
            buf_start: 0,
            frame_db: Vec::new(),
            state: State::Idle,
            utt_start: 0,
            speech_start: 0,
            last_speech_end: 0,
            silence_frames: 0,
            speech_frames: 0,
            prev_end: 0,
            activity: std::collections::VecDeque::with_capacity(ACTIVITY_FRAMES),
            quiet_frames: 0,
        }
    }

    /// Seconds of speech (by the detector) between two sample positions,
    /// within the last two minutes.
    pub fn speech_seconds_between(&self, from: u64, to: u64) -> f64 {
        let done = self.frames_done / FRAME_SAMPLES as u64;
        let first_kept = done.saturating_sub(self.activity.len() as u64);
        let (a, b) = (from / FRAME_SAMPLES as u64, to.div_ceil(FRAME_SAMPLES as u64).min(done));
        (a.max(first_kept)..b).filter(|f| self.activity.get((f - first_kept) as usize).copied().unwrap_or(false)).count() as f64 * FRAME_MS / 1000.0
    }

    fn ms_to_frames(ms: u32) -> u32 {
        (ms as f64 / FRAME_MS).ceil() as u32
    }

    fn ms_to_samples(ms: u32) -> u64 {
        (ms as f64 * SAMPLE_RATE_HZ / 1000.0) as u64
    }

    /// While an utterance is in progress: its start, the end of its last
    /// speech frame, the audio available after it (up to the tail), and how
    /// long the current silence has lasted.
    pub fn pending_end(&self) -> Option<PendingEnd> {
        match self.state {
            State::Speech => Some(PendingEnd {
                start_sample: self.utt_start,
                speech_end_sample: self.last_speech_end,
                audio_end_sample: (self.last_speech_end + Self::ms_to_samples(self.cfg.tail_ms)).min(self.frames_done),
                silence_ms: self.silence_frames as f64 * FRAME_MS,
            }),
            _ => None,
        }
    }

    /// Audio of the utterance in progress between two sample positions.
    pub fn audio_between(&self, from: u64, to: u64) -> Option<&[f32]> {
        let a = from.checked_sub(self.buf_start)? as usize;
        let b = (to.checked_sub(self.buf_start)? as usize).min(self.buf.len());
        (a < b).then(|| &self.buf[a..b])
    }

    /// Samples consumed so far.
    pub fn position_samples(&self) -> u64 {
        self.frames_done + self.pending.len() as u64
    }

    /// True while speech may be going on (an utterance or its onset).
    pub fn is_active(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// The utterance in progress, if any: its start sample and audio so far.
    pub fn in_progress(&self) -> Option<(u64, &[f32])> {
        match self.state {
            State::Speech => {
                let from = (self.utt_start - self.buf_start) as usize;
                Some((self.utt_start, &self.buf[from..]))
            }
            _ => None,
        }
    }

    /// Feeds audio; finished utterances are appended to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<Utterance>) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (FRAME_SAMPLES - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == FRAME_SAMPLES {
                let frame = std::mem::take(&mut self.pending);
                self.frame(&frame, out);
                self.pending = frame;
                self.pending.clear();
            }
        }
    }

    /// Ends the stream, flushing an utterance in progress.
    pub fn finish(&mut self, out: &mut Vec<Utterance>) {
        if !self.pending.is_empty() {
            let mut frame = std::mem::take(&mut self.pending);
            frame.resize(FRAME_SAMPLES, 0.0);
            self.frame(&frame, out);
        }
        if let State::Speech = self.state {
            let end = self.last_speech_end + Self::ms_to_samples(self.cfg.tail_ms);
            self.emit(end.min(self.frames_done), CutReason::EndOfStream, out);
        }
        self.state = State::Idle;
    }

    /// The detector's score for a frame. Far below the energy gate a frame
    /// can never be speech, so after a stretch of such quiet the detector
    /// rests (it is most of the idle CPU: two channels, 62 frames a second
    /// each); the first louder frame wakes it from the state quiet leads to.
    fn score(&mut self, frame: &[f32], db: f32) -> f32 {
        let quiet = db < self.cfg.energy_gate_dbfs - QUIET_MARGIN_DB;
        if quiet {
            self.quiet_frames = self.quiet_frames.saturating_add(1);
            if self.quiet_frames > QUIET_FRAMES_BEFORE_REST {
                return 0.0;
            }
        } else {
            if self.quiet_frames > QUIET_FRAMES_BEFORE_REST {
                // As if it had heard the quiet all along: a fresh state
                // settled on quiet frames, then this one.
                self.detector.reset();
                let settle = vec![0.0f32; FRAME_SAMPLES];
                for _ in 0..QUIET_FRAMES_BEFORE_REST {
                    self.detector.predict_f32(&settle);
                }
            }
            self.quiet_frames = 0;
        }
        self.detector.predict_f32(frame)
    }

    fn frame(&mut self, frame: &[f32], out: &mut Vec<Utterance>) {
        let db = rms_dbfs(frame);
        let score = self.score(frame, db);
        let is_speech = score >= self.cfg.threshold && db >= self.cfg.energy_gate_dbfs;
        if self.activity.len() == ACTIVITY_FRAMES {
            self.activity.pop_front();
        }
        self.activity.push_back(is_speech);
        let frame_start = self.frames_done;
        self.frames_done += FRAME_SAMPLES as u64;
        self.buf.extend_from_slice(frame);

        match self.state {
            State::Idle => {
                if is_speech {
                    self.state = State::Onset { start_sample: frame_start, speech_frames: 1, gap_frames: 0 };
                } else {
                    self.trim_idle_buffer();
                }
            }
            State::Onset { start_sample, speech_frames, gap_frames } => {
                let (s, g) = if is_speech { (speech_frames + 1, 0) } else { (speech_frames, gap_frames + 1) };
                if g > 3 {
                    self.state = State::Idle;
                    self.trim_idle_buffer();
                } else if s >= Self::ms_to_frames(self.cfg.min_speech_ms) {
                    let pre = Self::ms_to_samples(self.cfg.pre_roll_ms);
                    self.utt_start = start_sample.saturating_sub(pre).max(self.prev_end).max(self.buf_start);
                    self.speech_start = start_sample;
                    self.speech_frames = s;
                    self.silence_frames = 0;
                    self.last_speech_end = self.frames_done;
                    let n_frames = ((self.frames_done - self.utt_start) as usize).div_ceil(FRAME_SAMPLES);
                    self.frame_db = vec![db; n_frames];
                    self.state = State::Speech;
                } else {
                    self.state = State::Onset { start_sample, speech_frames: s, gap_frames: g };
                }
            }
            State::Speech => {
                self.frame_db.push(db);
                if is_speech {
                    self.speech_frames += 1;
                    self.silence_frames = 0;
                    self.last_speech_end = self.frames_done;
                } else {
                    self.silence_frames += 1;
                }
                if self.silence_frames >= Self::ms_to_frames(self.cfg.end_of_speech_silence_ms) {
                    let end = self.last_speech_end + Self::ms_to_samples(self.cfg.tail_ms);
                    self.emit(end.min(self.frames_done), CutReason::EndOfSpeech, out);
                    self.state = State::Idle;
                    self.trim_idle_buffer();
                } else if self.frames_done - self.utt_start >= Self::ms_to_samples(self.cfg.max_utterance_ms) {
                    self.cut_long(out);
                }
            }
        }
    }

    /// Cuts a monologue at the quietest frame of its last second and keeps
    /// the remainder as the start of the next utterance.
    fn cut_long(&mut self, out: &mut Vec<Utterance>) {
        let n = self.frame_db.len();
        let look = (1000.0 / FRAME_MS) as usize;
        let from = n.saturating_sub(look);
        let quietest = (from..n).min_by(|a, b| self.frame_db[*a].total_cmp(&self.frame_db[*b])).unwrap_or(n.saturating_sub(1));
        let cut_at = (self.utt_start + ((quietest + 1) * FRAME_SAMPLES) as u64).min(self.frames_done);
        let remainder: Vec<f32> = self.frame_db.get(quietest + 1..).map(<[f32]>::to_vec).unwrap_or_default();
        self.emit(cut_at, CutReason::MaxLength, out);
        // Speech goes on: the remainder starts the next utterance.
        self.utt_start = cut_at;
        self.speech_start = cut_at;
        self.speech_frames = remainder.len() as u32;
        self.frame_db = remainder;
        self.state = State::Speech;
    }

    fn emit(&mut self, end_sample: u64, cut: CutReason, out: &mut Vec<Utterance>) {
        let a = (self.utt_start - self.buf_start) as usize;
        let b = ((end_sample - self.buf_start) as usize).min(self.buf.len());
        if b > a && self.speech_frames >= Self::ms_to_frames(self.cfg.min_speech_ms) {
            out.push(Utterance {
                start_sample: self.utt_start,
                end_sample,
                samples: self.buf[a..b].to_vec(),
                speech_ms: self.speech_frames as f64 * FRAME_MS,
                speech_end_sample: self.last_speech_end.min(end_sample),
                talk_s: self.last_speech_end.min(end_sample).saturating_sub(self.speech_start.max(self.utt_start)) as f64 / SAMPLE_RATE_HZ,
                cut,
            });
        }
        self.prev_end = end_sample;
        // Drop audio before the end of what was emitted.
        let drop_n = b;
        self.buf.drain(..drop_n);
        self.buf_start += drop_n as u64;
        self.frame_db.clear();
        self.speech_frames = 0;
        self.silence_frames = 0;
    }

    /// While idle, keep only the pre-roll.
    fn trim_idle_buffer(&mut self) {
        let keep = Self::ms_to_samples(self.cfg.pre_roll_ms) as usize + FRAME_SAMPLES;
        if self.buf.len() > keep * 4 {
            let drop_n = self.buf.len() - keep;
            self.buf.drain(..drop_n);
            self.buf_start += drop_n as u64;
        }
    }
}

/// True when enough of the audio is voiced to be speech (see
/// [`VadConfig::min_voiced_fraction`]).
pub fn sounds_like_speech(samples: &[f32], cfg: &VadConfig) -> bool {
    cfg.min_voiced_fraction <= 0.0 || crate::audio::features::voiced_fraction(samples) >= cfg.min_voiced_fraction
}

/// Segments a whole channel at once.
pub fn segment_all(samples: &[f32], cfg: &VadConfig) -> Vec<Utterance> {
    let mut seg = Segmenter::new(cfg.clone());
    let mut out = Vec::new();
    seg.push(samples, &mut out);
    seg.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_and_quiet_hiss_give_no_utterances() {
        let silence = vec![0.0f32; 16_000 * 5];
        assert!(segment_all(&silence, &VadConfig::default()).is_empty());
        // -60 dBFS pseudo-random hiss: below the energy gate.
        let mut x = 12345u32;
        let hiss: Vec<f32> = (0..16_000 * 5)
            .map(|_| {
                x = x.wrapping_mul(1664525).wrapping_add(1013904223);
                ((x >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.002
            })
            .collect();
        assert!(segment_all(&hiss, &VadConfig::default()).is_empty());
    }

    #[test]
    fn config_validation_names_the_field() {
        let c = VadConfig { max_utterance_ms: 60_000, ..Default::default() };
        assert!(c.validate().unwrap_err().contains("vad.max_utterance_ms"));
        assert!(VadConfig::default().validate().is_ok());
    }
}
