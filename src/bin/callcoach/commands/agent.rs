//! `callcoach agent`: the agent's window. Live capture, or `--replay
//! CALL.wav` in real time; without a display it says so and prints the
//! terminal timeline instead.

use std::time::Duration;

use anyhow::{Context, Result};
use callcoach::config::Config;
use callcoach::overlay::app::{self, OverlayParts};
use callcoach::pipeline::Delivery;
use callcoach::session::{Input, SessionBuilder};

use super::timeline::print_timeline;
use crate::cli::AgentArgs;

/// Events a slow window may fall behind by before the oldest are dropped.
const OVERLAY_QUEUE: usize = 1024;

fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
}

pub(super) fn run(cfg: &Config, args: &AgentArgs) -> Result<()> {
    let input = match &args.replay {
        Some(path) => Input::File { path: path.clone(), realtime: true },
        None => Input::Devices,
    };
    let source_label = match &args.replay {
        Some(p) => format!("回放 {}", p.display()),
        None => format!("实时 · {}", cfg.agent.name),
    };
    if !has_display() {
        eprintln!("no display (DISPLAY is not set; the overlay needs X11 or XWayland): showing the terminal timeline instead");
        let mut builder = SessionBuilder::new(cfg, input);
        let out = builder.subscribe("terminal", Delivery::DropOldest(4096));
        let link = super::link::prepare(cfg, &mut builder, false)?;
        let session = builder.start()?;
        crate::signals::install(session.stopper(), session.controls())?;
        let uplink = super::link::start(link, session.controls())?;
        let stats = print_timeline(&out, false)?;
        let report = session.wait();
        super::link::finish(uplink, Duration::from_secs(5))?;
        if args.stats {
            stats.print(&report, true, &out.meter().report());
        }
        return Ok(());
    }
    // The font first: without Chinese glyphs the window is useless.
    let font = app::load_font(&cfg.overlay)?;
    let mut builder = SessionBuilder::new(cfg, input);
    let events = builder.subscribe("overlay", Delivery::DropOldest(OVERLAY_QUEUE));
    let meter = events.meter();
    let link = super::link::prepare(cfg, &mut builder, false)?;
    let session = builder.start()?;
    let stopper = session.stopper();
    crate::signals::install(stopper.clone(), session.controls())?;
    let uplink = super::link::start(link, session.controls())?;
    let parts = OverlayParts { cfg: cfg.overlay.clone(), source_label, controls: session.controls(), stopper: stopper.clone() };
    let shown = app::run(events, parts, font).context("running the overlay window")?;
    // The window is closed: end the call in progress properly.
    stopper.stop();
    let report = session.wait();
    super::link::finish(uplink, Duration::from_secs(5))?;
    if args.stats {
        let q = meter.report();
        let mut lat = shown.event_to_frame_ms.clone();
        lat.sort_by(f64::total_cmp);
        let pct = |p: f64| lat.get(((lat.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(f64::NAN);
        eprintln!("frames: {} event_to_frame_ms p50: {:.1} p95: {:.1} max: {:.1}", shown.frames, pct(0.5), pct(0.95), pct(1.0));
        eprintln!("overlay queue: events {} dropped {} max_queued {} max_wait_ms {:.1}", q.sent, q.dropped, q.max_len, q.max_wait_ms);
        eprintln!("wall_s: {:.1} recognition queue max_lag_ms {:.0}", report.wall_s, report.queue.max_lag_ms);
        if let Some(rss) = callcoach::sysinfo::peak_rss_mib() {
            eprintln!("peak_rss_mib: {rss:.0}");
        }
    }
    Ok(())
}
