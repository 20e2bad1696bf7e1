//! The board link for `run`, `replay` and `agent`: a lossless consumer of
//! the session's events, started once the session runs, drained at the end.
//! (Built without the `board` feature, a configured board is an error.)

#[cfg(feature = "board")]
pub(crate) use with_board::*;
#[cfg(not(feature = "board"))]
pub(crate) use without_board::*;

#[cfg(not(feature = "board"))]
mod without_board {
    use std::time::Duration;

    use anyhow::{bail, Result};
    use callcoach::config::Config;
    use callcoach::pipeline::Controls;
    use callcoach::session::SessionBuilder;

    /// Never made: no board support.
    pub(crate) enum Link {}
    /// Never made: no board support.
    pub(crate) enum Uplink {}

    pub(crate) fn prepare(cfg: &Config, _builder: &mut SessionBuilder, _check_now: bool) -> Result<Option<Link>> {
        if cfg.board.url.is_some() || cfg.board.nats.is_some() {
            bail!("this callcoach was built without the board feature; rebuild with default features to stream to a board");
        }
        Ok(None)
    }

    pub(crate) fn start(link: Option<Link>, _controls: Controls) -> Result<Option<Uplink>> {
        Ok(link.map(|l| match l {}))
    }

    pub(crate) fn finish(uplink: Option<Uplink>, _drain: Duration) -> Result<()> {
        if let Some(u) = uplink {
            match u {}
        }
        Ok(())
    }
}

#[cfg(feature = "board")]
mod with_board {

    use std::time::Duration;

    use anyhow::{bail, Result};
    use callcoach::config::Config;
    use callcoach::pipeline::{Controls, Delivery, Subscription};
    use callcoach::session::SessionBuilder;
    use callcoach::uplink::{self, Uplink, UplinkConfig};

    /// A link subscribed to a session that has not started yet.
    pub(crate) struct Link {
        cfg: UplinkConfig,
        events: Subscription,
    }

    /// Subscribes the board link when `[board]` (or `--board`) names a board.
    /// With `check_now` a refused token stops the command before it starts.
    pub(crate) fn prepare(cfg: &Config, builder: &mut SessionBuilder, check_now: bool) -> Result<Option<Link>> {
        let nats = cfg.board.nats.clone().map(|url| uplink::NatsLink {
            url,
            site: cfg.board.site.clone().unwrap_or_else(|| "default".into()),
            agent: cfg.agent.name.clone(),
        });
        let (url, token) = match (&cfg.board.url, &cfg.board.token, &nats) {
            (Some(u), Some(t), _) => (u.clone(), t.clone()),
            (_, _, Some(n)) => (n.url.clone(), String::new()),
            _ => return Ok(None),
        };
        let ucfg = UplinkConfig {
            url: url.clone(),
            token,
            spool_dir: cfg.board.spool_dir.clone().unwrap_or_else(|| callcoach::asr::model::data_dir().join("spool")),
            spool_max_bytes: cfg.board.spool_max_mb.unwrap_or(200) * 1024 * 1024,
            ca_cert: cfg.board.ca_cert.clone(),
            analysis: cfg.analysis.clone(),
            nats: nats.clone(),
        };
        if nats.is_none() {
            uplink::ws_url(&url)?;
            if check_now {
                uplink::check(&ucfg)?;
            }
        }
        let events = builder.subscribe("board uplink", Delivery::Lossless);
        Ok(Some(Link { cfg: ucfg, events }))
    }

    /// Starts the link once the session runs.
    pub(crate) fn start(link: Option<Link>, controls: Controls) -> Result<Option<Uplink>> {
        link.map(|l| Uplink::start(l.cfg, l.events, controls)).transpose().map_err(Into::into)
    }

    /// Lets the board take what waits (up to `drain`), and says what is left.
    pub(crate) fn finish(uplink: Option<Uplink>, drain: Duration) -> Result<()> {
        let Some(u) = uplink else { return Ok(()) };
        let r = u.finish(drain);
        if let Some(reason) = r.refused {
            bail!("the board refused this agent's token ({reason}); events were kept in the spool");
        }
        if r.spool.waiting > 0 {
            eprintln!("board: {} events of {} calls wait in the spool; they are sent when the board is reachable (next start)", r.spool.waiting, r.spool.calls);
        } else {
            tracing::info!("board: all {} events acknowledged", r.acknowledged);
        }
        if r.spool.dropped_calls > 0 {
            eprintln!("board: the spool was full: {} finished calls ({} events) were dropped", r.spool.dropped_calls, r.spool.dropped_events);
        }
        Ok(())
    }
}
