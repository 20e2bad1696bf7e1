//! The supervisors' board: one server for the centre. Agents' PCs stream
//! their events to it (audio never leaves the agent's PC; what leaves is
//! masked of phone, ID and card numbers); it stores every event once by
//! `call_id` + `seq`, keeps a [`CallView`](crate::view::CallView) per live
//! call, serves a live page and a JSON API to supervisors, and carries
//! their notes back to the agent.
//!
//! [`store`] is the SQLite database, [`auth`] tokens and passwords,
//! [`live`] the live calls, [`http`] the routes, [`ws`] the agents'
//! connections.

pub mod auth;
pub mod http;
pub mod live;
pub mod load;
pub mod nats;
pub mod server;
pub mod store;
pub mod ws;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

use crate::events::{CallId, Event, TimedEvent, SCHEMA_VERSION};
use crate::wire::{Ack, BoardMsg};
pub use live::{Live, LiveRow};
pub use store::{CallFilter, CallRow, NoteRow, Principal, Role, Store, StoreError};

/// How a centre runs its board.
#[derive(Debug, Clone)]
pub struct BoardOptions {
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Finished calls are deleted after this many days (0 = never).
    pub retention_days: u32,
    /// Events one agent connection may send per second (sustained).
    pub max_events_per_s: u32,
    /// ... and in a burst.
    pub max_burst: u32,
    /// Cookies carry `Secure` (the board is served over TLS).
    pub secure_cookies: bool,
}

impl BoardOptions {
    /// Defaults for a data folder.
    pub fn new(data_dir: &Path) -> Self {
        Self { data_dir: data_dir.to_path_buf(), retention_days: 90, max_events_per_s: 500, max_burst: 5000, secure_cookies: false }
    }
}

/// What goes to the pages, live.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Update {
    /// A live call's row changed.
    Row {
        /// The row.
        row: Box<LiveRow>,
    },
    /// A call ended.
    Ended {
        /// Its stored row (with the summary).
        call: Box<CallRow>,
    },
    /// A stored event of a call (drill-down pages follow their call's).
    Event {
        /// The agent.
        agent: String,
        /// The event.
        event: Box<TimedEvent>,
    },
}

/// Why events from an agent were refused.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The message breaks the protocol; nothing of it was stored.
    #[error("{0}")]
    Refused(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The board's shared state.
pub struct Board {
    store: Mutex<Store>,
    live: Mutex<Live>,
    agents: Mutex<HashMap<String, mpsc::UnboundedSender<BoardMsg>>>,
    /// Notes waiting for their agent to connect.
    pending_notes: Mutex<HashMap<String, Vec<BoardMsg>>>,
    updates: broadcast::Sender<Update>,
    /// Another way to reach agents (the broker): true when it took the note.
    note_sink: Mutex<Option<NoteSink>>,
    /// The options it runs with.
    pub options: BoardOptions,
}

/// Delivers a note to an agent some other way; true when it took it.
pub type NoteSink = Box<dyn Fn(&str, &BoardMsg) -> bool + Send>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Board {
    /// Opens the database and rebuilds the live calls from it (a board
    /// restarted mid-call continues where it was).
    pub fn open(options: BoardOptions) -> Result<Self, StoreError> {
        let store = Store::open(&options.data_dir)?;
        let mut live = Live::new();
        for row in store.calls(&CallFilter { ended: Some(false), limit: 100_000, ..Default::default() })? {
            for ev in store.events(row.call_id)? {
                live.apply(&row.agent, &ev);
            }
        }
        let (updates, _) = broadcast::channel(4096);
        Ok(Self {
            store: Mutex::new(store),
            live: Mutex::new(live),
            agents: Mutex::new(HashMap::new()),
            pending_notes: Mutex::new(HashMap::new()),
            updates,
            note_sink: Mutex::new(None),
            options,
        })
    }

    /// The database (for reads and admin commands).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Live rows, riskiest first.
    pub fn live_rows(&self) -> Vec<LiveRow> {
        lock(&self.live).rows()
    }

    /// The live row of a call.
    pub fn live_row(&self, call_id: CallId) -> Option<LiveRow> {
        lock(&self.live).row(call_id)
    }

    /// Subscribes a page to the live updates.
    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }

    /// Checks and stores a batch from `agent`; returns the acknowledgements
    /// (per call, the highest seq up to which every event is stored).
    pub fn ingest(&self, agent: &Principal, events: Vec<TimedEvent>) -> Result<Vec<Ack>, IngestError> {
        if agent.role != Role::Agent {
            return Err(IngestError::Refused("only agent tokens may send events".into()));
        }
        let mut calls: Vec<CallId> = Vec::new();
        for ev in &events {
            if ev.v != SCHEMA_VERSION {
                return Err(IngestError::Refused(format!("event schema version {} is not the board's {SCHEMA_VERSION}; update callcoach on this PC", ev.v)));
            }
            if !ev.t.is_finite() {
                return Err(IngestError::Refused("an event has a time that is not a number".into()));
            }
            match (ev.call_id, ev.seq) {
                (Some(c), Some(s)) if s >= 1 => {
                    if !calls.contains(&c) {
                        calls.push(c);
                    }
                }
                (None, None) => {}
                _ => return Err(IngestError::Refused("an event has a call_id without a seq >= 1, or a seq without a call_id".into())),
            }
        }
        let mut store = lock(&self.store);
        for c in &calls {
            if let Some(owner) = store.call_agent(*c)? {
                if owner != agent.name {
                    return Err(IngestError::Refused(format!("call {c} belongs to another agent")));
                }
            }
        }
        let fresh = store.insert_events(&agent.name, &events)?;
        let mut acks = Vec::with_capacity(calls.len());
        for c in calls {
            acks.push(Ack { call_id: c, seq: store.advance_contiguous(c)? });
        }
        let ended: Vec<CallRow> =
            fresh.iter().filter(|e| matches!(e.event, Event::CallEnded(_))).filter_map(|e| e.call_id).filter_map(|c| store.call(c).ok().flatten()).collect();
        drop(store);
        let mut live = lock(&self.live);
        for ev in fresh {
            let change = live.apply(&agent.name, &ev);
            let _ = self.updates.send(Update::Event { agent: agent.name.clone(), event: Box::new(ev) });
            if let live::Change::Row(row) = change {
                let _ = self.updates.send(Update::Row { row });
            }
        }
        drop(live);
        for call in ended {
            let _ = self.updates.send(Update::Ended { call: Box::new(call) });
        }
        Ok(acks)
    }

    /// An agent connected: its sender for notes; returns notes that waited.
    pub fn agent_connected(&self, name: &str, tx: mpsc::UnboundedSender<BoardMsg>) -> Vec<BoardMsg> {
        lock(&self.agents).insert(name.to_string(), tx);
        let waiting = lock(&self.pending_notes).remove(name).unwrap_or_default();
        let live = lock(&self.live);
        waiting.into_iter().filter(|m| matches!(m, BoardMsg::Note { call_id, .. } if live.is_live(*call_id))).collect()
    }

    /// An agent's connection closed.
    pub fn agent_disconnected(&self, name: &str, tx: &mpsc::UnboundedSender<BoardMsg>) {
        let mut agents = lock(&self.agents);
        if agents.get(name).is_some_and(|t| t.same_channel(tx)) {
            agents.remove(name);
        }
    }

    /// Sets another way to reach agents (the broker).
    pub fn set_note_sink(&self, sink: NoteSink) {
        *lock(&self.note_sink) = Some(sink);
    }

    /// Names of the agents connected now.
    pub fn connected_agents(&self) -> Vec<String> {
        let mut v: Vec<String> = lock(&self.agents).keys().cloned().collect();
        v.sort();
        v
    }

    /// A supervisor's note for a live call: stored with the call and sent to
    /// the agent (now, or when the agent's PC reconnects).
    pub fn send_note(&self, supervisor: &str, call_id: CallId, text: &str) -> Result<(NoteRow, bool), IngestError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 200 {
            return Err(IngestError::Refused("a note has 1 to 200 characters".into()));
        }
        let store = lock(&self.store);
        let agent = store.call_agent(call_id)?.ok_or_else(|| IngestError::Refused(format!("no call {call_id}")))?;
        if !lock(&self.live).is_live(call_id) {
            return Err(IngestError::Refused("the call has ended; notes go to calls in progress".into()));
        }
        let note = store.add_note(call_id, supervisor, text)?;
        drop(store);
        let msg = BoardMsg::Note { call_id, from: supervisor.into(), text: text.into() };
        let delivered = lock(&self.agents).get(&agent).is_some_and(|tx| tx.send(msg.clone()).is_ok())
            || lock(&self.note_sink).as_ref().is_some_and(|sink| sink(&agent, &msg));
        if !delivered {
            lock(&self.pending_notes).entry(agent).or_default().push(msg);
        }
        Ok((note, delivered))
    }
}
