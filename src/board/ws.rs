//! An agent's connection: `GET /api/agent/ws` with `Authorization: Bearer
//! AGENT_TOKEN`. An unknown or revoked token gets 401 before any upgrade;
//! a malformed, oversized or too frequent message gets an `error` and the
//! connection is closed, with nothing of that message stored.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{Board, IngestError, Principal};
use crate::events::SCHEMA_VERSION;
use crate::wire::{AgentMsg, BoardMsg, MAX_BATCH};

/// A token bucket: `rate` events a second, at most `burst` at once.
struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: u32, burst: u32) -> Self {
        Self { tokens: burst as f64, rate: rate as f64, burst: burst as f64, at: Instant::now() }
    }

    /// Takes `n` tokens if there are; false (nothing taken) if not.
    fn take(&mut self, n: usize) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= n as f64 {
            self.tokens -= n as f64;
            true
        } else {
            false
        }
    }
}

async fn send(ws: &mut WebSocket, msg: &BoardMsg) -> bool {
    match serde_json::to_string(msg) {
        Ok(text) => ws.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn refuse(ws: &mut WebSocket, agent: &str, message: String) {
    tracing::warn!(%agent, "refused: {message}");
    let _ = send(ws, &BoardMsg::Error { message }).await;
    let _ = ws.send(Message::Close(None)).await;
}

/// Serves one agent until it goes away or breaks the protocol.
pub async fn serve(board: Arc<Board>, agent: Principal, mut ws: WebSocket) {
    let name = agent.name.clone();
    tracing::info!(agent = %name, "agent connected");
    let (tx, mut notes) = mpsc::unbounded_channel::<BoardMsg>();
    let waiting = board.agent_connected(&name, tx.clone());
    if !send(&mut ws, &BoardMsg::Welcome { agent: name.clone(), v: SCHEMA_VERSION }).await {
        board.agent_disconnected(&name, &tx);
        return;
    }
    for n in &waiting {
        let _ = send(&mut ws, n).await;
    }
    let mut bucket = Bucket::new(board.options.max_events_per_s, board.options.max_burst);
    loop {
        tokio::select! {
            note = notes.recv() => {
                match note {
                    Some(n) => if !send(&mut ws, &n).await { break },
                    None => break,
                }
            }
            msg = ws.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Binary(_))) => { refuse(&mut ws, &name, "binary messages are not part of the protocol; send JSON text".into()).await; break }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(e)) => { tracing::warn!(agent = %name, "connection error: {e}"); break }
                };
                let parsed: AgentMsg = match serde_json::from_str(&text) {
                    Ok(m) => m,
                    Err(e) => { refuse(&mut ws, &name, format!("malformed message: {e}")).await; break }
                };
                let AgentMsg::Events { events } = parsed;
                if events.len() > MAX_BATCH {
                    refuse(&mut ws, &name, format!("{} events in one message; at most {MAX_BATCH}", events.len())).await;
                    break;
                }
                if !bucket.take(events.len()) {
                    refuse(&mut ws, &name, format!("more than {} events a second; slow down", board.options.max_events_per_s)).await;
                    break;
                }
                let b = board.clone();
                let who = agent.clone();
                let result = tokio::task::spawn_blocking(move || b.ingest(&who, events)).await;
                match result {
                    Ok(Ok(acks)) => if !acks.is_empty() && !send(&mut ws, &BoardMsg::Ack { acks }).await { break },
                    Ok(Err(IngestError::Refused(m))) => { refuse(&mut ws, &name, m).await; break }
                    Ok(Err(e)) => { tracing::error!(agent = %name, "storing events failed: {e}"); let _ = send(&mut ws, &BoardMsg::Error { message: "the board could not store the events; they will be sent again".into() }).await; break }
                    Err(e) => { tracing::error!(agent = %name, "ingest task failed: {e}"); break }
                }
            }
        }
    }
    board.agent_disconnected(&name, &tx);
    tracing::info!(agent = %name, "agent disconnected");
}
