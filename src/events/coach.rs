//! What the coach puts on the agent's screen: step cards, alert cards and
//! call-level alerts.

use serde::{Deserialize, Serialize};

use super::Speaker;

/// The four steps of the retention method, plus alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// 1. Listen and find the root cause.
    Listen,
    /// 2. Empathise and soothe.
    Empathize,
    /// 3. Offer a solution, with a choice.
    Propose,
    /// 4. Confirm and consolidate.
    Confirm,
    /// Something the agent must correct now.
    Alert,
}

impl Stage {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listen => "listen",
            Self::Empathize => "empathize",
            Self::Propose => "propose",
            Self::Confirm => "confirm",
            Self::Alert => "alert",
        }
    }

    /// Chinese name as the training material uses it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Listen => "倾听",
            Self::Empathize => "共情",
            Self::Propose => "方案",
            Self::Confirm => "确认",
            Self::Alert => "提醒",
        }
    }
}

/// A card shown to, or taken away from, the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardEvent {
    /// `shown` or `cleared`.
    pub action: CardAction,
    /// Card id.
    pub id: String,
    /// Step of the method.
    pub stage: Stage,
    /// Title.
    pub title: String,
    /// Lines to say (placeholders filled), shown cards only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub say: Vec<String>,
    /// Tips, shown cards only.
    #[serde(default, rename = "do", skip_serializing_if = "Vec::is_empty")]
    pub do_: Vec<String>,
    /// What not to do, shown cards only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dont: Vec<String>,
    /// The triggering turn and the conditions that held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<String>,
    /// How long an alert card stays up, seconds (alerts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_s: Option<f64>,
}

/// Shown or cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardAction {
    /// The card appears.
    Shown,
    /// The card goes away.
    Cleared,
}

/// What a call-level alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The customer said they want to leave (销户, 携号转网, ...).
    ChurnIntent,
    /// The customer is angry.
    Angry,
    /// The customer's anger is rising.
    AngerRising,
    /// The agent said a phrase that inflames.
    Inflaming,
    /// An unresolved complaint has run past the limit (180 s).
    ComplaintLimit,
    /// The agent speaks too fast.
    SpeakingRate,
}

impl AlertKind {
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChurnIntent => "churn_intent",
            Self::Angry => "angry",
            Self::AngerRising => "anger_rising",
            Self::Inflaming => "inflaming",
            Self::ComplaintLimit => "complaint_limit",
            Self::SpeakingRate => "speaking_rate",
        }
    }

    /// Chinese label for screens.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::ChurnIntent => "流失意向",
            Self::Angry => "客户愤怒",
            Self::AngerRising => "情绪上升",
            Self::Inflaming => "激化用语",
            Self::ComplaintLimit => "投诉超时",
            Self::SpeakingRate => "语速过快",
        }
    }
}

/// A call-level alert for supervisors (and the event log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// What it is about.
    pub kind: AlertKind,
    /// Whose words raised it.
    pub speaker: Speaker,
    /// The words, or a short description.
    pub text: String,
}

/// The agent's verdict on a card (the overlay's buttons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The agent used the card.
    Used,
    /// The agent found it did not fit.
    Dismissed,
}

/// The agent marked a card used or dismissed (`card_feedback`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardFeedback {
    /// The card.
    pub card_id: String,
    /// Used or dismissed.
    pub verdict: Verdict,
}

/// A short note a supervisor sent to the agent from the board (`note`);
/// the overlay shows it as a card from the supervisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupervisorNote {
    /// The supervisor's name.
    pub from: String,
    /// The note.
    pub text: String,
}
