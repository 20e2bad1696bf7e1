//! `callcoach transcribe FILE`.

use anyhow::{Context, Result};
use callcoach::asr::WhisperEngine;
use callcoach::audio::layout::{extra_channels_note, speaker_channels};
use callcoach::audio::wav::read_wav;
use callcoach::config::Config;
use callcoach::events::{Event, TimedEvent};
use callcoach::timefmt::clock;
use callcoach::transcribe::transcribe_channels;

use super::out_line;
use crate::cli::TranscribeArgs;

pub(super) fn run(cfg: &Config, args: &TranscribeArgs) -> Result<()> {
    let wav = read_wav(&args.file)?;
    if let Some(t) = &wav.truncated {
        tracing::warn!("{}: {t}; transcribing what is there", args.file.display());
    }
    if let Some(note) = extra_channels_note(&wav, &cfg.audio, &args.file) {
        tracing::warn!("{note}");
    }
    let channels = speaker_channels(&wav, &cfg.audio, &args.file)?;
    let engine = WhisperEngine::load(cfg.asr_config()).context("loading the Whisper model")?;
    let (segments, stats) = transcribe_channels(&engine, &channels, &cfg.vad).with_context(|| format!("transcribing {}", args.file.display()))?;
    for seg in segments {
        if args.json {
            let ev = TimedEvent::idle(seg.end, Event::Segment(seg));
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
        if let Some(rss) = callcoach::sysinfo::peak_rss_mib() {
            eprintln!("peak_rss_mib: {rss:.0}");
        }
    }
    Ok(())
}
