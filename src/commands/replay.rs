//! `callcoach replay CALL.wav`: the live pipeline on a recording.

use std::time::Instant;

use anyhow::{Context, Result};
use crossbeam_channel::bounded;

use super::out_line;
use super::transcribe::asr_config;
use crate::asr::WhisperEngine;
use crate::audio::layout::speaker_channels;
use crate::audio::replay::{channel_map, spawn_replay};
use crate::audio::wav::read_wav;
use crate::cli::ReplayArgs;
use crate::config::Config;
use crate::events::{Event, TimedEvent};
use crate::pipeline::{AsrWorkerParts, DspConfig, Pipeline};
use crate::transcribe::clock;

/// Collected while events stream by, printed by `--stats`.
#[derive(Debug, Default)]
pub(crate) struct RunStats {
    pub final_latency_ms: Vec<f64>,
    pub partial_latency_ms: Vec<f64>,
    pub partials: usize,
    pub cards: usize,
    pub alerts: usize,
    pub statuses: usize,
    pub rss_samples_mib: Vec<(f64, f64)>,
}

impl RunStats {
    pub fn observe(&mut self, ev: &TimedEvent) {
        match &ev.event {
            Event::Segment(s) if s.is_final => self.final_latency_ms.extend(s.latency_ms),
            Event::Segment(s) => {
                self.partials += 1;
                self.partial_latency_ms.extend(s.latency_ms);
            }
            Event::Card(_) => self.cards += 1,
            Event::Alert(_) => self.alerts += 1,
            Event::Status(_) => self.statuses += 1,
            Event::Analysis(_) => {}
        }
        let last = self.rss_samples_mib.last().map_or(-1.0, |(t, _)| *t);
        if ev.t - last >= 10.0 {
            if let Some(rss) = crate::sysinfo::rss_mib() {
                self.rss_samples_mib.push((ev.t, rss));
            }
        }
    }

    pub fn print(&self, audio_s: f64, wall_s: f64, realtime: bool, q: &crate::pipeline::QueueStats) {
        let pct = |v: &[f64], p: f64| -> f64 {
            if v.is_empty() {
                return f64::NAN;
            }
            let mut s = v.to_vec();
            s.sort_by(f64::total_cmp);
            s[((s.len() - 1) as f64 * p).round() as usize]
        };
        let l = &self.final_latency_ms;
        eprintln!("finals: {}", l.len());
        eprintln!("final_latency_ms p50: {:.0} p95: {:.0} max: {:.0}", pct(l, 0.5), pct(l, 0.95), pct(l, 1.0));
        let p = &self.partial_latency_ms;
        eprintln!("partials: {} (skipped under load: {}) latency_ms p50: {:.0} p95: {:.0}", self.partials, q.partials_skipped, pct(p, 0.5), pct(p, 0.95));
        eprintln!("cards: {} alerts: {} status: {}", self.cards, self.alerts, self.statuses);
        eprintln!("audio_s: {audio_s:.1} wall_s: {wall_s:.1}");
        if !realtime && audio_s > 0.0 {
            eprintln!("real_time_factor: {:.3}", wall_s / audio_s);
        }
        eprintln!("queue: max_waiting {} max_lag_ms {:.0} producer_wait_ms {:.0}", q.max_finals_waiting, q.max_lag_ms, q.producer_wait_ms);
        if let (Some(first), Some(last)) = (self.rss_samples_mib.first(), self.rss_samples_mib.last()) {
            let max = self.rss_samples_mib.iter().map(|(_, r)| *r).fold(0.0, f64::max);
            eprintln!("rss_mib at {:.0}s: {:.0}, at {:.0}s: {:.0}, max: {:.0}", first.0, first.1, last.0, last.1, max);
        }
        if let Some(rss) = crate::sysinfo::peak_rss_mib() {
            eprintln!("peak_rss_mib: {rss:.0}");
        }
    }
}

/// One line of human-readable output for an event.
pub(crate) fn human(ev: &TimedEvent) -> Option<String> {
    let t = clock(ev.t);
    Some(match &ev.event {
        Event::Segment(s) => format!(
            "[{t}] {:<8} {}{}{}",
            s.speaker.as_str(),
            if s.is_final { "" } else { "… " },
            s.text,
            s.latency_ms.map(|l| format!("   ({l:.0} ms)")).unwrap_or_default()
        ),
        Event::Analysis(_) => return None,
        Event::Card(c) if c.action == crate::coach::CardAction::Shown => {
            format!("[{t}] CARD  {} {} | {}", c.stage.as_str(), c.title, c.say.join(" / "))
        }
        Event::Card(c) => format!("[{t}] card cleared: {}", c.id),
        Event::Alert(a) => format!("[{t}] ALERT {} ({}): {}", a.kind, a.speaker.as_str(), a.text),
        Event::Status(s) => format!("[{t}] status {}: {}", s.kind, s.message),
    })
}

/// Prints every event of a pipeline until it ends (JSON Lines or one human
/// line each) and returns what `--stats` reports.
pub(crate) fn print_timeline(pipeline: Pipeline, json: bool) -> Result<(RunStats, crate::pipeline::QueueStats)> {
    let mut stats = RunStats::default();
    for ev in pipeline.events.iter() {
        stats.observe(&ev);
        if json {
            out_line(&serde_json::to_string(&ev)?)?;
        } else if let Some(line) = human(&ev) {
            out_line(&line)?;
        }
    }
    let q = pipeline.queue.stats();
    pipeline.join();
    Ok((stats, q))
}

/// Starts the analysis side (lexicons, playbook, watcher) for a pipeline.
pub(crate) fn worker_parts(cfg: &Config, engine: WhisperEngine) -> Result<AsrWorkerParts> {
    let watcher = match &cfg.playbook.dir {
        Some(dir) => Some(crate::coach::watch::PlaybookWatcher::new(dir)?),
        None => None,
    };
    let playbook = match &watcher {
        Some(w) => w.current(),
        None => super::load_playbook(cfg)?,
    };
    Ok(AsrWorkerParts { engine, lexicons: super::load_lexicons(cfg)?, analysis: cfg.analysis.clone(), playbook, watcher })
}

/// DSP settings from the config.
pub(crate) fn dsp_config(cfg: &Config, partials: bool) -> DspConfig {
    let mut d = DspConfig::from_config(&cfg.vad, &cfg.pipeline);
    if !partials {
        d.partial_every_ms = 0;
    }
    d
}

pub(super) fn run(cfg: &Config, args: &ReplayArgs) -> Result<()> {
    let wav = read_wav(&args.file)?;
    // Validates the channel layout against the file before anything starts.
    speaker_channels(&wav, &cfg.audio, &args.file)?;
    let map = channel_map(&wav, &cfg.audio);
    let audio_s = wav.duration_s();
    let engine = WhisperEngine::load(asr_config(cfg)).context("loading the Whisper model")?;
    let parts = worker_parts(cfg, engine)?;
    let (tx, rx) = bounded(256);
    let started = Instant::now();
    let pipeline = Pipeline::start(rx, parts, dsp_config(cfg, !args.no_partials), args.realtime, cfg.pipeline.max_queued_audio_s)?;
    let replay = spawn_replay(wav, map, args.realtime, tx).context("starting the replay")?;
    let (stats, q) = print_timeline(pipeline, args.json)?;
    let _ = replay.join();
    if args.stats {
        stats.print(audio_s, started.elapsed().as_secs_f64(), args.realtime, &q);
    }
    Ok(())
}
