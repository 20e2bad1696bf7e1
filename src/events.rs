//! The event schema: every stage's output type and its JSON form. `replay
//! --json`, `transcribe --json` and `analyze` all write these objects, one
//! per line, tagged by `type`.

use serde::{Deserialize, Serialize};

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
}

/// Any event of the timeline, tagged with `type` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Recognised speech.
    Segment(SegmentEvent),
    /// The analysis of a segment (churn, reason, emotion, agent behaviour).
    Analysis(Box<crate::analysis::Analysis>),
    /// A coaching card shown or cleared.
    Card(crate::coach::CardEvent),
    /// A call-level alert (for the supervisors' board).
    Alert(crate::coach::AlertEvent),
    /// A pipeline condition worth telling the user (device lost, lag).
    Status(StatusEvent),
}

/// Something about the pipeline itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// Short machine-readable kind (`device_lost`, `device_back`, `lagging`, `truncated_input`).
    pub kind: String,
    /// The channel concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker: Option<Speaker>,
    /// Human-readable detail.
    pub message: String,
}

/// An event with the call time at which it was emitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedEvent {
    /// Seconds of call audio fed to the pipeline when the event was emitted
    /// (wall time since start in real-time mode).
    pub t: f64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
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
        let e = TimedEvent {
            t: 12.48,
            event: Event::Segment(SegmentEvent {
                speaker: Speaker::Customer,
                start: 10.2,
                end: 12.1,
                text: "我要销户".into(),
                is_final: true,
                latency_ms: Some(380.0),
                features: Some(AcousticFeatures { rms_db: -20.0, ..Default::default() }),
                dropped: vec![],
            }),
        };
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "segment");
        assert_eq!(v["speaker"], "customer");
        assert_eq!(v["final"], true);
        assert_eq!(v["text"], "我要销户");
        assert_eq!(v["rms_db"], -20.0);
        let back: TimedEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
