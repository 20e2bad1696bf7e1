//! A board consuming the broker: its own durable JetStream consumer (named
//! by `--board-id`), everything or one site, each event stored once and
//! acknowledged to the broker only once stored (a board killed before that
//! gets it again). Notes go back on the agent's note subject.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, Consumer, DeliverPolicy};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{Board, IngestError, Principal, Role};
use crate::broker;
use crate::events::TimedEvent;
use crate::wire::BoardMsg;

/// How a board reads the broker.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// `nats://host:4222`.
    pub url: String,
    /// This board's durable consumer name (one per board process).
    pub board_id: String,
    /// Only this site's agents (None: the whole centre).
    pub site: Option<String>,
}

fn consumer_name(id: &str) -> String {
    // Consumer names: no dots, spaces, wildcards.
    broker::token(id).replace('~', "_")
}

/// Reads the broker until the process ends, reconnecting after failures.
pub async fn consume(board: Arc<Board>, opts: NatsOptions) {
    let sites: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let (notes_tx, notes_rx) = mpsc::unbounded_channel::<(String, BoardMsg)>();
    let sites_for_notes = sites.clone();
    board.set_note_sink(Box::new(move |agent: &str, msg: &BoardMsg| {
        // Only agents seen on the broker get notes this way.
        sites_for_notes.lock().unwrap_or_else(|p| p.into_inner()).contains_key(agent) && notes_tx.send((agent.to_string(), msg.clone())).is_ok()
    }));
    let mut notes_rx = Some(notes_rx);
    loop {
        match run(&board, &opts, &sites, &mut notes_rx).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!("the broker: {e}; trying again in 2 s");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn run(
    board: &Arc<Board>,
    opts: &NatsOptions,
    sites: &Arc<Mutex<HashMap<String, String>>>,
    notes_rx: &mut Option<mpsc::UnboundedReceiver<(String, BoardMsg)>>,
) -> Result<(), String> {
    let (client, js) = broker::connect(&opts.url).await?;
    let stream = js.get_stream(broker::STREAM).await.map_err(|e| e.to_string())?;
    let filter = match &opts.site {
        Some(site) => format!("{}.{}.>", broker::EVENTS, broker::token(site)),
        None => format!("{}.>", broker::EVENTS),
    };
    let name = consumer_name(&opts.board_id);
    let consumer: Consumer<pull::Config> = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: filter,
                ack_policy: AckPolicy::Explicit,
                deliver_policy: DeliverPolicy::All,
                max_ack_pending: 20_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(consumer = %name, "reading events from the broker at {}", opts.url);
    if let Some(mut rx) = notes_rx.take() {
        let (client, sites) = (client.clone(), sites.clone());
        tokio::spawn(async move {
            while let Some((agent, msg)) = rx.recv().await {
                let site = sites.lock().unwrap_or_else(|p| p.into_inner()).get(&agent).cloned();
                let (Some(site), Ok(body)) = (site, serde_json::to_vec(&msg)) else { continue };
                if let Err(e) = client.publish(broker::notes_subject(&site, &agent), body.into()).await {
                    tracing::warn!(%agent, "a note could not go out on the broker: {e}");
                }
            }
        });
    }
    // Whatever has arrived is taken together: one transaction per agent,
    // then every message acknowledged (a board killed before that gets
    // them again, and stores each once).
    let mut batches = consumer.messages().await.map_err(|e| e.to_string())?.ready_chunks(512);
    while let Some(batch) = batches.next().await {
        let mut by_agent: HashMap<String, Vec<TimedEvent>> = HashMap::new();
        let mut acks = Vec::with_capacity(batch.len());
        for msg in batch {
            let msg = msg.map_err(|e| e.to_string())?;
            match broker::parse_events_subject(msg.subject.as_str()) {
                Some((site, agent)) => match serde_json::from_slice::<TimedEvent>(&msg.payload) {
                    Ok(ev) => {
                        sites.lock().unwrap_or_else(|p| p.into_inner()).insert(agent.clone(), site);
                        by_agent.entry(agent).or_default().push(ev);
                    }
                    Err(e) => tracing::warn!(%agent, "a malformed event on the broker ({e}); dropped"),
                },
                None => tracing::warn!(subject = %msg.subject, "not an event subject; dropped"),
            }
            acks.push(msg);
        }
        for (agent, events) in by_agent {
            // On the broker path the broker's permissions say who may publish
            // on an agent's subject; the board takes the agent from the subject.
            let who = Principal { id: 0, name: agent.clone(), role: Role::Agent };
            let b = board.clone();
            match tokio::task::spawn_blocking(move || b.ingest(&who, events)).await {
                Ok(Ok(_)) => {}
                Ok(Err(IngestError::Refused(m))) => tracing::warn!(%agent, "refused from the broker: {m}"),
                Ok(Err(e)) => return Err(format!("storing failed ({e}); the broker will deliver it again")),
                Err(e) => return Err(e.to_string()),
            }
        }
        for msg in acks {
            msg.ack().await.map_err(|e| e.to_string())?;
        }
    }
    Err("the broker's message stream ended".into())
}
