//! The agent's link to the board: a lossless consumer of the pipeline's
//! events. Each event is masked of personal numbers, written to the spool
//! on disk, sent over a WebSocket, and forgotten once the board has
//! acknowledged it; while the board is unreachable events wait in the
//! spool and the link reconnects (1 s, doubling, at most 30 s), resending
//! what was not acknowledged. Notes from supervisors come back the same way
//! and are shown in the call. Its state reaches the agent's screen as
//! `board_unreachable` / `board_connected` statuses.

pub mod spool;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::events::{CallId, StatusEvent, StatusKind, SupervisorNote};
use crate::pipeline::{Controls, Subscription};

/// Where the link reports its state and delivers supervisors' notes: the
/// pipeline's [`Controls`] (so they show on every screen and in the call).
pub trait LinkSink: Send + 'static {
    /// A condition of the link (board unreachable, back).
    fn status(&self, status: StatusEvent);
    /// A supervisor's note for a call in progress.
    fn note(&self, call_id: CallId, note: SupervisorNote);
}

impl LinkSink for Controls {
    fn status(&self, status: StatusEvent) {
        Controls::status(self, status);
    }

    fn note(&self, call_id: CallId, note: SupervisorNote) {
        Controls::note(self, Some(call_id), note);
    }
}
use crate::wire::{AgentMsg, BoardMsg, MAX_BATCH};
pub use spool::{Spool, SpoolError, SpoolStats};

/// Where and how to reach the board (`[board]` in the config).
#[derive(Debug, Clone)]
pub struct UplinkConfig {
    /// The board's address, `http://host:port` or `https://host:port`.
    pub url: String,
    /// This agent's token (`callcoach board token add --role agent NAME`).
    pub token: String,
    /// The spool folder.
    pub spool_dir: PathBuf,
    /// Bound of the spool, bytes.
    pub spool_max_bytes: u64,
    /// A PEM certificate to trust for an `https` board (a centre's own CA).
    pub ca_cert: Option<PathBuf>,
    /// For the summaries of calls cut off by a stop (see [`Spool::open`]).
    pub analysis: crate::analysis::AnalysisConfig,
    /// Publish to a NATS JetStream broker instead of connecting to a board
    /// (a large centre; `url` and `token` are then not used).
    pub nats: Option<NatsLink>,
}

/// Where this agent publishes on the broker.
#[derive(Debug, Clone)]
pub struct NatsLink {
    /// `nats://host:4222`.
    pub url: String,
    /// The site (a subject level boards can filter on).
    pub site: String,
    /// This agent's name (a subject level; boards take it from there).
    pub agent: String,
}

/// Errors of the uplink.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    /// The board refused this PC's token.
    #[error("the board at {url} refused the agent token ({reason}); check the token (callcoach board token add --role agent NAME)")]
    Refused {
        /// The board.
        url: String,
        /// What it said.
        reason: String,
    },
    /// The spool cannot be written.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// A setting is wrong.
    #[error("{0}")]
    Config(String),
}

/// What the link did.
#[derive(Debug, Clone, Default)]
pub struct UplinkReport {
    /// Events acknowledged by the board.
    pub acknowledged: u64,
    /// The spool at the end (what still waits for the board).
    pub spool: SpoolStats,
    /// The board refused the token.
    pub refused: Option<String>,
}

struct Shared {
    spool: Mutex<Spool>,
    wake: Notify,
    input_done: AtomicBool,
    stop_now: AtomicBool,
    report: Mutex<UplinkReport>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The WebSocket address of a board URL.
pub fn ws_url(url: &str) -> Result<String, UplinkError> {
    let url = url.trim_end_matches('/');
    let (scheme, rest) =
        url.split_once("://").ok_or_else(|| UplinkError::Config(format!("board url {url:?} needs a scheme: http://host:port or https://host:port")))?;
    let ws = match scheme {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => return Err(UplinkError::Config(format!("board url scheme {other:?}: use http or https"))),
    };
    Ok(format!("{ws}://{rest}/api/agent/ws"))
}

/// A running link.
pub struct Uplink {
    shared: Arc<Shared>,
    spooler: JoinHandle<()>,
    net: JoinHandle<()>,
}

enum Connect {
    Refused(String),
    Failed(String),
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(cfg: &UplinkConfig) -> Result<Ws, Connect> {
    let url = ws_url(&cfg.url).map_err(|e| Connect::Failed(e.to_string()))?;
    let mut req = url.as_str().into_client_request().map_err(|e| Connect::Failed(e.to_string()))?;
    let auth = HeaderValue::from_str(&format!("Bearer {}", cfg.token)).map_err(|e| Connect::Failed(format!("the token is not a valid header value: {e}")))?;
    req.headers_mut().insert("Authorization", auth);
    let connector = match &cfg.ca_cert {
        Some(path) => Some(tls_connector(path).map_err(Connect::Failed)?),
        None => None,
    };
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().max_message_size(Some(crate::wire::MAX_MESSAGE_BYTES));
    let attempt = tokio_tungstenite::connect_async_tls_with_config(req, Some(config), true, connector);
    match tokio::time::timeout(Duration::from_secs(10), attempt).await {
        Err(_) => Err(Connect::Failed("no answer within 10 s".into())),
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp))) if resp.status() == 401 || resp.status() == 403 => {
            let body = resp.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
            Err(Connect::Refused(format!("HTTP {} {}", resp.status(), body.trim())))
        }
        Ok(Err(e)) => Err(Connect::Failed(e.to_string())),
    }
}

fn tls_connector(ca: &std::path::Path) -> Result<tokio_tungstenite::Connector, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca).map_err(|e| format!("board.ca_cert = {}: {e}", ca.display()))?;
    for c in certs {
        let c = c.map_err(|e| format!("board.ca_cert = {}: {e}", ca.display()))?;
        roots.add(c).map_err(|e| format!("board.ca_cert = {}: {e}", ca.display()))?;
    }
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    Ok(tokio_tungstenite::Connector::Rustls(Arc::new(config)))
}

/// Checks once that the board takes this token (for commands that should
/// fail at once on a wrong one). Ok(false): the board is unreachable now.
pub fn check(cfg: &UplinkConfig) -> Result<bool, UplinkError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| UplinkError::Config(e.to_string()))?;
    rt.block_on(async {
        match connect(cfg).await {
            Ok(mut ws) => {
                let _ = ws.close(None).await;
                Ok(true)
            }
            Err(Connect::Refused(reason)) => Err(UplinkError::Refused { url: cfg.url.clone(), reason }),
            Err(Connect::Failed(why)) => {
                tracing::warn!("the board at {} is not reachable now ({why}); events wait in the spool", cfg.url);
                Ok(false)
            }
        }
    })
}

impl Uplink {
    /// Starts the link: events from `events`, statuses and notes into the
    /// pipeline through `controls`.
    pub fn start(cfg: UplinkConfig, events: Subscription, controls: impl LinkSink) -> Result<Self, UplinkError> {
        if cfg.nats.is_none() {
            ws_url(&cfg.url)?;
        }
        let spool = Spool::open(&cfg.spool_dir, cfg.spool_max_bytes, &cfg.analysis)?;
        let waiting = spool.stats().waiting;
        if waiting > 0 {
            tracing::info!("{waiting} events from an earlier run wait in the spool {}; they are sent first", cfg.spool_dir.display());
        }
        let shared = Arc::new(Shared {
            spool: Mutex::new(spool),
            wake: Notify::new(),
            input_done: AtomicBool::new(false),
            stop_now: AtomicBool::new(false),
            report: Mutex::new(UplinkReport::default()),
        });
        let s = shared.clone();
        let spooler = std::thread::Builder::new()
            .name("uplink spool".into())
            .spawn(move || {
                for mut ev in events.iter() {
                    crate::pii::mask_event(&mut ev);
                    if let Err(e) = lock(&s.spool).append(ev) {
                        // The disk is full or gone: say so; what is in memory still goes out.
                        tracing::error!("{e}");
                    }
                    s.wake.notify_one();
                }
                if let Err(e) = lock(&s.spool).sync() {
                    tracing::error!("{e}");
                }
                s.input_done.store(true, Ordering::SeqCst);
                s.wake.notify_one();
            })
            .map_err(|e| UplinkError::Config(format!("cannot start a thread: {e}")))?;
        let s = shared.clone();
        let net = std::thread::Builder::new()
            .name("uplink net".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!("the board link cannot start: {e}");
                        return;
                    }
                };
                match cfg.nats.clone() {
                    Some(n) => rt.block_on(run_nats(n, s, controls)),
                    None => rt.block_on(run(cfg, s, controls)),
                }
            })
            .map_err(|e| UplinkError::Config(format!("cannot start a thread: {e}")))?;
        Ok(Self { shared, spooler, net })
    }

    /// Waits for the pipeline's events to end, then up to `drain` for the
    /// board to acknowledge what waits; what is left stays in the spool.
    pub fn finish(self, drain: Duration) -> UplinkReport {
        let _ = self.spooler.join();
        let deadline = Instant::now() + drain;
        while Instant::now() < deadline && lock(&self.shared.spool).stats().waiting > 0 && lock(&self.shared.report).refused.is_none() {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.shared.stop_now.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        let _ = self.net.join();
        let mut r = lock(&self.shared.report).clone();
        r.spool = lock(&self.shared.spool).stats();
        r
    }
}

fn status(controls: &impl LinkSink, kind: StatusKind, message: String) {
    controls.status(StatusEvent { kind, speaker: None, message });
}

/// Says when the link comes and goes, once per change (and every 30 s
/// while it stays down, with what waits).
struct Reachability {
    reachable: Option<bool>,
    last_report: Instant,
}

impl Reachability {
    fn new() -> Self {
        Self { reachable: None, last_report: Instant::now() }
    }

    fn up(&mut self, s: &Shared, controls: &impl LinkSink, what: &str) {
        if self.reachable != Some(true) {
            let waiting = lock(&s.spool).stats().waiting;
            if self.reachable.is_some() {
                status(controls, StatusKind::BoardConnected, format!("the board is reachable again; sending {waiting} waiting events"));
            }
            tracing::info!("connected to {what}");
            self.reachable = Some(true);
        }
    }

    fn down(&mut self, s: &Shared, controls: &impl LinkSink, what: &str, why: &str) {
        let waiting = lock(&s.spool).stats().waiting;
        if self.reachable != Some(false) || self.last_report.elapsed() >= Duration::from_secs(30) {
            self.last_report = Instant::now();
            tracing::warn!("{what} is unreachable ({why}); {waiting} events wait in the spool");
            status(controls, StatusKind::BoardUnreachable, format!("看板连不上，{waiting} 条待发送"));
            self.reachable = Some(false);
        }
    }
}

/// Waits `backoff` (or until a stop is asked for); returns the next backoff.
async fn pause(s: &Shared, backoff: Duration) -> Duration {
    let _ = tokio::time::timeout(backoff, async {
        while !s.stop_now.load(Ordering::SeqCst) {
            s.wake.notified().await;
        }
    })
    .await;
    (backoff * 2).min(Duration::from_secs(30))
}

async fn run(cfg: UplinkConfig, s: Arc<Shared>, controls: impl LinkSink) {
    let mut backoff = Duration::from_secs(1);
    let mut reach = Reachability::new();
    let what = format!("the board at {}", cfg.url);
    loop {
        if s.stop_now.load(Ordering::SeqCst) {
            return;
        }
        match connect(&cfg).await {
            Ok(ws) => {
                backoff = Duration::from_secs(1);
                reach.up(&s, &controls, &what);
                match session(ws, &s, &controls).await {
                    Ok(()) => return,
                    Err(Some(refused)) => {
                        lock(&s.report).refused = Some(refused.clone());
                        status(&controls, StatusKind::BoardUnreachable, format!("the board refused this PC: {refused}"));
                        tracing::error!("the board refused: {refused}");
                        return;
                    }
                    Err(None) => {}
                }
            }
            Err(Connect::Refused(reason)) => {
                lock(&s.report).refused = Some(reason.clone());
                status(&controls, StatusKind::BoardUnreachable, format!("看板拒绝了本机的令牌：{reason}"));
                tracing::error!("{}", UplinkError::Refused { url: cfg.url.clone(), reason });
                return;
            }
            Err(Connect::Failed(why)) => reach.down(&s, &controls, &what, &why),
        }
        backoff = pause(&s, backoff).await;
    }
}

/// The broker path: publish to JetStream; a publish acknowledged by the
/// broker is durable there, so it counts as delivered.
async fn run_nats(n: NatsLink, s: Arc<Shared>, controls: impl LinkSink) {
    let mut backoff = Duration::from_secs(1);
    let mut reach = Reachability::new();
    let what = format!("the broker at {}", n.url);
    loop {
        if s.stop_now.load(Ordering::SeqCst) {
            return;
        }
        match crate::broker::connect(&n.url).await {
            Ok((client, js)) => {
                backoff = Duration::from_secs(1);
                reach.up(&s, &controls, &what);
                match nats_session(&client, &js, &n, &s, &controls).await {
                    Ok(()) => return,
                    Err(why) => reach.down(&s, &controls, &what, &why),
                }
            }
            Err(why) => reach.down(&s, &controls, &what, &why),
        }
        backoff = pause(&s, backoff).await;
    }
}

async fn nats_session(
    client: &async_nats::Client,
    js: &async_nats::jetstream::Context,
    n: &NatsLink,
    s: &Shared,
    controls: &impl LinkSink,
) -> Result<(), String> {
    let subject = crate::broker::events_subject(&n.site, &n.agent);
    let mut notes = client.subscribe(crate::broker::notes_subject(&n.site, &n.agent)).await.map_err(|e| e.to_string())?;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        if s.stop_now.load(Ordering::SeqCst) {
            return Ok(());
        }
        let batch = lock(&s.spool).batch(MAX_BATCH);
        if !batch.is_empty() {
            let mut pending = Vec::with_capacity(batch.len());
            for ev in &batch {
                let (Some(call), Some(seq)) = (ev.call_id, ev.seq) else { continue };
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", format!("{call}:{seq}").as_str());
                let body = serde_json::to_vec(ev).map_err(|e| e.to_string())?;
                let ack = js.publish_with_headers(subject.clone(), headers, body.into()).await.map_err(|e| e.to_string())?;
                pending.push((call, seq, ack));
            }
            // In order, so each call's acknowledged part stays contiguous.
            for (call, seq, ack) in pending {
                ack.await.map_err(|e| e.to_string())?;
                let mut spool = lock(&s.spool);
                let before = spool.stats().waiting;
                spool.ack(call, seq).map_err(|e| e.to_string())?;
                lock(&s.report).acknowledged += before.saturating_sub(spool.stats().waiting) as u64;
            }
            continue;
        }
        if s.input_done.load(Ordering::SeqCst) && lock(&s.spool).stats().waiting == 0 {
            return Ok(());
        }
        tokio::select! {
            note = notes.next() => {
                let Some(note) = note else { return Err("the broker closed the note subscription".into()) };
                match serde_json::from_slice::<BoardMsg>(&note.payload) {
                    Ok(BoardMsg::Note { call_id, from, text }) => controls.note(call_id, SupervisorNote { from, text }),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("an unreadable note from the broker: {e}"),
                }
            }
            _ = s.wake.notified() => {}
            _ = tick.tick() => {
                if let Err(e) = lock(&s.spool).sync() {
                    tracing::error!("{e}");
                }
            }
        }
    }
}

/// One connection: sends what waits, takes acks and notes. Ok when the
/// input is done and everything is acknowledged (or a stop was asked);
/// Err(Some) when refused, Err(None) when the connection broke.
async fn session(mut ws: Ws, s: &Shared, controls: &impl LinkSink) -> Result<(), Option<String>> {
    // The highest seq sent per call on this connection (all of it is resent
    // after a reconnect: the board keeps each event once).
    let mut sent: std::collections::HashMap<CallId, u64> = std::collections::HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        if s.stop_now.load(Ordering::SeqCst) {
            let _ = ws.close(None).await;
            return Ok(());
        }
        let batch: Vec<_> = {
            let spool = lock(&s.spool);
            spool
                .batch(usize::MAX)
                .into_iter()
                .filter(|e| e.call_id.zip(e.seq).is_some_and(|(c, q)| sent.get(&c).is_none_or(|&h| q > h)))
                .take(MAX_BATCH)
                .collect()
        };
        if !batch.is_empty() {
            for e in &batch {
                if let (Some(c), Some(q)) = (e.call_id, e.seq) {
                    sent.insert(c, q);
                }
            }
            let text = serde_json::to_string(&AgentMsg::Events { events: batch }).map_err(|_| None)?;
            ws.send(Message::Text(text.into())).await.map_err(|_| None)?;
            continue;
        }
        if s.input_done.load(Ordering::SeqCst) && lock(&s.spool).stats().waiting == 0 {
            let _ = ws.close(None).await;
            return Ok(());
        }
        tokio::select! {
            msg = ws.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Err(None),
                    Some(Ok(_)) => continue,
                };
                match serde_json::from_str::<BoardMsg>(&text) {
                    Ok(BoardMsg::Ack { acks }) => {
                        let mut spool = lock(&s.spool);
                        let mut report = lock(&s.report);
                        for a in acks {
                            let before = spool.stats().waiting;
                            if let Err(e) = spool.ack(a.call_id, a.seq) {
                                tracing::error!("{e}");
                            }
                            report.acknowledged += before.saturating_sub(spool.stats().waiting) as u64;
                        }
                    }
                    Ok(BoardMsg::Note { call_id, from, text }) => controls.note(call_id, SupervisorNote { from, text }),
                    Ok(BoardMsg::Welcome { agent, .. }) => tracing::info!("the board knows this PC as {agent}"),
                    Ok(BoardMsg::Error { message }) => {
                        if message.contains("token") || message.contains("belongs to another agent") {
                            return Err(Some(message));
                        }
                        tracing::warn!("the board said: {message}");
                        return Err(None);
                    }
                    Err(e) => tracing::warn!("an unreadable message from the board: {e}"),
                }
            }
            _ = s.wake.notified() => {}
            _ = tick.tick() => {
                if let Err(e) = lock(&s.spool).sync() {
                    tracing::error!("{e}");
                }
            }
        }
    }
}
