//! Signals: Ctrl-C and SIGTERM stop gracefully (the utterance in progress is
//! transcribed and analysed, the call is closed with its summary, outputs
//! are flushed); a second one exits at once. SIGUSR1 ends the call in
//! progress, as the overlay's "end call" button does.

use anyhow::{Context, Result};
use callcoach::pipeline::Controls;
use callcoach::session::Stopper;
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

/// Handles the signals for a running session on a thread of its own.
pub(crate) fn install(stopper: Stopper, controls: Controls) -> Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGUSR1]).context("installing the signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                match sig {
                    SIGUSR1 => {
                        tracing::info!("SIGUSR1: ending the call in progress");
                        controls.end_call();
                    }
                    _ if stopper.stopping() => {
                        eprintln!("stopping now");
                        std::process::exit(128 + sig);
                    }
                    _ => {
                        eprintln!("stopping: finishing the call in progress (press Ctrl-C again to quit at once)");
                        stopper.stop();
                    }
                }
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}
