//! The uplink protocol between an agent's PC and the board: JSON text
//! messages over a WebSocket (`/api/agent/ws`, `Authorization: Bearer
//! AGENT_TOKEN`). Events travel in their [`TimedEvent`] envelope; the board
//! acknowledges per call the highest `seq` up to which it has stored every
//! event, so the agent can forget them and a resend is harmless.

use serde::{Deserialize, Serialize};

use crate::events::{CallId, TimedEvent};

/// Largest message either side accepts, bytes.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Most events in one `events` message.
pub const MAX_BATCH: usize = 200;

/// Agent -> board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentMsg {
    /// Events, in order per call (a batch may mix calls).
    Events {
        /// The events.
        events: Vec<TimedEvent>,
    },
}

/// One call's acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The call.
    pub call_id: CallId,
    /// Every event 1..=seq of it is stored.
    pub seq: u64,
}

/// Board -> agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BoardMsg {
    /// The connection is accepted.
    Welcome {
        /// The agent's name as the board knows it (from the token).
        agent: String,
        /// The event schema version the board speaks.
        v: u32,
    },
    /// Stored.
    Ack {
        /// Per call.
        acks: Vec<Ack>,
    },
    /// A supervisor's note for a call in progress.
    Note {
        /// The call.
        call_id: CallId,
        /// The supervisor's name.
        from: String,
        /// The note.
        text: String,
    },
    /// The board refuses what was sent (and closes the connection).
    Error {
        /// Why.
        message: String,
    },
}
