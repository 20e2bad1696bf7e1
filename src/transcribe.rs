//! Offline transcription of a file: per speaker channel, segment by voice
//! activity, decode each utterance, merge in time order.

use std::time::Instant;

use crate::asr::{AsrError, WhisperEngine};
use crate::audio::layout::SpeakerAudio;
use crate::events::{round_ms, SegmentEvent};
use crate::vad::{segment_all, sounds_like_speech, VadConfig};

/// Timing of a transcription run.
#[derive(Debug, Clone, Default)]
pub struct TranscribeStats {
    /// Seconds of audio per channel (the call length).
    pub audio_s: f64,
    /// Seconds of speech sent to Whisper (all channels).
    pub speech_s: f64,
    /// Wall time spent decoding.
    pub decode_ms: f64,
    /// Wall time for the whole run (segmentation + decoding).
    pub total_ms: f64,
    /// Utterances decoded.
    pub utterances: usize,
}

impl TranscribeStats {
    /// Processing time over call length.
    pub fn real_time_factor(&self) -> f64 {
        if self.audio_s > 0.0 {
            self.total_ms / 1000.0 / self.audio_s
        } else {
            0.0
        }
    }
}

/// Transcribes each channel; segments come back sorted by start time.
pub fn transcribe_channels(engine: &WhisperEngine, channels: &[SpeakerAudio], vad: &VadConfig) -> Result<(Vec<SegmentEvent>, TranscribeStats), AsrError> {
    let started = Instant::now();
    let mut stats = TranscribeStats { audio_s: channels.iter().map(|c| c.samples.len()).max().unwrap_or(0) as f64 / 16_000.0, ..Default::default() };
    let mut segments = Vec::new();
    for ch in channels {
        let mut state = engine.new_state()?;
        for utt in segment_all(&ch.samples, vad) {
            if !sounds_like_speech(&utt.samples, vad) {
                tracing::debug!(speaker = %ch.speaker, start = utt.start_s(), "not voiced: noise, skipped");
                continue;
            }
            let tr = engine.transcribe(&mut state, &utt.samples)?;
            stats.decode_ms += tr.decode_ms;
            stats.speech_s += utt.samples.len() as f64 / 16_000.0;
            stats.utterances += 1;
            if tr.text.is_empty() {
                tracing::debug!(speaker = %ch.speaker, start = utt.start_s(), raw = %tr.raw_text, "nothing kept from utterance");
                continue;
            }
            segments.push(SegmentEvent {
                speaker: ch.speaker,
                start: round_ms(utt.start_s()),
                end: round_ms(utt.end_s()),
                text: tr.text,
                is_final: true,
                latency_ms: None,
                features: None,
                dropped: tr.dropped.iter().map(ToString::to_string).collect(),
                revision: 0,
            });
        }
    }
    segments.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.speaker.cmp(&b.speaker)));
    stats.total_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok((segments, stats))
}
