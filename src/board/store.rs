//! The board's database (SQLite, one file in the data folder): who may
//! connect (agents and supervisors, tokens and passwords stored hashed),
//! supervisor sessions, calls with their summaries, every event by
//! `call_id` + `seq` (stored once: a resend is a no-op), and notes.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::events::{CallId, Event, TimedEvent};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("{path}: {error}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        error: rusqlite::Error,
    },
    /// A stored value cannot be read back.
    #[error("{path}: corrupt {what}: {message}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// Which value.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// Not allowed (a name taken, an unknown role).
    #[error("{0}")]
    Refused(String),
}

/// Who a principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An agent's PC (uploads events).
    Agent,
    /// A supervisor (reads, sends notes).
    Supervisor,
}

impl Role {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Supervisor => "supervisor",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "agent" => Some(Self::Agent),
            "supervisor" => Some(Self::Supervisor),
            _ => None,
        }
    }
}

/// Someone who may connect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Principal {
    /// Row id.
    pub id: i64,
    /// Name (an agent's name as supervisors see it).
    pub name: String,
    /// Agent or supervisor.
    pub role: Role,
}

/// A call as the history lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRow {
    /// The call.
    pub call_id: CallId,
    /// The agent (from the token that uploaded it).
    pub agent: String,
    /// Wall-clock start, ms since the epoch.
    pub started_at_unix_ms: Option<i64>,
    /// Wall-clock end (when `call_ended` arrived), ms.
    pub ended_at_unix_ms: Option<i64>,
    /// Highest seq stored.
    pub last_seq: u64,
    /// Every event 1..=this is stored.
    pub contiguous_seq: u64,
    /// `retained` / `left` / `unknown` once ended.
    pub outcome: Option<String>,
    /// Churn reason once ended.
    pub reason: Option<String>,
    /// Compliance score once ended.
    pub compliance: Option<u32>,
    /// Length, seconds, once ended.
    pub duration_s: Option<f64>,
    /// The summary (JSON) once ended.
    pub summary: Option<serde_json::Value>,
}

/// Filters for the history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    /// Only this agent.
    pub agent: Option<String>,
    /// Only calls started on this day (`YYYY-MM-DD`, UTC).
    pub day: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Only this reason.
    pub reason: Option<String>,
    /// Only finished (true) or live (false) calls.
    pub ended: Option<bool>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// A stored note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteRow {
    /// Row id.
    pub id: i64,
    /// The call.
    pub call_id: CallId,
    /// The supervisor.
    pub supervisor: String,
    /// The note.
    pub text: String,
    /// When it was sent, ms.
    pub at_unix_ms: i64,
}

/// The database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS principals (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
    password_hash TEXT,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (name, role)
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    principal_id INTEGER NOT NULL REFERENCES principals (id),
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    principal_id INTEGER NOT NULL REFERENCES principals (id),
    expires_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    started_at_ms INTEGER,
    ended_at_ms INTEGER,
    last_seq INTEGER NOT NULL DEFAULT 0,
    contiguous_seq INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    reason TEXT,
    compliance INTEGER,
    duration_s REAL,
    summary TEXT
);
CREATE INDEX IF NOT EXISTS calls_started ON calls (started_at_ms);
CREATE TABLE IF NOT EXISTS events (
    call_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    t REAL NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    supervisor TEXT NOT NULL,
    text TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
";

/// Milliseconds since the epoch now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    /// Opens (creating if needed) `DIR/board.sqlite`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Refused(format!("{}: cannot create the data folder: {e}", dir.display())))?;
        let path = dir.join("board.sqlite");
        let conn = Connection::open(&path).map_err(|source| StoreError::Sql { path: path.clone(), error: source })?;
        let store = Self { conn, path };
        store.conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| store.sql(e))?;
        store.conn.execute_batch(SCHEMA).map_err(|e| store.sql(e))?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql { path: self.path.clone(), error: source }
    }

    /// Adds a principal (or finds the existing one of that name and role).
    pub fn principal(&self, name: &str, role: Role) -> Result<Principal, StoreError> {
        if name.trim().is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(StoreError::Refused(format!("{name:?} is not a usable name (1-64 characters, no control characters)")));
        }
        self.conn
            .execute("INSERT OR IGNORE INTO principals (name, role, created_at_ms) VALUES (?1, ?2, ?3)", params![name, role.as_str(), now_ms()])
            .map_err(|e| self.sql(e))?;
        let id: i64 = self
            .conn
            .query_row("SELECT id FROM principals WHERE name = ?1 AND role = ?2", params![name, role.as_str()], |r| r.get(0))
            .map_err(|e| self.sql(e))?;
        Ok(Principal { id, name: name.into(), role })
    }

    /// Stores a token (by its hash) for a principal.
    pub fn add_token(&self, principal: &Principal, token_hash: &str) -> Result<(), StoreError> {
        self.conn
            .execute("INSERT INTO tokens (token_hash, principal_id, created_at_ms) VALUES (?1, ?2, ?3)", params![token_hash, principal.id, now_ms()])
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Revokes every token of a principal; returns how many.
    pub fn revoke_tokens(&self, name: &str, role: Role) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "UPDATE tokens SET revoked_at_ms = ?3 WHERE revoked_at_ms IS NULL AND principal_id IN (SELECT id FROM principals WHERE name = ?1 AND role = ?2)",
                params![name, role.as_str(), now_ms()],
            )
            .map_err(|e| self.sql(e))
    }

    /// The principal of a live (not revoked) token hash.
    pub fn token_principal(&self, token_hash: &str) -> Result<Option<Principal>, StoreError> {
        self.conn
            .query_row(
                "SELECT p.id, p.name, p.role FROM tokens t JOIN principals p ON p.id = t.principal_id WHERE t.token_hash = ?1 AND t.revoked_at_ms IS NULL",
                params![token_hash],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .map(|(id, name, role)| {
                let role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt { path: self.path.clone(), what: "role", message: role.clone() })?;
                Ok(Principal { id, name, role })
            })
            .transpose()
    }

    /// Sets a supervisor's password hash.
    pub fn set_password(&self, principal: &Principal, hash: &str) -> Result<(), StoreError> {
        self.conn.execute("UPDATE principals SET password_hash = ?2 WHERE id = ?1", params![principal.id, hash]).map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// A supervisor's password hash, if they have one.
    pub fn password_hash(&self, name: &str) -> Result<Option<(Principal, String)>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT id, password_hash FROM principals WHERE name = ?1 AND role = 'supervisor' AND password_hash IS NOT NULL", params![name], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .optional()
            .map_err(|e| self.sql(e))?
            .map(|(id, h)| (Principal { id, name: name.into(), role: Role::Supervisor }, h)))
    }

    /// Opens a supervisor session (by the hash of its cookie).
    pub fn add_session(&self, principal: &Principal, token_hash: &str, expires_at_ms: i64) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM sessions WHERE expires_at_ms < ?1", params![now_ms()]).map_err(|e| self.sql(e))?;
        self.conn
            .execute("INSERT INTO sessions (token_hash, principal_id, expires_at_ms) VALUES (?1, ?2, ?3)", params![token_hash, principal.id, expires_at_ms])
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// The supervisor of a live session.
    pub fn session_principal(&self, token_hash: &str) -> Result<Option<Principal>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT p.id, p.name FROM sessions s JOIN principals p ON p.id = s.principal_id WHERE s.token_hash = ?1 AND s.expires_at_ms > ?2 AND p.role = 'supervisor'",
                params![token_hash, now_ms()],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .map(|(id, name)| Principal { id, name, role: Role::Supervisor }))
    }

    /// Ends a session.
    pub fn remove_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM sessions WHERE token_hash = ?1", params![token_hash]).map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// The agent a call belongs to, if the board knows the call.
    pub fn call_agent(&self, call_id: CallId) -> Result<Option<String>, StoreError> {
        self.conn.query_row("SELECT agent FROM calls WHERE call_id = ?1", params![call_id.to_string()], |r| r.get(0)).optional().map_err(|e| self.sql(e))
    }

    /// Stores events of one agent in one transaction; an event already
    /// stored is skipped. Returns the events that were new.
    pub fn insert_events(&mut self, agent: &str, events: &[TimedEvent]) -> Result<Vec<TimedEvent>, StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sql { path: path.clone(), error: source };
        let tx = self.conn.transaction().map_err(sql)?;
        let mut fresh = Vec::new();
        {
            let mut call = tx.prepare_cached("INSERT OR IGNORE INTO calls (call_id, agent) VALUES (?1, ?2)").map_err(sql)?;
            let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO events (call_id, seq, t, type, body) VALUES (?1, ?2, ?3, ?4, ?5)").map_err(sql)?;
            let mut last = tx.prepare_cached("UPDATE calls SET last_seq = MAX(last_seq, ?2) WHERE call_id = ?1").map_err(sql)?;
            for ev in events {
                let (Some(id), Some(seq)) = (ev.call_id, ev.seq) else { continue };
                let id = id.to_string();
                call.execute(params![id, agent]).map_err(sql)?;
                let body = serde_json::to_string(ev).map_err(|e| StoreError::Corrupt { path: path.clone(), what: "event", message: e.to_string() })?;
                if ins.execute(params![id, seq as i64, ev.t, ev.event.type_name(), body]).map_err(sql)? == 1 {
                    last.execute(params![id, seq as i64]).map_err(sql)?;
                    fresh.push(ev.clone());
                }
            }
            let mut started = tx.prepare_cached("UPDATE calls SET started_at_ms = ?2 WHERE call_id = ?1").map_err(sql)?;
            let mut ended = tx
                .prepare_cached(
                    "UPDATE calls SET ended_at_ms = ?2, outcome = ?3, reason = ?4, compliance = ?5, duration_s = ?6, summary = ?7 WHERE call_id = ?1",
                )
                .map_err(sql)?;
            for ev in &fresh {
                let Some(id) = ev.call_id.map(|c| c.to_string()) else { continue };
                match &ev.event {
                    Event::CallStarted(s) => {
                        started.execute(params![id, s.started_at_unix_ms]).map_err(sql)?;
                    }
                    Event::CallEnded(e) => {
                        let s = &e.summary;
                        let summary =
                            serde_json::to_string(s).map_err(|e| StoreError::Corrupt { path: path.clone(), what: "summary", message: e.to_string() })?;
                        ended
                            .execute(params![id, now_ms(), s.outcome.as_str(), s.reason.map(|r| r.as_str()), s.compliance.score, s.duration_s, summary])
                            .map_err(sql)?;
                    }
                    _ => {}
                }
            }
        }
        tx.commit().map_err(sql)?;
        Ok(fresh)
    }

    /// Moves a call's contiguous mark forward over what is stored; returns it.
    pub fn advance_contiguous(&self, call_id: CallId) -> Result<u64, StoreError> {
        let id = call_id.to_string();
        let mut cur: i64 = self.conn.query_row("SELECT contiguous_seq FROM calls WHERE call_id = ?1", params![id], |r| r.get(0)).map_err(|e| self.sql(e))?;
        let mut stmt = self.conn.prepare_cached("SELECT seq FROM events WHERE call_id = ?1 AND seq > ?2 ORDER BY seq LIMIT 10000").map_err(|e| self.sql(e))?;
        let seqs: Vec<i64> = stmt.query_map(params![id, cur], |r| r.get(0)).map_err(|e| self.sql(e))?.collect::<Result<_, _>>().map_err(|e| self.sql(e))?;
        for s in seqs {
            if s == cur + 1 {
                cur = s;
            } else {
                break;
            }
        }
        self.conn.execute("UPDATE calls SET contiguous_seq = ?2 WHERE call_id = ?1", params![id, cur]).map_err(|e| self.sql(e))?;
        Ok(cur as u64)
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, CallRowRaw)> {
        Ok((
            r.get(0)?,
            CallRowRaw {
                agent: r.get(1)?,
                started: r.get(2)?,
                ended: r.get(3)?,
                last_seq: r.get(4)?,
                contiguous: r.get(5)?,
                outcome: r.get(6)?,
                reason: r.get(7)?,
                compliance: r.get(8)?,
                duration_s: r.get(9)?,
                summary: r.get(10)?,
            },
        ))
    }

    fn to_row(&self, id: String, raw: CallRowRaw) -> Result<CallRow, StoreError> {
        let call_id = id.parse().map_err(|e: String| StoreError::Corrupt { path: self.path.clone(), what: "call id", message: e })?;
        let summary = raw.summary.map(|s| serde_json::from_str(&s)).transpose().map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            what: "summary",
            message: e.to_string(),
        })?;
        Ok(CallRow {
            call_id,
            agent: raw.agent,
            started_at_unix_ms: raw.started,
            ended_at_unix_ms: raw.ended,
            last_seq: raw.last_seq.max(0) as u64,
            contiguous_seq: raw.contiguous.max(0) as u64,
            outcome: raw.outcome,
            reason: raw.reason,
            compliance: raw.compliance.map(|c| c.max(0) as u32),
            duration_s: raw.duration_s,
            summary,
        })
    }

    const COLUMNS: &'static str = "call_id, agent, started_at_ms, ended_at_ms, last_seq, contiguous_seq, outcome, reason, compliance, duration_s, summary";

    /// One call.
    pub fn call(&self, call_id: CallId) -> Result<Option<CallRow>, StoreError> {
        let q = format!("SELECT {} FROM calls WHERE call_id = ?1", Self::COLUMNS);
        let raw = self.conn.query_row(&q, params![call_id.to_string()], Self::row).optional().map_err(|e| self.sql(e))?;
        raw.map(|(id, r)| self.to_row(id, r)).transpose()
    }

    /// Calls matching the filter, newest first.
    pub fn calls(&self, f: &CallFilter) -> Result<Vec<CallRow>, StoreError> {
        let mut q = format!("SELECT {} FROM calls WHERE 1 = 1", Self::COLUMNS);
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        if let Some(a) = &f.agent {
            q.push_str(" AND agent = ?");
            args.push(Box::new(a.clone()));
        }
        if let Some(o) = &f.outcome {
            q.push_str(" AND outcome = ?");
            args.push(Box::new(o.clone()));
        }
        if let Some(r) = &f.reason {
            q.push_str(" AND reason = ?");
            args.push(Box::new(r.clone()));
        }
        if let Some(day) = &f.day {
            let (from, to) = day_range_ms(day).ok_or_else(|| StoreError::Refused(format!("day {day:?} is not YYYY-MM-DD")))?;
            q.push_str(" AND started_at_ms >= ? AND started_at_ms < ?");
            args.push(Box::new(from));
            args.push(Box::new(to));
        }
        match f.ended {
            Some(true) => q.push_str(" AND ended_at_ms IS NOT NULL"),
            Some(false) => q.push_str(" AND ended_at_ms IS NULL"),
            None => {}
        }
        q.push_str(" ORDER BY started_at_ms DESC, call_id DESC LIMIT ?");
        args.push(Box::new(f.limit.clamp(1, 100_000) as i64));
        let mut stmt = self.conn.prepare(&q).map_err(|e| self.sql(e))?;
        let params: Vec<&dyn rusqlite::ToSql> = args.iter().map(|b| b.as_ref()).collect();
        let raws: Vec<(String, CallRowRaw)> =
            stmt.query_map(params.as_slice(), Self::row).map_err(|e| self.sql(e))?.collect::<Result<_, _>>().map_err(|e| self.sql(e))?;
        raws.into_iter().map(|(id, r)| self.to_row(id, r)).collect()
    }

    /// Every stored event of a call, by seq.
    pub fn events(&self, call_id: CallId) -> Result<Vec<TimedEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT body FROM events WHERE call_id = ?1 ORDER BY seq").map_err(|e| self.sql(e))?;
        let bodies: Vec<String> =
            stmt.query_map(params![call_id.to_string()], |r| r.get(0)).map_err(|e| self.sql(e))?.collect::<Result<_, _>>().map_err(|e| self.sql(e))?;
        bodies
            .into_iter()
            .map(|b| serde_json::from_str(&b).map_err(|e| StoreError::Corrupt { path: self.path.clone(), what: "event", message: e.to_string() }))
            .collect()
    }

    /// Stores a note.
    pub fn add_note(&self, call_id: CallId, supervisor: &str, text: &str) -> Result<NoteRow, StoreError> {
        let at = now_ms();
        self.conn
            .execute("INSERT INTO notes (call_id, supervisor, text, at_ms) VALUES (?1, ?2, ?3, ?4)", params![call_id.to_string(), supervisor, text, at])
            .map_err(|e| self.sql(e))?;
        Ok(NoteRow { id: self.conn.last_insert_rowid(), call_id, supervisor: supervisor.into(), text: text.into(), at_unix_ms: at })
    }

    /// A call's notes.
    pub fn notes(&self, call_id: CallId) -> Result<Vec<NoteRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, supervisor, text, at_ms FROM notes WHERE call_id = ?1 ORDER BY id").map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params![call_id.to_string()], |r| Ok(NoteRow { id: r.get(0)?, call_id, supervisor: r.get(1)?, text: r.get(2)?, at_unix_ms: r.get(3)? }))
            .map_err(|e| self.sql(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.sql(e))?;
        Ok(rows)
    }

    /// Deletes finished calls older than `days` with their events and notes;
    /// returns how many calls went.
    pub fn cleanup(&mut self, days: u32) -> Result<usize, StoreError> {
        let cutoff = now_ms() - days as i64 * 86_400_000;
        let path = self.path.clone();
        let sql = |source| StoreError::Sql { path: path.clone(), error: source };
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute("DELETE FROM events WHERE call_id IN (SELECT call_id FROM calls WHERE ended_at_ms IS NOT NULL AND ended_at_ms < ?1)", params![cutoff])
            .map_err(sql)?;
        tx.execute("DELETE FROM notes WHERE call_id IN (SELECT call_id FROM calls WHERE ended_at_ms IS NOT NULL AND ended_at_ms < ?1)", params![cutoff])
            .map_err(sql)?;
        let n = tx.execute("DELETE FROM calls WHERE ended_at_ms IS NOT NULL AND ended_at_ms < ?1", params![cutoff]).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(n)
    }
}

struct CallRowRaw {
    agent: String,
    started: Option<i64>,
    ended: Option<i64>,
    last_seq: i64,
    contiguous: i64,
    outcome: Option<String>,
    reason: Option<String>,
    compliance: Option<i64>,
    duration_s: Option<f64>,
    summary: Option<String>,
}

/// `YYYY-MM-DD` (UTC) as [start, end) in ms since the epoch.
pub fn day_range_ms(day: &str) -> Option<(i64, i64)> {
    let mut it = day.split('-');
    let (y, m, d): (i64, i64, i64) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    Some((days * 86_400_000, (days + 1) * 86_400_000))
}

/// Days since 1970-01-01 of a date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{StatusEvent, StatusKind};

    fn ev(call: CallId, seq: u64) -> TimedEvent {
        TimedEvent::in_call(call, seq, seq as f64, Event::Status(StatusEvent { kind: StatusKind::Lagging, speaker: None, message: seq.to_string() }))
    }

    #[test]
    fn an_event_is_stored_once_and_the_contiguous_mark_waits_for_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let call = CallId::new();
        assert_eq!(s.insert_events("王丽", &[ev(call, 1), ev(call, 2), ev(call, 4)]).unwrap().len(), 3);
        assert_eq!(s.advance_contiguous(call).unwrap(), 2);
        assert_eq!(s.insert_events("王丽", &[ev(call, 2), ev(call, 3)]).unwrap().len(), 1, "the resent 2 is a no-op");
        assert_eq!(s.advance_contiguous(call).unwrap(), 4);
        let seqs: Vec<u64> = s.events(call).unwrap().iter().map(|e| e.seq.unwrap()).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        assert_eq!(s.call_agent(call).unwrap().as_deref(), Some("王丽"));
    }

    #[test]
    fn days_map_to_utc_ranges() {
        assert_eq!(day_range_ms("1970-01-02"), Some((86_400_000, 172_800_000)));
        assert_eq!(day_range_ms("2026-11-26").map(|r| r.0), Some(1_795_651_200_000));
        assert_eq!(day_range_ms("2026-13-01"), None);
        assert_eq!(day_range_ms("yesterday"), None);
    }
}
