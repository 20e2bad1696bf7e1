//! `callcoach run` (live capture) and `callcoach devices`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use crossbeam_channel::bounded;

use super::out_line;
use super::replay::{dsp_config, print_timeline, worker_parts};
use super::transcribe::asr_config;
use crate::asr::WhisperEngine;
use crate::audio::capture::{list_devices, spawn_device, Route};
use crate::audio::source::SourceMsg;
use crate::cli::{DevicesArgs, RunArgs};
use crate::config::Config;
use crate::events::Speaker;
use crate::pipeline::Pipeline;

pub(super) fn devices(args: &DevicesArgs) -> Result<()> {
    let devs = list_devices(&args.host)?;
    if devs.is_empty() {
        bail!("no audio input devices found (host {}); is a sound server running?", args.host);
    }
    for d in devs {
        if args.json {
            out_line(&serde_json::to_string(&d)?)?;
        } else {
            out_line(&format!(
                "{}{:<40} {}   ({} ch, {} Hz, {})",
                if d.is_default { "* " } else { "  " },
                d.name,
                d.description,
                d.channels,
                d.sample_rate_hz,
                d.format
            ))?;
        }
    }
    Ok(())
}

pub(super) fn run(cfg: &Config, args: &RunArgs) -> Result<()> {
    let c = &cfg.capture;
    let engine = WhisperEngine::load(asr_config(cfg)).context("loading the Whisper model")?;
    let parts = worker_parts(cfg, engine)?;
    let (tx, rx) = bounded::<SourceMsg>(512);
    let stop = Arc::new(AtomicBool::new(false));
    let reopen = Duration::from_millis(c.reopen_every_ms.max(100));
    let mut devices = Vec::new();
    match &c.stereo_device {
        Some(dev) => {
            let routes = vec![
                Route { speaker: Speaker::Agent, channel: Some(cfg.audio.agent_channel) },
                Route { speaker: Speaker::Customer, channel: Some(cfg.audio.customer_channel) },
            ];
            devices.push(spawn_device(c.host.clone(), dev.clone(), routes, reopen, tx.clone(), stop.clone())?);
        }
        None => {
            if c.customer_device.is_empty() {
                bail!("no customer-side device: set capture.customer_device (or --customer-device); `callcoach devices` lists the names");
            }
            for (speaker, dev) in [(Speaker::Agent, &c.agent_device), (Speaker::Customer, &c.customer_device)] {
                let route = vec![Route { speaker, channel: None }];
                devices.push(spawn_device(c.host.clone(), dev.clone(), route, reopen, tx.clone(), stop.clone()).with_context(|| format!("opening the {speaker} device"))?);
            }
        }
    }
    let pipeline = Pipeline::start(rx, parts, dsp_config(cfg, true), true, cfg.pipeline.max_queued_audio_s)?;
    // Stop after --duration-s, or when stdin closes (Ctrl-D / the parent goes away).
    let stopper = {
        let stop = stop.clone();
        let tx = tx.clone();
        let limit = args.duration_s;
        std::thread::spawn(move || {
            let start = Instant::now();
            match limit {
                Some(s) => {
                    while start.elapsed().as_secs_f64() < s {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
                None => {
                    let mut sink = String::new();
                    while std::io::stdin().read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                        sink.clear();
                    }
                }
            }
            stop.store(true, Ordering::Relaxed);
            // Let the capture threads forward what they hold, then end the stream.
            std::thread::sleep(Duration::from_millis(200));
            let _ = tx.send(SourceMsg::End);
        })
    };
    drop(tx);
    let started = Instant::now();
    let (stats, q) = print_timeline(pipeline, args.json)?;
    for d in devices {
        let _ = d.join();
    }
    let _ = stopper.join();
    if args.stats {
        stats.print(started.elapsed().as_secs_f64(), started.elapsed().as_secs_f64(), true, &q);
    }
    Ok(())
}
