//! The event schema: every payload the wire carries and its JSON form.
//! `replay --json`, `run --json`, `transcribe --json`, `analyze`, the overlay
//! and the board all speak it. A leaf: it depends on serde and uuid only,
//! nothing of the pipeline.
//!
//! Every event travels in a [`TimedEvent`] envelope: the schema version
//! `v`, the call it belongs to (`call_id`), its place in that call (`seq`,
//! 1, 2, 3, ... without gaps, so a receiver can detect loss and
//! duplicates), its call time `t`, and the payload tagged by `type`.

pub mod analysis;
pub mod call;
pub mod coach;
pub mod status;

use serde::{Deserialize, Serialize};

pub use analysis::*;
pub use call::*;
pub use coach::*;
pub use status::*;

/// Version of the event schema. Raised when a field changes meaning or
/// goes away; new optional fields do not raise it.
pub const SCHEMA_VERSION: u32 = 2;

/// Which side of the call spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The call-centre agent (headset microphone).
    Agent,
    /// The customer (softphone output).
    Customer,
}

impl Speaker {
    /// The other side.
    pub fn other(self) -> Self {
        match self {
            Self::Agent => Self::Customer,
            Self::Customer => Self::Agent,
        }
    }

    /// One character for a transcript line: 坐 (坐席, the agent) or 客 (客户).
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Agent => "坐",
            Self::Customer => "客",
        }
    }

    /// Lower-case name as used in JSON and the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Customer => "customer",
        }
    }
}

impl std::fmt::Display for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Speaker {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "agent" | "a" | "A" => Ok(Self::Agent),
            "customer" | "c" | "C" => Ok(Self::Customer),
            other => Err(format!("unknown speaker {other:?} (expected agent or customer)")),
        }
    }
}

/// Acoustic measurements of one final segment, used by the emotion model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AcousticFeatures {
    /// Loudness of the speech frames, dBFS.
    pub rms_db: f32,
    /// Median pitch of voiced frames, Hz (None when nothing was voiced).
    pub f0_median_hz: Option<f32>,
    /// Pitch range of voiced frames (90th - 10th percentile), Hz.
    pub f0_range_hz: Option<f32>,
    /// Speaking rate: Chinese characters (or words) per minute of speech.
    pub chars_per_min: Option<f32>,
    /// Seconds of this segment during which the other side was also speaking.
    pub overlap_s: f32,
}

/// A piece of recognised speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentEvent {
    /// Who spoke.
    pub speaker: Speaker,
    /// Start in seconds of call audio.
    pub start: f64,
    /// End in seconds of call audio.
    pub end: f64,
    /// Recognised text (simplified Chinese).
    pub text: String,
    /// False for a partial result of an utterance still going on.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Processing time from the segment's last audio sample being fed to
    /// this event being emitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Acoustic features (final segments from audio only).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub features: Option<AcousticFeatures>,
    /// What the output filters removed (hallucinations, prompt echo, loops).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
    /// 0 for the text decoded live. 1 when a second, full-context decode of
    /// the finished utterance replaces it: same speaker, `start` and `end`,
    /// better text; analysis of the turn is redone on it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revision: u32,
}

impl SegmentEvent {
    /// True when this segment, a second-pass revision, replaces a final of
    /// `speaker` from `start` to `end` (call time): same speaker, within its span.
    pub fn replaces(&self, speaker: Speaker, start: f64, end: f64) -> bool {
        self.revision > 0 && speaker == self.speaker && start >= self.start - 0.001 && end <= self.end + 0.001
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Any event of the timeline, tagged with `type` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A call began (the first speech after idle).
    CallStarted(CallStarted),
    /// Recognised speech.
    Segment(SegmentEvent),
    /// The analysis of a segment (churn, reason, emotion, agent behaviour).
    Analysis(Box<Analysis>),
    /// A coaching card shown or cleared.
    Card(CardEvent),
    /// A call-level alert (for the supervisors' board).
    Alert(AlertEvent),
    /// The agent marked a card used or dismissed.
    CardFeedback(CardFeedback),
    /// A supervisor's note to the agent.
    Note(SupervisorNote),
    /// A pipeline condition worth telling the user (device lost, lag).
    Status(StatusEvent),
    /// The call ended, with its summary.
    CallEnded(Box<CallEnded>),
}

impl Event {
    /// The `type` tag of this event in JSON.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::CallStarted(_) => "call_started",
            Self::Segment(_) => "segment",
            Self::Analysis(_) => "analysis",
            Self::Card(_) => "card",
            Self::Alert(_) => "alert",
            Self::CardFeedback(_) => "card_feedback",
            Self::Note(_) => "note",
            Self::Status(_) => "status",
            Self::CallEnded(_) => "call_ended",
        }
    }
}

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

/// An event in its envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedEvent {
    /// Schema version ([`SCHEMA_VERSION`]).
    #[serde(default = "schema_version")]
    pub v: u32,
    /// The call; absent for statuses between calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<CallId>,
    /// Place in the call: 1 for `call_started`, then 2, 3, ... without
    /// gaps up to `call_ended`. Absent between calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Call time in seconds: since the call started. Live and `--realtime`:
    /// the wall time the event was emitted; a fast replay: the call time of
    /// the audio the event is about. Between calls: seconds since the
    /// session started.
    pub t: f64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

impl TimedEvent {
    /// An event outside any call.
    pub fn idle(t: f64, event: Event) -> Self {
        Self { v: SCHEMA_VERSION, call_id: None, seq: None, t: round_ms(t), event }
    }

    /// An event of a call.
    pub fn in_call(call_id: CallId, seq: u64, t: f64, event: Event) -> Self {
        Self { v: SCHEMA_VERSION, call_id: Some(call_id), seq: Some(seq), t: round_ms(t), event }
    }
}

/// Rounds seconds to milliseconds for stable JSON.
pub fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_json_has_the_documented_shape() {
        let e = TimedEvent::in_call(
            CallId::new(),
            3,
            12.48,
            Event::Segment(SegmentEvent {
                speaker: Speaker::Customer,
                start: 10.2,
                end: 12.1,
                text: "我要销户".into(),
                is_final: true,
                latency_ms: Some(380.0),
                features: Some(AcousticFeatures { rms_db: -20.0, ..Default::default() }),
                dropped: vec![],
                revision: 0,
            }),
        );
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["v"], SCHEMA_VERSION);
        assert_eq!(v["seq"], 3);
        assert!(v["call_id"].as_str().is_some_and(|s| s.len() == 36), "{v}");
        assert_eq!(v["type"], "segment");
        assert_eq!(v["speaker"], "customer");
        assert_eq!(v["final"], true);
        assert_eq!(v["text"], "我要销户");
        assert_eq!(v["rms_db"], -20.0);
        let back: TimedEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
