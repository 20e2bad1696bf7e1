//! Calls as units: their identity, start, end and summary.

use serde::{Deserialize, Serialize};

use super::analysis::{Level, Reason, Steps};
use super::coach::Verdict;

/// A call's identity: a UUID v7 (time-ordered, unique across agents and
/// restarts), written as its usual hyphenated text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub uuid::Uuid);

impl CallId {
    /// A new id from the current time and random bits.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }
}

impl Default for CallId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl std::str::FromStr for CallId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        uuid::Uuid::parse_str(s).map(Self).map_err(|e| format!("not a call id {s:?}: {e}"))
    }
}

/// Where a call's audio comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallSource {
    /// Live capture.
    Devices {
        /// The agent's microphone (or the stereo device).
        agent: String,
        /// The customer side.
        customer: String,
    },
    /// A recording.
    File {
        /// Its path as given.
        path: String,
    },
}

/// `call_started`: the first speech after idle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallStarted {
    /// The agent's name (`[agent] name`).
    pub agent: String,
    /// Devices or file.
    pub source: CallSource,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub started_at_unix_ms: i64,
    /// Where in the input the call starts, seconds (a file or a capture
    /// session may hold several calls).
    pub input_offset_s: f64,
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// No speech on either side for `call_end_silence_s`.
    Silence,
    /// The agent (overlay) or a command ended it.
    Requested,
    /// The recording ended.
    InputEnded,
    /// The program was stopped (Ctrl-C, SIGTERM) mid-call.
    Shutdown,
}

/// How a retention call came out, from the last accept/insist signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The customer accepted an offer (and did not insist on leaving after).
    Retained,
    /// The customer insisted on leaving, or left with intent unanswered.
    Left,
    /// Neither: no churn talk, or it ended open.
    Unknown,
}

impl Outcome {
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retained => "retained",
            Self::Left => "left",
            Self::Unknown => "unknown",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Retained => "挽留成功",
            Self::Left => "客户离网",
            Self::Unknown => "未定",
        }
    }
}

/// One part of the compliance score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompliancePart {
    /// Short name (`empathy_before_offer`, `choice_offered`, ...).
    pub name: String,
    /// Points earned.
    pub points: u32,
    /// Points possible.
    pub max: u32,
    /// What decided it, in words.
    pub detail: String,
}

/// How closely the agent followed the method, 0-100, with its parts.
/// Parts that did not apply to the call (no offer made, nothing accepted)
/// are left out of the score and of `parts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compliance {
    /// Points earned over points possible, scaled to 0-100.
    pub score: u32,
    /// The parts that applied.
    pub parts: Vec<CompliancePart>,
}

/// A card shown during the call and what the agent made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardShown {
    /// Card id.
    pub id: String,
    /// Call time when it appeared, seconds.
    pub t: f64,
    /// The agent's verdict, if they gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// An inflaming phrase the agent said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhraseSaid {
    /// Call time, seconds.
    pub t: f64,
    /// The phrase as matched.
    pub phrase: String,
}

/// What a call came to (`call_ended`'s `summary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSummary {
    /// Retained, left or unknown.
    pub outcome: Outcome,
    /// The customer said they wanted to leave at some point.
    pub churn_intent: bool,
    /// Highest churn score of any customer turn.
    pub churn_score_max: f32,
    /// The dominant churn reason.
    pub reason: Option<Reason>,
    /// Highest customer anger (0..1) and its level.
    pub anger_peak: f32,
    /// Level of `anger_peak`.
    pub anger_peak_level: Level,
    /// The four steps, reached or missed.
    pub steps: Steps,
    /// The agent empathised before making an offer (None: no offer made).
    pub empathy_before_offer: Option<bool>,
    /// An offer came with a choice (None: no offer made).
    pub choice_offered: Option<bool>,
    /// The agent confirmed what was agreed (None: nothing accepted).
    pub confirmed: Option<bool>,
    /// Inflaming phrases the agent said.
    pub inflaming: Vec<PhraseSaid>,
    /// Cards shown, in order, with the agent's verdicts.
    pub cards: Vec<CardShown>,
    /// Supervisor notes received during the call.
    pub notes: u32,
    /// Compliance score with its parts.
    pub compliance: Compliance,
    /// Call length, first speech to last, seconds.
    pub duration_s: f64,
    /// Seconds of speech by the agent.
    pub agent_talk_s: f64,
    /// Seconds of speech by the customer.
    pub customer_talk_s: f64,
    /// Seconds both spoke at once.
    pub talk_over_s: f64,
    /// Longest an unresolved complaint ran, seconds.
    pub complaint_open_max_s: Option<f64>,
    /// The agent's median speaking rate, characters per minute.
    pub agent_rate_cpm: Option<f32>,
}

/// `call_ended`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallEnded {
    /// Why it ended.
    pub reason: EndReason,
    /// What it came to.
    pub summary: CallSummary,
}
