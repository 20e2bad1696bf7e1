//! A load generator for the board: N simulated agents, each streaming a
//! realistic call's events at live pace over its own real socket (the
//! board's WebSocket, or the broker), call after call, and P supervisor
//! pages following `/api/live`. It reports events a second and the latency
//! from an agent sending an event to a page receiving it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::analysis::{AnalysisConfig, Lexicons};
use crate::coach::Playbook;
use crate::events::{CallId, Speaker, TimedEvent};
use crate::wire::AgentMsg;

/// How to load the board.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The board, `http://host:port` (pages, and agents on the direct path).
    pub board: String,
    /// Agent tokens, one per simulated agent (direct path).
    pub agent_tokens: Vec<String>,
    /// Simulated agents (the broker path uses names, not tokens).
    pub agents: usize,
    /// A supervisor token for the pages.
    pub supervisor_token: String,
    /// Pages following the board live.
    pub pages: usize,
    /// How long to measure (after the ramp-up).
    pub duration: Duration,
    /// Agents start spread over this long.
    pub ramp: Duration,
    /// Publish to this broker instead of the board's WebSocket.
    pub nats: Option<String>,
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Events the agents sent while measuring.
    pub sent: u64,
    /// Events acknowledged (direct path: by the board; broker: by JetStream).
    pub acknowledged: u64,
    /// Page receipts of events while measuring (each page counts).
    pub received: u64,
    /// Events a second the board took (sent / measuring time).
    pub events_per_s: f64,
    /// Agent send -> page receipt, ms: p50, p95, p99, max.
    pub latency_ms: [f64; 4],
    /// Agents that could not connect or were cut off.
    pub agent_failures: u64,
}

/// The events of one realistic call (the bundled sample's seven turns),
/// with the call time each is due at.
pub fn template_call() -> Result<Vec<TimedEvent>, String> {
    use Speaker::{Agent as A, Customer as C};
    let turns: [(Speaker, f64, f64, &str); 7] = [
        (C, 0.6, 4.66, "喂，你好，我要销户，这个号码我不想用了。"),
        (A, 5.36, 11.34, "您好，非常理解您的心情，请问是什么原因让您想要销户呢？"),
        (C, 11.94, 15.96, "你们的网络信号太差了，在家里经常打不通电话。"),
        (A, 16.76, 21.07, "非常抱歉给您带来不便，换成是我也会很着急。"),
        (A, 21.47, 28.77, "我马上为您安排网络优化，另外您看是送半年流量包，还是每月减免二十元话费？"),
        (C, 29.67, 31.35, "那就要流量包吧。"),
        (A, 32.05, 40.26, "好的，我再跟您确认一下，工程师两天内联系您，流量包今天开通，我的工号是一零八六。"),
    ];
    let lex = Arc::new(Lexicons::embedded().map_err(|e| e.to_string())?);
    let pb = Arc::new(Playbook::builtin().map_err(|e| e.to_string())?);
    Ok(crate::call::script(lex, AnalysisConfig::default(), pb, "load", &turns))
}

struct Shared {
    sent_at: Mutex<HashMap<(CallId, u64), Instant>>,
    latencies: Mutex<Vec<f64>>,
    sent: AtomicU64,
    acked: AtomicU64,
    received: AtomicU64,
    failures: AtomicU64,
    measuring: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn record_send(&self, events: &[TimedEvent]) {
        let now = Instant::now();
        let mut m = self.sent_at.lock().unwrap_or_else(|p| p.into_inner());
        for e in events {
            if let (Some(c), Some(s)) = (e.call_id, e.seq) {
                m.insert((c, s), now);
            }
        }
        if self.measuring.load(Ordering::Relaxed) {
            self.sent.fetch_add(events.len() as u64, Ordering::Relaxed);
        }
    }
}

/// Runs the load and reports.
pub async fn run(opts: LoadOptions) -> Result<LoadReport, String> {
    let template = Arc::new(template_call()?);
    let shared = Arc::new(Shared {
        sent_at: Mutex::new(HashMap::new()),
        latencies: Mutex::new(Vec::new()),
        sent: AtomicU64::new(0),
        acked: AtomicU64::new(0),
        received: AtomicU64::new(0),
        failures: AtomicU64::new(0),
        measuring: std::sync::atomic::AtomicBool::new(false),
    });
    let deadline = Instant::now() + opts.ramp + opts.duration;
    let addr = opts.board.trim_start_matches("http://").trim_end_matches('/').to_string();
    for _ in 0..opts.pages {
        tokio::spawn(page(addr.clone(), opts.supervisor_token.clone(), shared.clone(), deadline));
    }
    let js = match &opts.nats {
        Some(url) => Some(crate::broker::connect(url).await?.1),
        None => None,
    };
    let mut tasks = Vec::new();
    for i in 0..opts.agents {
        let delay = opts.ramp.mul_f64(i as f64 / opts.agents.max(1) as f64);
        let (template, shared) = (template.clone(), shared.clone());
        let link = match (&js, opts.agent_tokens.get(i)) {
            (Some(js), _) => Link::Broker(js.clone(), crate::broker::events_subject("load", &format!("agent{i}"))),
            (None, Some(t)) => Link::Ws(addr.clone(), t.clone()),
            (None, None) => return Err(format!("{} agents need {} agent tokens; got {}", opts.agents, opts.agents, opts.agent_tokens.len())),
        };
        tasks.push(tokio::spawn(agent(link, template, shared, delay, deadline)));
    }
    tokio::time::sleep(opts.ramp).await;
    shared.latencies.lock().unwrap_or_else(|p| p.into_inner()).clear();
    shared.measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(opts.duration).await;
    shared.measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for t in tasks {
        t.abort();
    }
    let mut lat = shared.latencies.lock().unwrap_or_else(|p| p.into_inner()).clone();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat.get(((lat.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(f64::NAN);
    let sent = shared.sent.load(Ordering::Relaxed);
    Ok(LoadReport {
        sent,
        acknowledged: shared.acked.load(Ordering::Relaxed),
        received: shared.received.load(Ordering::Relaxed),
        events_per_s: sent as f64 / elapsed,
        latency_ms: [pct(0.5), pct(0.95), pct(0.99), pct(1.0)],
        agent_failures: shared.failures.load(Ordering::Relaxed),
    })
}

enum Link {
    Ws(String, String),
    Broker(async_nats::jetstream::Context, String),
}

/// One simulated agent: calls one after another, events at live pace.
async fn agent(link: Link, template: Arc<Vec<TimedEvent>>, shared: Arc<Shared>, delay: Duration, deadline: Instant) {
    tokio::time::sleep(delay).await;
    let mut ws = match &link {
        Link::Ws(addr, token) => {
            let Ok(mut req) = format!("ws://{addr}/api/agent/ws").into_client_request() else { return };
            let Ok(auth) = format!("Bearer {token}").parse() else { return };
            req.headers_mut().insert("Authorization", auth);
            match tokio_tungstenite::connect_async(req).await {
                Ok((ws, _)) => Some(ws),
                Err(_) => {
                    shared.failures.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        Link::Broker(..) => None,
    };
    while Instant::now() < deadline {
        let call = CallId::new();
        let start = Instant::now();
        let mut i = 0;
        while i < template.len() {
            // Everything due now goes in one message, as the uplink batches.
            let due = start + Duration::from_secs_f64(template[i].t.max(0.0));
            tokio::time::sleep_until(due.into()).await;
            let mut batch = Vec::new();
            while i < template.len() && start + Duration::from_secs_f64(template[i].t.max(0.0)) <= Instant::now() {
                let mut e = template[i].clone();
                e.call_id = Some(call);
                batch.push(e);
                i += 1;
            }
            shared.record_send(&batch);
            let ok = match (&link, ws.as_mut()) {
                (Link::Ws(..), Some(ws)) => send_ws(ws, &batch, &shared).await,
                (Link::Broker(js, subject), _) => send_broker(js, subject, &batch, &shared).await,
                _ => false,
            };
            if !ok {
                shared.failures.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        // A short pause between calls.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send_ws(ws: &mut WsStream, batch: &[TimedEvent], shared: &Shared) -> bool {
    let Ok(text) = serde_json::to_string(&AgentMsg::Events { events: batch.to_vec() }) else { return false };
    if ws.send(Message::Text(text.into())).await.is_err() {
        return false;
    }
    // The acknowledgement (the board answers every message).
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"ack\"") => {
                if shared.measuring.load(Ordering::Relaxed) {
                    shared.acked.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                return true;
            }
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"error\"") => return false,
            Ok(Some(Ok(_))) => continue,
            _ => return false,
        }
    }
}

async fn send_broker(js: &async_nats::jetstream::Context, subject: &str, batch: &[TimedEvent], shared: &Shared) -> bool {
    for e in batch {
        let (Some(c), Some(s)) = (e.call_id, e.seq) else { continue };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("{c}:{s}").as_str());
        let Ok(body) = serde_json::to_vec(e) else { return false };
        let Ok(ack) = js.publish_with_headers(subject.to_string(), headers, body.into()).await else { return false };
        if ack.await.is_err() {
            return false;
        }
        if shared.measuring.load(Ordering::Relaxed) {
            shared.acked.fetch_add(1, Ordering::Relaxed);
        }
    }
    true
}

/// A supervisor's page: follows `/api/live` and times every event it gets.
async fn page(addr: String, token: String, shared: Arc<Shared>, deadline: Instant) {
    let Ok(mut stream) = tokio::net::TcpStream::connect(&addr).await else {
        shared.failures.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let req = format!("GET /api/live HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n");
    if stream.write_all(req.as_bytes()).await.is_err() {
        return;
    }
    let mut lines = BufReader::new(stream).lines();
    while Instant::now() < deadline {
        let Ok(Some(line)) = lines.next_line().await else { return };
        let Some(data) = line.strip_prefix("data: ") else { continue };
        if !data.starts_with("{\"type\":\"event\"") {
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(data) else { continue };
        let ev = &v["event"];
        let (Some(c), Some(s)) = (ev["call_id"].as_str().and_then(|c| c.parse::<CallId>().ok()), ev["seq"].as_u64()) else { continue };
        let at = shared.sent_at.lock().unwrap_or_else(|p| p.into_inner()).get(&(c, s)).copied();
        if let Some(at) = at {
            if shared.measuring.load(Ordering::Relaxed) {
                shared.received.fetch_add(1, Ordering::Relaxed);
                shared.latencies.lock().unwrap_or_else(|p| p.into_inner()).push(at.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
}
