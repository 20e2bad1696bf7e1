//! The Whisper engine: one loaded model, decoder states per channel, and a
//! decode call tuned for short utterances (encoder context sized to the
//! audio, greedy, no temperature fallback, Mandarin in simplified characters).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

use super::filter::{self, Dropped};
use super::model::{ggml, ModelError};
use super::{AsrError, EncoderContext, SecondPass};
use super::{DEFAULT_INITIAL_PROMPT, DEFAULT_MIN_AVG_LOGPROB};

/// Shortest input whisper.cpp decodes (it skips anything under 1 s).
const MIN_DECODE_SAMPLES: usize = 16_000 + 1_600;
/// Encoder positions per second of audio (100 mel frames/s, conv stride 2).
const ENCODER_FRAMES_PER_S: f64 = 50.0;

/// Decoding settings.
#[derive(Debug, Clone)]
pub struct AsrConfig {
    /// ggml Whisper model file.
    pub model_path: PathBuf,
    /// CPU threads for one decode.
    pub threads: usize,
    /// Spoken language code (`zh`), or `auto`.
    pub language: String,
    /// Initial prompt; `以下是普通话的句子。` makes Whisper write simplified
    /// Chinese. Domain words can be appended to bias recognition.
    pub initial_prompt: String,
    /// Size the encoder context to the audio instead of the full 30 s.
    pub sized_audio_ctx: bool,
    /// Encoder positions added to the audio's own when sizing (50 per second).
    pub audio_ctx_margin: i32,
    /// Smallest sized encoder context (positions; 1500 is the full 30 s).
    pub min_audio_ctx: i32,
    /// Beam width of the decoder; 1 is greedy.
    pub beam_size: usize,
    /// Decode finished turns again as one piece when the recogniser is idle.
    pub second_pass: SecondPass,
    /// Text whose average token log-probability is below this is dropped
    /// (noise, beeps and music decode at -1.2 and lower; speech above -0.9).
    pub min_avg_logprob: f64,
}

impl Default for AsrConfig {
    fn default() -> Self {
        Self {
            model_path: super::model::default_model_path(),
            threads: 2,
            language: "zh".into(),
            initial_prompt: DEFAULT_INITIAL_PROMPT.into(),
            sized_audio_ctx: true,
            audio_ctx_margin: DEFAULT_AUDIO_CTX_MARGIN,
            min_audio_ctx: DEFAULT_MIN_AUDIO_CTX,
            beam_size: 1,
            second_pass: SecondPass::Sized,
            min_avg_logprob: DEFAULT_MIN_AVG_LOGPROB,
        }
    }
}

/// One decoded piece of text.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// Cleaned text (simplified, hallucinations removed); may be empty.
    pub text: String,
    /// Raw text as Whisper produced it.
    pub raw_text: String,
    /// What cleaning removed.
    pub dropped: Vec<Dropped>,
    /// Whisper's no-speech probability for the first segment.
    pub no_speech_prob: f32,
    /// Decode wall time.
    pub decode_ms: f64,
    /// True when a runaway decode on the sized context made it decode again wider.
    pub retried_wider: bool,
}

/// A loaded Whisper model.
pub struct WhisperEngine {
    ctx: WhisperContext,
    cfg: AsrConfig,
    load_ms: f64,
}

/// Per-channel decoder state (KV caches and buffers).
pub struct DecoderState {
    state: WhisperState,
}

/// Encoder context for `n_samples` of 16 kHz audio: 50 positions per second
/// plus `margin`, rounded up to a multiple of 64, at least `min` (very small
/// contexts make Whisper loop on short words), at most 1500 (the full 30 s).
pub fn audio_ctx_for(n_samples: usize, margin: i32, min: i32) -> i32 {
    let secs = n_samples as f64 / 16_000.0;
    let raw = (ENCODER_FRAMES_PER_S * secs).ceil() as i32 + margin.max(0);
    ((raw + 63) / 64 * 64).clamp(min.clamp(64, FULL_AUDIO_CTX), FULL_AUDIO_CTX)
}

/// Encoder positions of the full 30 s window.
pub const FULL_AUDIO_CTX: i32 = 1500;
/// Default margin of a sized context.
pub const DEFAULT_AUDIO_CTX_MARGIN: i32 = 64;
/// Default smallest sized context.
pub const DEFAULT_MIN_AUDIO_CTX: i32 = 256;

/// Routes whisper.cpp's own log lines into `tracing` (target `whisper_rs`).
pub fn route_whisper_logs() {
    whisper_rs::install_logging_hooks();
}

impl WhisperEngine {
    /// Checks and loads the model.
    pub fn load(cfg: AsrConfig) -> Result<Self, AsrError> {
        route_whisper_logs();
        let path = cfg.model_path.clone();
        if !path.exists() {
            return Err(ModelError::Missing(path).into());
        }
        let summary = ggml::inspect(&path)?;
        if !summary.hparams.is_multilingual() && cfg.language != "en" {
            return Err(AsrError::Config(format!(
                "{}: an English-only model cannot transcribe language {:?}; use a multilingual model",
                path.display(),
                cfg.language
            )));
        }
        let start = Instant::now();
        let ctx = load_context(&path)?;
        Ok(Self { ctx, cfg, load_ms: start.elapsed().as_secs_f64() * 1000.0 })
    }

    /// Time the model took to load.
    pub fn load_ms(&self) -> f64 {
        self.load_ms
    }

    /// The settings in use.
    pub fn config(&self) -> &AsrConfig {
        &self.cfg
    }

    /// A fresh decoder state (one per speaker channel).
    pub fn new_state(&self) -> Result<DecoderState, AsrError> {
        let state = self.ctx.create_state().map_err(|e| AsrError::Whisper(format!("creating a decoder state: {e:?}")))?;
        Ok(DecoderState { state })
    }

    /// Decodes 16 kHz mono samples (one utterance, up to 30 s).
    pub fn transcribe(&self, st: &mut DecoderState, samples_16k: &[f32]) -> Result<Transcript, AsrError> {
        self.transcribe_abortable(st, samples_16k, None)?.ok_or_else(|| AsrError::Whisper("decoding was aborted".into()))
    }

    /// Like [`WhisperEngine::transcribe`], but gives up (returning `None`)
    /// as soon as `abort` becomes true: a partial decode yields to a final.
    pub fn transcribe_abortable(&self, st: &mut DecoderState, samples_16k: &[f32], abort: Option<&AtomicBool>) -> Result<Option<Transcript>, AsrError> {
        let context = if self.cfg.sized_audio_ctx { EncoderContext::Sized } else { EncoderContext::Full };
        self.transcribe_in(st, samples_16k, context, abort)
    }

    /// Decodes with the encoder context chosen here rather than by the
    /// configuration (the second pass over finished turns); `None` when
    /// `abort` became true.
    pub fn transcribe_in(
        &self,
        st: &mut DecoderState,
        samples_16k: &[f32],
        context: EncoderContext,
        abort: Option<&AtomicBool>,
    ) -> Result<Option<Transcript>, AsrError> {
        let start = Instant::now();
        let padded;
        let mut input = samples_16k;
        if input.len() > 30 * 16_000 {
            input = &input[..30 * 16_000];
        }
        if input.len() < MIN_DECODE_SAMPLES {
            let mut v = input.to_vec();
            v.resize(MIN_DECODE_SAMPLES, 0.0);
            padded = v;
            input = &padded[..];
        }
        let max_tokens = max_tokens_for(input.len());
        let sized = (context == EncoderContext::Sized)
            .then(|| audio_ctx_for(input.len(), self.cfg.audio_ctx_margin, self.cfg.min_audio_ctx))
            .filter(|&c| c < FULL_AUDIO_CTX);
        let Some(mut first) = self.decode_once(st, input, sized, max_tokens, abort)? else {
            return Ok(None);
        };
        // A loop on a sized context (the token cap reached, or a phrase
        // repeated): keep one copy of the repeated phrase, which is what was
        // said; only when there is no repetition to cut, decode once more
        // with a context three times as wide (at least 768 positions), far
        // less prone to loops and still cheaper than the full 30 s.
        let mut retried = false;
        if let Some(ctx) = sized.filter(|_| first.n_tokens >= max_tokens || filter::cut_repetitions(&first.raw, 2).1 > 0) {
            let (once, cut) = filter::cut_repetitions(&first.raw, 1);
            if cut > 0 {
                tracing::debug!(raw = %first.raw, kept = %once, "loop on a sized context; keeping one copy");
                first.raw = once;
            } else {
                let wider = (ctx * 3).clamp(768, 1500);
                tracing::debug!(raw = %first.raw, tokens = first.n_tokens, "runaway decode on a sized context; decoding again wider");
                let Some(second) = self.decode_once(st, input, Some(wider), max_tokens, abort)? else {
                    return Ok(None);
                };
                retried = true;
                if second.raw.chars().count() < first.raw.chars().count() {
                    first = second;
                }
            }
        }
        let avg_logprob = first.avg_logprob();
        tracing::debug!(raw = %first.raw, no_speech_prob = first.no_speech_prob, avg_logprob, tokens = first.n_tokens, "decoded");
        let (raw, no_speech_prob) = (first.raw, first.no_speech_prob);
        let (mut text, mut dropped) = filter::clean(&raw, &self.cfg.initial_prompt);
        if !text.is_empty() && avg_logprob < self.cfg.min_avg_logprob {
            text.clear();
            dropped.push(Dropped::LowConfidence);
        }
        Ok(Some(Transcript {
            text,
            raw_text: raw.trim().to_string(),
            dropped,
            no_speech_prob,
            decode_ms: start.elapsed().as_secs_f64() * 1000.0,
            retried_wider: retried,
        }))
    }

    fn decode_once(
        &self,
        st: &mut DecoderState,
        input: &[f32],
        audio_ctx: Option<i32>,
        max_tokens: i32,
        abort: Option<&AtomicBool>,
    ) -> Result<Option<RawDecode>, AsrError> {
        let strategy = if self.cfg.beam_size > 1 {
            SamplingStrategy::BeamSearch { beam_size: self.cfg.beam_size as i32, patience: -1.0 }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        let mut params = FullParams::new(strategy);
        params.set_n_threads(self.cfg.threads.max(1) as i32);
        params.set_language(if self.cfg.language == "auto" { None } else { Some(&self.cfg.language) });
        params.set_detect_language(false);
        params.set_translate(false);
        params.set_no_context(true);
        params.set_no_timestamps(true);
        params.set_single_segment(false);
        params.set_temperature(0.0);
        params.set_temperature_inc(0.0);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_max_tokens(max_tokens);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        if !self.cfg.initial_prompt.is_empty() {
            params.set_initial_prompt(&self.cfg.initial_prompt);
        }
        params.set_audio_ctx(audio_ctx.unwrap_or(0));
        if let Some(flag) = abort {
            // SAFETY: `abort_when_set` only reads the AtomicBool behind the
            // pointer, and `flag` outlives this call to `full`, which is the
            // only time whisper.cpp calls it.
            unsafe {
                params.set_abort_callback(Some(abort_when_set));
                params.set_abort_callback_user_data(flag as *const AtomicBool as *mut std::ffi::c_void);
            }
        }
        let t0 = Instant::now();
        let result = st.state.full(params, input);
        tracing::trace!(samples = input.len(), ?audio_ctx, max_tokens, full_ms = t0.elapsed().as_secs_f64() * 1000.0, "whisper_full");
        if abort.is_some_and(|f| f.load(Ordering::Relaxed)) {
            return Ok(None);
        }
        result.map_err(|e| AsrError::Whisper(format!("decoding failed: {e:?}")))?;
        let mut out = RawDecode::default();
        for (i, seg) in st.state.as_iter().enumerate() {
            if i == 0 {
                out.no_speech_prob = seg.no_speech_probability();
            }
            out.n_tokens += seg.n_tokens();
            for t in 0..seg.n_tokens() {
                if let Some(tok) = seg.get_token(t) {
                    let id = tok.token_id();
                    // Text tokens only (special tokens start at end-of-text).
                    if id < self.ctx.token_eot() {
                        out.logprob_sum += (tok.token_probability().max(1e-6) as f64).ln();
                        out.n_text_tokens += 1;
                    }
                }
            }
            match seg.to_str_lossy() {
                Ok(t) => out.raw.push_str(&t),
                Err(e) => return Err(AsrError::Whisper(format!("reading segment text: {e:?}"))),
            }
        }
        Ok(Some(out))
    }
}

#[derive(Default)]
struct RawDecode {
    raw: String,
    no_speech_prob: f32,
    n_tokens: i32,
    logprob_sum: f64,
    n_text_tokens: usize,
}

impl RawDecode {
    fn avg_logprob(&self) -> f64 {
        if self.n_text_tokens == 0 {
            0.0
        } else {
            self.logprob_sum / self.n_text_tokens as f64
        }
    }
}

/// Token budget for an utterance: about 10 tokens per second of audio plus
/// 16 (speech is at most ~8 Mandarin characters per second). Stops a
/// repetition loop early instead of letting it run to 220 tokens.
pub fn max_tokens_for(n_samples: usize) -> i32 {
    (n_samples as f64 / 16_000.0 * 10.0).ceil() as i32 + 16
}

/// whisper.cpp abort callback: true (stop) once the flag is set.
unsafe extern "C" fn abort_when_set(user_data: *mut std::ffi::c_void) -> bool {
    // SAFETY: user_data is the `&AtomicBool` passed in `decode_once`, alive
    // for the whole decode.
    !user_data.is_null() && unsafe { (*(user_data as *const AtomicBool)).load(Ordering::Relaxed) }
}

/// Loads a ggml file with whisper.cpp (CPU only).
pub fn load_context(path: &Path) -> Result<WhisperContext, ModelError> {
    let mut params = WhisperContextParameters::default();
    params.use_gpu(false);
    let path_str = path.to_str().ok_or_else(|| ModelError::Invalid { path: path.to_path_buf(), reason: "path is not valid UTF-8".into() })?;
    WhisperContext::new_with_params(path_str, params).map_err(|_| ModelError::Load { path: path.to_path_buf() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_ctx_is_sized_to_the_clip() {
        let sized = |n| audio_ctx_for(n, DEFAULT_AUDIO_CTX_MARGIN, DEFAULT_MIN_AUDIO_CTX);
        assert_eq!(sized(16_000 * 5), 320);
        assert_eq!(sized(16_000), 256);
        assert_eq!(sized(16_000 * 30), 1500);
        assert_eq!(sized(16_000 * 7) % 64, 0);
        assert!(sized(16_000 * 29) <= 1500);
        assert_eq!(audio_ctx_for(16_000 * 5, 64, 768), 768);
        assert_eq!(audio_ctx_for(16_000 * 5, 500, 256), 768);
    }
}
