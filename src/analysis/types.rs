//! What the analysis decides, in the form it takes in JSON.

use serde::{Deserialize, Serialize};

/// 流失原因: why the customer wants to leave (the seeds' reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// Signal, speed, broadband drops.
    Network,
    /// Too expensive, not worth it.
    Price,
    /// Another carrier's offer or gift.
    Competitor,
    /// Staff attitude, nobody follows up, problem unresolved.
    Service,
    /// Disputed or unexpected charges (乱扣费).
    Billing,
    /// The package does not fit their use.
    Plan,
    /// Moving away, job change.
    Relocation,
}

impl Reason {
    /// All reasons in a fixed order.
    pub const ALL: [Reason; 7] = [
        Reason::Network,
        Reason::Price,
        Reason::Competitor,
        Reason::Service,
        Reason::Billing,
        Reason::Plan,
        Reason::Relocation,
    ];

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Network => "network",
            Self::Price => "price",
            Self::Competitor => "competitor",
            Self::Service => "service",
            Self::Billing => "billing",
            Self::Plan => "plan",
            Self::Relocation => "relocation",
        }
    }

    /// Parses a lexicon group name.
    pub fn from_group(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Reason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::from_group(s).ok_or_else(|| format!("unknown reason {s:?}"))
    }
}

/// Churn intent of one customer turn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Churn {
    /// The customer wants to leave (score >= 0.5).
    pub intent: bool,
    /// 0..1.
    pub score: f32,
}

/// Anger level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Below 0.3.
    Calm,
    /// 0.3 to 0.6.
    Annoyed,
    /// 0.6 and above.
    Angry,
}

impl Level {
    /// Level for an anger score.
    pub fn of(anger: f32) -> Self {
        if anger >= 0.6 {
            Self::Angry
        } else if anger >= 0.3 {
            Self::Annoyed
        } else {
            Self::Calm
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Calm => "calm",
            Self::Annoyed => "annoyed",
            Self::Angry => "angry",
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "calm" => Ok(Self::Calm),
            "annoyed" => Ok(Self::Annoyed),
            "angry" => Ok(Self::Angry),
            _ => Err(format!("unknown anger level {s:?} (calm, annoyed, angry)")),
        }
    }
}

/// Direction of anger over the last ~30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// Getting angrier.
    Rising,
    /// About the same.
    Steady,
    /// Calming down.
    Falling,
}

impl std::str::FromStr for Trend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rising" => Ok(Self::Rising),
            "steady" => Ok(Self::Steady),
            "falling" => Ok(Self::Falling),
            _ => Err(format!("unknown trend {s:?} (rising, steady, falling)")),
        }
    }
}

/// The customer's emotion at this turn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Emotion {
    /// 0..1.
    pub anger: f32,
    /// Level of `anger`.
    pub level: Level,
    /// Over the last ~30 s.
    pub trend: Trend,
}

/// What the agent did in one turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentTurn {
    /// Acknowledged the customer's feelings or apologised.
    pub empathy: bool,
    /// Put two or more concrete options to the customer.
    pub offers_choice: bool,
    /// Phrases that inflame (the seeds' list), as matched.
    pub inflaming: Vec<String>,
    /// Vague words (大概, 可能, 也许), a softer warning.
    pub vague: Vec<String>,
    /// Proposed something concrete (an offer, a fix, a follow-up).
    pub proposal: bool,
    /// Asked an open question about the reason.
    pub probe: bool,
    /// Confirmed what was agreed (restated, next step, ID).
    pub confirm: bool,
    /// Restated the customer's problem to check understanding.
    pub restate: bool,
}

/// What a customer turn says about the proposal so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerTurn {
    /// Agrees to a proposal (好的, 就要这个, 那行).
    pub accept: bool,
    /// Insists on leaving after the agent's efforts.
    pub insist: bool,
    /// "I need to think about it" (考虑一下).
    pub think_it_over: bool,
}

/// The call so far, as the coach needs it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallSummary {
    /// Call time of the latest turn, seconds.
    pub t: f64,
    /// The customer has said they want to leave (and not taken it back).
    pub churn_intent: bool,
    /// Highest churn score so far.
    pub churn_score: f32,
    /// The dominant reason over the call.
    pub reason: Option<Reason>,
    /// Smoothed customer anger.
    pub anger: f32,
    /// Level of the smoothed anger.
    pub level: Option<Level>,
    /// Trend of the customer's anger.
    pub trend: Option<Trend>,
    /// The agent has probed for the reason.
    pub agent_probed: bool,
    /// The agent has restated the customer's problem.
    pub agent_restated: bool,
    /// The agent has empathised since the customer last got upset.
    pub agent_empathized: bool,
    /// The agent has made a proposal.
    pub agent_proposed: bool,
    /// The last proposal came with a choice.
    pub offered_choice: bool,
    /// The customer accepted a proposal.
    pub customer_accepted: bool,
    /// The agent confirmed after acceptance.
    pub agent_confirmed: bool,
    /// The customer insisted on leaving after a proposal.
    pub customer_insists: bool,
    /// Seconds an unresolved complaint has been running (the 180 s rule).
    pub complaint_open_s: Option<f64>,
    /// The agent's recent speaking rate, characters per minute.
    pub agent_rate_cpm: Option<f32>,
    /// `too_fast` or `too_slow` against the configured range.
    pub agent_rate_flag: Option<String>,
    /// Customer turns with churn intent so far.
    pub churn_turns: u32,
}
