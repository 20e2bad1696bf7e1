//! `callcoach run` (live capture) and `callcoach devices`.

use std::time::Duration;

use anyhow::{bail, Result};
use callcoach::audio::capture::list_devices;
use callcoach::config::Config;
use callcoach::session::{Input, SessionBuilder};

use super::out_line;
use super::replay::output_delivery;
use super::timeline::print_timeline;
use crate::cli::{DevicesArgs, RunArgs};

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
    let mut builder = SessionBuilder::new(cfg, Input::Devices);
    let out = builder.subscribe(if args.json { "json" } else { "terminal" }, output_delivery(args.json));
    let link = super::link::prepare(cfg, &mut builder, false)?;
    let session = builder.start()?;
    crate::signals::install(session.stopper(), session.controls())?;
    let uplink = super::link::start(link, session.controls())?;
    // Stop after --duration-s, or when stdin closes (Ctrl-D / the parent goes away).
    let stopper = session.stopper();
    let limit = args.duration_s;
    std::thread::spawn(move || {
        match limit {
            Some(s) => std::thread::sleep(Duration::from_secs_f64(s)),
            None => {
                let mut sink = String::new();
                while std::io::stdin().read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                    sink.clear();
                }
            }
        }
        stopper.stop();
    });
    let stats = print_timeline(&out, args.json)?;
    let report = session.wait();
    super::link::finish(uplink, Duration::from_secs(5))?;
    if args.stats {
        stats.print(&report, true, &out.meter().report());
    }
    Ok(())
}
