//! What the analysis decides, in the form it takes in JSON: the `analysis`
//! event's payload and the call's progress through the four steps.

use serde::{Deserialize, Serialize};

use super::Speaker;

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
    pub const ALL: [Reason; 7] = [Reason::Network, Reason::Price, Reason::Competitor, Reason::Service, Reason::Billing, Reason::Plan, Reason::Relocation];

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

    /// Short Chinese label for a chip on screen.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Network => "网络",
            Self::Price => "资费",
            Self::Competitor => "竞争对手",
            Self::Service => "服务",
            Self::Billing => "扣费",
            Self::Plan => "套餐",
            Self::Relocation => "搬迁",
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

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Calm => "平静",
            Self::Annoyed => "不满",
            Self::Angry => "愤怒",
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

impl Trend {
    /// An arrow for the trend.
    pub fn arrow(self) -> &'static str {
        match self {
            Self::Rising => "↑",
            Self::Steady => "→",
            Self::Falling => "↓",
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

impl AgentTurn {
    /// Adds what another piece of the same turn showed.
    pub fn merge(&mut self, b: AgentTurn) {
        self.empathy |= b.empathy;
        self.offers_choice |= b.offers_choice;
        self.proposal |= b.proposal;
        self.probe |= b.probe;
        self.confirm |= b.confirm;
        self.restate |= b.restate;
        for p in b.inflaming {
            if !self.inflaming.contains(&p) {
                self.inflaming.push(p);
            }
        }
        for v in b.vague {
            if !self.vague.contains(&v) {
                self.vague.push(v);
            }
        }
    }
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

/// The agent's speaking rate against the target range (seeds: 120-150
/// characters per minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateFlag {
    /// Faster than the range allows.
    TooFast,
    /// Slower than the range allows.
    TooSlow,
}

impl RateFlag {
    /// Snake-case name, as in JSON and playbooks.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooFast => "too_fast",
            Self::TooSlow => "too_slow",
        }
    }
}

impl std::str::FromStr for RateFlag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "too_fast" => Ok(Self::TooFast),
            "too_slow" => Ok(Self::TooSlow),
            _ => Err(format!("unknown speaking-rate flag {s:?} (too_fast, too_slow)")),
        }
    }
}

/// Where one of the four steps stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Not (yet) done.
    #[default]
    Pending,
    /// Done, in its place.
    Done,
    /// Skipped where it was needed (e.g. an offer made to an upset customer
    /// before any empathy), or never done in a call that needed it.
    Missed,
}

/// One step of the method and when it was done.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StepMark {
    /// Pending, done or missed.
    pub state: StepState,
    /// Call time at which it was done (or found missed), seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_s: Option<f64>,
}

impl StepMark {
    /// Marks the step done at `t` unless it already is.
    pub fn done(&mut self, t: f64) {
        if self.state != StepState::Done {
            self.state = StepState::Done;
            self.at_s = Some(t);
        }
    }

    /// Marks the step missed at `t` unless it is done or already missed.
    pub fn miss(&mut self, t: f64) {
        if self.state == StepState::Pending {
            self.state = StepState::Missed;
            self.at_s = Some(t);
        }
    }
}

/// The four steps of the retention method (倾听 -> 共情 -> 方案 -> 确认).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Steps {
    /// 1. 倾听: listen and find the root cause.
    pub listen: StepMark,
    /// 2. 共情: empathise before any offer.
    pub empathize: StepMark,
    /// 3. 方案: offer a solution, as a choice.
    pub propose: StepMark,
    /// 4. 确认: confirm what was agreed.
    pub confirm: StepMark,
}

impl Steps {
    /// The steps in order with their Chinese names.
    pub fn named(&self) -> [(&'static str, StepMark); 4] {
        [("倾听", self.listen), ("共情", self.empathize), ("方案", self.propose), ("确认", self.confirm)]
    }
}

/// The call so far, as the coach and every screen need it (the `call`
/// object of an `analysis` event).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallProgress {
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
    /// The unresolved complaint has run past `analysis.complaint_limit_s`.
    #[serde(default)]
    pub complaint_over_limit: bool,
    /// The agent's recent speaking rate, characters per minute.
    pub agent_rate_cpm: Option<f32>,
    /// Outside the configured range.
    pub agent_rate_flag: Option<RateFlag>,
    /// Customer turns with churn intent so far.
    pub churn_turns: u32,
    /// The four steps, done or missed, with their times.
    #[serde(default)]
    pub steps: Steps,
}

impl CallProgress {
    /// True when the customer is annoyed or angry.
    pub fn upset(&self) -> bool {
        self.level.is_some_and(|l| l >= Level::Annoyed)
    }

    /// The step the agent should be working on now (None before anything
    /// retention-related has happened): customer states intent -> agent
    /// probes -> reason known -> agent empathised -> agent proposed ->
    /// customer accepts (or insists).
    pub fn current_stage(&self) -> Option<super::Stage> {
        use super::Stage;
        let upset = self.upset();
        if self.customer_accepted || (self.customer_insists && self.agent_proposed) {
            return Some(Stage::Confirm);
        }
        if upset && !self.agent_empathized {
            return Some(Stage::Empathize);
        }
        if self.agent_proposed || (self.reason.is_some() && (self.churn_intent || self.agent_probed || upset)) {
            return Some(Stage::Propose);
        }
        if self.churn_intent {
            return Some(Stage::Listen);
        }
        if self.reason.is_some() || upset {
            return Some(Stage::Empathize);
        }
        None
    }

    /// The method's own rule, whatever the playbook says: no proposal while
    /// the customer is upset and the agent has not yet empathised
    /// (先处理情绪，再处理事情).
    pub fn proposal_blocked(&self) -> bool {
        self.upset() && !self.agent_empathized
    }
}

/// The analysis of one turn (the `analysis` event and `analyze` output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
    /// Start, seconds of call time.
    pub start: f64,
    /// End, seconds of call time.
    pub end: f64,
    /// False for a partial result.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Churn intent (customer turns).
    pub churn: Option<Churn>,
    /// Churn reason named in this turn (customer turns).
    pub reason: Option<Reason>,
    /// Anger (customer turns).
    pub emotion: Option<Emotion>,
    /// The agent's behaviour (agent turns).
    pub agent: Option<AgentTurn>,
    /// Replies to a proposal (customer turns).
    pub customer: Option<CustomerTurn>,
    /// Cue words and features behind the decisions.
    pub why: Vec<String>,
    /// The call so far.
    pub call: CallProgress,
}
