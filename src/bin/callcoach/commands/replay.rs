//! `callcoach replay CALL.wav`: the live pipeline on a recording.

use std::time::Duration;

use anyhow::Result;
use callcoach::config::Config;
use callcoach::pipeline::Delivery;
use callcoach::session::{Input, SessionBuilder};

use super::timeline::print_timeline;
use crate::cli::ReplayArgs;

/// The delivery of the terminal output: everything for a JSON record, the
/// latest for a person reading along.
pub(crate) fn output_delivery(json: bool) -> Delivery {
    if json {
        Delivery::Lossless
    } else {
        Delivery::DropOldest(4096)
    }
}

pub(super) fn run(cfg: &Config, args: &ReplayArgs) -> Result<()> {
    let input = Input::File { path: args.file.clone(), realtime: args.realtime };
    let mut builder = SessionBuilder::new(cfg, input).partials(!args.no_partials);
    let out = builder.subscribe(if args.json { "json" } else { "terminal" }, output_delivery(args.json));
    let link = super::link::prepare(cfg, &mut builder, true)?;
    let session = builder.start()?;
    crate::signals::install(session.stopper(), session.controls())?;
    let uplink = super::link::start(link, session.controls())?;
    let stats = print_timeline(&out, args.json)?;
    let report = session.wait();
    super::link::finish(uplink, Duration::from_secs(15))?;
    if args.stats {
        stats.print(&report, args.realtime, &out.meter().report());
    }
    Ok(())
}
