//! The board's routes: the page (sign-in with name and password, a session
//! cookie that is HttpOnly and SameSite=Strict), the JSON API (the cookie or
//! `Authorization: Bearer SUPERVISOR_TOKEN`), live updates for the page
//! (server-sent events), CSV export, card adoption, notes to agents, and
//! the agents' WebSocket.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::Stream;
use serde::{Deserialize, Serialize};

use super::auth::{self, SESSION_COOKIE, SESSION_HOURS};
use super::store::{now_ms, CallFilter, CallRow, StoreError};
use super::{Board, IngestError, LiveRow, Principal, Role, Update};
use crate::events::{CallId, Verdict};
use crate::wire::MAX_MESSAGE_BYTES;

const PAGE: &str = include_str!("page/board.html");
const SCRIPT: &str = include_str!("page/board.js");
const STYLE: &str = include_str!("page/board.css");
const LOGIN: &str = include_str!("page/login.html");

/// An API failure with its status.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Refused(m) => ApiError(StatusCode::BAD_REQUEST, m),
            other => {
                tracing::error!("{other}");
                ApiError(StatusCode::INTERNAL_SERVER_ERROR, "the board's database failed; see its log".into())
            }
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Refused(m) => ApiError(StatusCode::BAD_REQUEST, m),
            IngestError::Store(s) => s.into(),
        }
    }
}

fn unauthorized() -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, "sign in, or send Authorization: Bearer SUPERVISOR_TOKEN".into())
}

/// Runs blocking database work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("task failed: {e}")))?
}

/// The principal of a request's bearer token or session cookie.
fn principal(board: &Board, headers: &HeaderMap) -> Result<Option<Principal>, StoreError> {
    if let Some(token) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(auth::bearer) {
        return board.store().token_principal(&auth::hash_token(token));
    }
    if let Some(session) = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(auth::session_cookie) {
        return board.store().session_principal(&auth::hash_token(session));
    }
    Ok(None)
}

async fn supervisor(board: &Arc<Board>, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let (b, h) = (board.clone(), headers.clone());
    let p = blocking(move || Ok(principal(&b, &h)?)).await?;
    match p {
        Some(p) if p.role == Role::Supervisor => Ok(p),
        Some(_) => Err(ApiError(StatusCode::FORBIDDEN, "an agent token cannot read the board".into())),
        None => Err(unauthorized()),
    }
}

/// The routes.
pub fn router(board: Arc<Board>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/static/board.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT) }))
        .route("/static/board.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE) }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/calls", get(api_calls))
        .route("/api/calls.csv", get(api_csv))
        .route("/api/calls/{id}", get(api_call))
        .route("/api/calls/{id}/notes", post(api_note))
        .route("/api/adoption", get(api_adoption))
        .route("/api/live", get(api_live))
        .route("/api/agent/ws", get(agent_ws))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(board)
}

async fn index(State(board): State<Arc<Board>>, headers: HeaderMap) -> Response {
    match supervisor(&board, &headers).await {
        Ok(_) => Html(PAGE).into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    failed: Option<String>,
}

async fn login_page(Query(q): Query<LoginQuery>) -> Html<String> {
    let message = if q.failed.is_some() { "<p class=\"error\">用户名或密码不对</p>" } else { "" };
    Html(LOGIN.replace("{{message}}", message))
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
}

async fn login(State(board): State<Arc<Board>>, Form(form): Form<LoginForm>) -> Result<Response, ApiError> {
    let b = board.clone();
    let session = blocking(move || {
        let store = b.store();
        let Some((p, hash)) = store.password_hash(&form.name)? else { return Ok(None) };
        if !auth::verify_password(&form.password, &hash) {
            return Ok(None);
        }
        let token = auth::new_token().map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.0))?;
        store.add_session(&p, &auth::hash_token(&token), now_ms() + SESSION_HOURS * 3_600_000)?;
        Ok(Some((p, token)))
    })
    .await?;
    match session {
        Some((p, token)) => {
            tracing::info!(supervisor = %p.name, "signed in");
            let secure = if board.options.secure_cookies { "; Secure" } else { "" };
            let cookie = format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}", SESSION_HOURS * 3600);
            let mut resp = Redirect::to("/").into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?);
            Ok(resp)
        }
        None => {
            tracing::warn!("a sign-in failed (wrong name or password)");
            Ok(Redirect::to("/login?failed=1").into_response())
        }
    }
}

async fn logout(State(board): State<Arc<Board>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(s) = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(auth::session_cookie) {
        let (b, h) = (board.clone(), auth::hash_token(s));
        blocking(move || Ok(b.store().remove_session(&h)?)).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("callcoach_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"));
    Ok(resp)
}

/// Filters of the history (`?agent=&day=YYYY-MM-DD&outcome=&reason=&limit=`).
#[derive(Debug, Deserialize, Default)]
pub struct FilterQuery {
    agent: Option<String>,
    day: Option<String>,
    outcome: Option<String>,
    reason: Option<String>,
    limit: Option<usize>,
}

impl FilterQuery {
    fn filter(&self, ended: Option<bool>) -> CallFilter {
        let some = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
        CallFilter {
            agent: some(&self.agent),
            day: some(&self.day),
            outcome: some(&self.outcome),
            reason: some(&self.reason),
            ended,
            limit: self.limit.unwrap_or(500),
        }
    }
}

/// A call as `/api/calls` lists it.
#[derive(Serialize)]
struct CallItem {
    #[serde(flatten)]
    call: CallRow,
    live: bool,
    state: Option<LiveRow>,
}

async fn api_calls(State(board): State<Arc<Board>>, headers: HeaderMap, Query(q): Query<FilterQuery>) -> Result<Json<serde_json::Value>, ApiError> {
    supervisor(&board, &headers).await?;
    let b = board.clone();
    let items = blocking(move || {
        let rows = b.store().calls(&q.filter(None))?;
        let live = b.live_rows();
        let mut items: Vec<CallItem> = rows
            .into_iter()
            .map(|call| {
                let state = live.iter().find(|r| r.call_id == call.call_id).cloned();
                CallItem { live: state.is_some() || call.ended_at_unix_ms.is_none(), state, call }
            })
            .collect();
        // Live calls first, riskiest on top; then finished, newest first.
        items.sort_by(|a, b| {
            b.live.cmp(&a.live).then_with(|| {
                let (ra, rb) = (a.state.as_ref().map_or(0.0, |s| s.risk), b.state.as_ref().map_or(0.0, |s| s.risk));
                rb.total_cmp(&ra).then(b.call.started_at_unix_ms.cmp(&a.call.started_at_unix_ms))
            })
        });
        Ok(items)
    })
    .await?;
    Ok(Json(serde_json::json!({ "calls": items, "agents_connected": board.connected_agents() })))
}

async fn api_call(State(board): State<Arc<Board>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    supervisor(&board, &headers).await?;
    let call_id: CallId = id.parse().map_err(|e: String| ApiError(StatusCode::BAD_REQUEST, e))?;
    let b = board.clone();
    let (call, events, notes) = blocking(move || {
        let store = b.store();
        let call = store.call(call_id)?.ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no call {call_id}")))?;
        Ok((call, store.events(call_id)?, store.notes(call_id)?))
    })
    .await?;
    let live = board.live_row(call_id);
    Ok(Json(serde_json::json!({ "call": call, "live": live, "events": events, "notes": notes })))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

async fn api_csv(State(board): State<Arc<Board>>, headers: HeaderMap, Query(q): Query<FilterQuery>) -> Result<Response, ApiError> {
    supervisor(&board, &headers).await?;
    let b = board.clone();
    let rows = blocking(move || Ok(b.store().calls(&q.filter(Some(true)))?)).await?;
    let mut out =
        String::from("call_id,agent,started_at_unix_ms,duration_s,outcome,reason,compliance,anger_peak,inflaming,cards_shown,cards_used,cards_dismissed\n");
    for r in rows {
        let s = r.summary.as_ref();
        let num = |k: &str| s.and_then(|s| s.get(k)).map(|v| v.to_string()).unwrap_or_default();
        let cards = s.and_then(|s| s["cards"].as_array().cloned()).unwrap_or_default();
        let count = |v: &str| cards.iter().filter(|c| c["verdict"] == v).count();
        let inflaming = s.and_then(|s| s["inflaming"].as_array().map(Vec::len)).unwrap_or(0);
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.call_id,
            csv_field(&r.agent),
            r.started_at_unix_ms.map(|v| v.to_string()).unwrap_or_default(),
            r.duration_s.map(|v| format!("{v:.1}")).unwrap_or_default(),
            r.outcome.unwrap_or_default(),
            r.reason.unwrap_or_default(),
            r.compliance.map(|v| v.to_string()).unwrap_or_default(),
            num("anger_peak"),
            inflaming,
            cards.len(),
            count("used"),
            count("dismissed"),
        ));
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"callcoach-calls.csv\"")], out)
        .into_response())
}

/// Card adoption counts.
#[derive(Debug, Default, Serialize, Clone, Copy)]
pub struct Adoption {
    /// Times shown.
    pub shown: u32,
    /// Marked used.
    pub used: u32,
    /// Marked dismissed.
    pub dismissed: u32,
}

async fn api_adoption(State(board): State<Arc<Board>>, headers: HeaderMap, Query(q): Query<FilterQuery>) -> Result<Json<serde_json::Value>, ApiError> {
    supervisor(&board, &headers).await?;
    let b = board.clone();
    let rows = blocking(move || Ok(b.store().calls(&q.filter(Some(true)))?)).await?;
    let mut per_card: BTreeMap<String, Adoption> = BTreeMap::new();
    let mut per_agent: BTreeMap<String, Adoption> = BTreeMap::new();
    for r in &rows {
        let Some(cards) = r.summary.as_ref().and_then(|s| s["cards"].as_array()) else { continue };
        for c in cards {
            let id = c["id"].as_str().unwrap_or("?").to_string();
            let verdict: Option<Verdict> = serde_json::from_value(c["verdict"].clone()).ok();
            for a in [per_card.entry(id.clone()).or_default(), per_agent.entry(r.agent.clone()).or_default()] {
                a.shown += 1;
                match verdict {
                    Some(Verdict::Used) => a.used += 1,
                    Some(Verdict::Dismissed) => a.dismissed += 1,
                    None => {}
                }
            }
        }
    }
    Ok(Json(serde_json::json!({ "calls": rows.len(), "per_card": per_card, "per_agent": per_agent })))
}

#[derive(Deserialize)]
struct NoteBody {
    text: String,
}

async fn api_note(
    State(board): State<Arc<Board>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<NoteBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let sup = supervisor(&board, &headers).await?;
    let call_id: CallId = id.parse().map_err(|e: String| ApiError(StatusCode::BAD_REQUEST, e))?;
    let b = board.clone();
    let (note, delivered) = blocking(move || Ok(b.send_note(&sup.name, call_id, &body.text)?)).await?;
    Ok(Json(serde_json::json!({ "note": note, "delivered": delivered })))
}

fn to_sse(u: &Update) -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default().data(serde_json::to_string(u).unwrap_or_else(|_| "{}".into())))
}

async fn api_live(State(board): State<Arc<Board>>, headers: HeaderMap) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    supervisor(&board, &headers).await?;
    let rx = board.subscribe();
    let first: Vec<Result<SseEvent, Infallible>> = board.live_rows().into_iter().map(|row| to_sse(&Update::Row { row: Box::new(row) })).collect();
    let tail = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(u) => return Some((to_sse(&u), rx)),
                // A slow page skips updates; the next row update is whole again.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(futures_util::StreamExt::chain(futures_util::stream::iter(first), tail)).keep_alive(KeepAlive::default()))
}

async fn agent_ws(State(board): State<Arc<Board>>, headers: HeaderMap, ws: WebSocketUpgrade) -> Result<Response, ApiError> {
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(auth::bearer).map(str::to_string);
    let Some(token) = token else {
        tracing::warn!("an agent connection without a token was refused");
        return Err(unauthorized());
    };
    let b = board.clone();
    let p = blocking(move || Ok(b.store().token_principal(&auth::hash_token(&token))?)).await?;
    let agent = match p {
        Some(p) if p.role == Role::Agent => p,
        Some(_) => return Err(ApiError(StatusCode::FORBIDDEN, "a supervisor token cannot send events".into())),
        None => {
            tracing::warn!("an agent connection with an unknown or revoked token was refused");
            return Err(ApiError(StatusCode::UNAUTHORIZED, "unknown or revoked agent token".into()));
        }
    };
    // Small per-connection buffers: a centre has thousands of agents connected.
    Ok(ws
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| super::ws::serve(board, agent, socket)))
}
