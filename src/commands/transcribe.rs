//! `callcoach transcribe FILE`.

use anyhow::{Context, Result};

use super::out_line;
use crate::asr::{AsrConfig, WhisperEngine};
use crate::audio::{layout::speaker_channels, wav::read_wav};
use crate::cli::TranscribeArgs;
use crate::config::Config;
use crate::events::{Event, TimedEvent};
use crate::transcribe::{clock, transcribe_channels};

pub(super) fn run(cfg: &Config, args: &TranscribeArgs) -> Result<()> {
    let wav = read_wav(&args.file)?;
    if let Some(t) = &wav.truncated {
        tracing::warn!("{}: {t}; transcribing what is there", args.file.display());
    }
    let channels = speaker_channels(&wav, &cfg.audio, &args.file)?;
    let engine = WhisperEngine::load(asr_config(cfg)).context("loading the Whisper model")?;
    let (segments, stats) = transcribe_channels(&engine, &channels, &cfg.vad)
        .with_context(|| format!("transcribing {}", args.file.display()))?;
    for seg in segments {
        if args.json {
            let ev = TimedEvent {
                t: seg.end,
                event: Event::Segment(seg),
            };
            out_line(&serde_json::to_string(&ev)?)?;
        } else {
            out_line(&format!("[{} - {}] {:<8} {}", clock(seg.start), clock(seg.end), seg.speaker.as_str(), seg.text))?;
        }
    }
    if args.stats {
        eprintln!("model_load_ms: {:.0}", engine.load_ms());
        eprintln!("audio_s: {:.2}", stats.audio_s);
        eprintln!("speech_s: {:.2}", stats.speech_s);
        eprintln!("utterances: {}", stats.utterances);
        eprintln!("decode_ms: {:.0}", stats.decode_ms);
        eprintln!("total_ms: {:.0}", stats.total_ms);
        eprintln!("real_time_factor: {:.3}", stats.real_time_factor());
        if let Some(rss) = crate::sysinfo::peak_rss_mib() {
            eprintln!("peak_rss_mib: {rss:.0}");
        }
    }
    Ok(())
}

/// Decoder settings from the config.
pub(crate) fn asr_config(cfg: &Config) -> AsrConfig {
    AsrConfig {
        model_path: cfg.model_path(),
        threads: cfg.asr.threads,
        language: cfg.asr.language.clone(),
        initial_prompt: cfg.asr.initial_prompt.clone(),
        sized_audio_ctx: cfg.asr.sized_audio_ctx,
        min_avg_logprob: cfg.asr.min_avg_logprob,
    }
}
