//! The playbook: coaching cards as data (`prompts/zh-CN/cards/*.toml`),
//! loaded and validated with file:line errors (`callcoach playbook check`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::{Level, RateFlag, Reason, Trend};
pub use crate::events::Stage;

/// A playbook problem, located.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct PlaybookError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 when not known).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// All problems found in a playbook (check reports every one, not just the first).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct PlaybookErrors(pub Vec<PlaybookError>);

/// `reason = "none" | "any" | "<reason>" | ["<reason>", ...]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReasonCond {
    /// One keyword or reason.
    One(String),
    /// Any of these reasons.
    AnyOf(Vec<Reason>),
}

impl ReasonCond {
    /// Checks the value; returns an error message.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::One(s) if s == "none" || s == "any" => Ok(()),
            Self::One(s) => s
                .parse::<Reason>()
                .map(drop)
                .map_err(|_| format!("reason = {s:?}: use none, any, or one of network, price, competitor, service, billing, plan, relocation")),
            Self::AnyOf(v) if v.is_empty() => Err("reason = [] matches nothing".into()),
            Self::AnyOf(_) => Ok(()),
        }
    }

    /// Does the call's reason satisfy it?
    pub fn matches(&self, reason: Option<Reason>) -> bool {
        match self {
            Self::One(s) if s == "none" => reason.is_none(),
            Self::One(s) if s == "any" => reason.is_some(),
            Self::One(s) => s.parse::<Reason>().ok() == reason && reason.is_some(),
            Self::AnyOf(v) => reason.is_some_and(|r| v.contains(&r)),
        }
    }
}

/// When a card applies. Every key is optional; all given keys must hold.
/// State keys are checked against the call so far and keep a shown card up;
/// trigger keys (marked) look at the turn just analysed and are only needed
/// to show the card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// The customer wants to leave.
    pub churn_intent: Option<bool>,
    /// The call's dominant reason.
    pub reason: Option<ReasonCond>,
    /// Customer anger at least this level.
    pub anger_at_least: Option<Level>,
    /// Customer anger below this level.
    pub anger_below: Option<Level>,
    /// Anger trend.
    pub trend: Option<Trend>,
    /// Where the call is in the four steps.
    pub stage: Option<Stage>,
    /// The agent has asked about the reason.
    pub agent_probed: Option<bool>,
    /// The agent has restated the customer's problem.
    pub agent_restated: Option<bool>,
    /// The agent has empathised since the customer last got upset.
    pub agent_empathized: Option<bool>,
    /// The agent has proposed something.
    pub agent_proposed: Option<bool>,
    /// The latest proposal came with a choice.
    pub offered_choice: Option<bool>,
    /// The customer accepted a proposal.
    pub customer_accepted: Option<bool>,
    /// The agent confirmed after acceptance.
    pub agent_confirmed: Option<bool>,
    /// The customer insists on leaving after a proposal.
    pub customer_insists: Option<bool>,
    /// Customer turns with churn intent, at least.
    pub churn_turns_at_least: Option<u32>,
    /// Unresolved complaint running at least this long (the 180 s rule).
    pub complaint_open_s_at_least: Option<f64>,
    /// Call time at least.
    pub elapsed_s_at_least: Option<f64>,
    /// Call time below.
    pub elapsed_s_below: Option<f64>,
    /// The agent's speaking rate flag: `too_fast` or `too_slow`.
    pub agent_rate: Option<RateFlag>,
    /// The unresolved complaint has run past `analysis.complaint_limit_s`
    /// (the seeds' 180-second rule; the limit is configured, not written here).
    pub complaint_over_limit: Option<bool>,
    /// Trigger: the customer just said they need to think about it.
    pub think_it_over: Option<bool>,
    /// Trigger: the agent just said a phrase that inflames.
    pub inflaming: Option<bool>,
    /// Trigger: the customer's turn contains one of these words.
    pub customer_says: Option<Vec<String>>,
    /// Trigger: the agent's turn contains one of these words.
    pub agent_says: Option<Vec<String>>,
}

impl When {
    /// True when the card has trigger keys.
    pub fn has_trigger(&self) -> bool {
        self.think_it_over.is_some() || self.inflaming.is_some() || self.customer_says.is_some() || self.agent_says.is_some()
    }
}

/// One coaching card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// Unique id, `stage.name`.
    pub id: String,
    /// Short title (the agent reads it at a glance).
    pub title: String,
    /// Step of the method.
    pub stage: Stage,
    /// Conditions.
    #[serde(default)]
    pub when: When,
    /// 1-3 short lines in the agent's voice. `{reason}` and `{inflaming}` are filled in.
    pub say: Vec<String>,
    /// Tips.
    #[serde(default, rename = "do")]
    pub do_: Vec<String>,
    /// What not to do.
    #[serde(default)]
    pub dont: Vec<String>,
    /// Higher wins.
    #[serde(default = "default_priority")]
    pub priority: i32,
    /// Not shown again this soon after it was shown.
    #[serde(default = "default_cooldown")]
    pub cooldown_s: f64,
    /// Alerts only: how long the alert stays up.
    #[serde(default = "default_show")]
    pub show_s: f64,
    /// Clear the card after this many agent turns (a one-off prompt such as
    /// "escalate upward"); by default a card stays while its conditions hold.
    #[serde(default)]
    pub clear_after_agent_turns: Option<u32>,
    /// Where in the training material this comes from.
    #[serde(default)]
    pub source: String,
}

fn default_priority() -> i32 {
    50
}
fn default_cooldown() -> f64 {
    60.0
}
fn default_show() -> f64 {
    12.0
}

/// Where a card was defined.
#[derive(Debug, Clone)]
pub struct CardOrigin {
    /// File.
    pub path: PathBuf,
    /// Line of its `[[card]]`.
    pub line: usize,
}

/// A loaded, validated playbook.
#[derive(Debug, Clone, Default)]
pub struct Playbook {
    /// Cards in file order.
    pub cards: Vec<Card>,
    /// Where each card came from.
    pub origins: Vec<CardOrigin>,
    /// The folder (None for the built-in playbook).
    pub dir: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardFile {
    #[serde(default)]
    card: Vec<toml::Spanned<Card>>,
}

/// Longest `say` line, in characters.
pub const MAX_SAY_CHARS: usize = 70;

const BUILTIN: &[(&str, &str)] = &[
    ("listen.toml", include_str!("../../prompts/zh-CN/cards/listen.toml")),
    ("empathize.toml", include_str!("../../prompts/zh-CN/cards/empathize.toml")),
    ("propose.toml", include_str!("../../prompts/zh-CN/cards/propose.toml")),
    ("confirm.toml", include_str!("../../prompts/zh-CN/cards/confirm.toml")),
    ("alerts.toml", include_str!("../../prompts/zh-CN/cards/alerts.toml")),
    ("scenarios.toml", include_str!("../../prompts/zh-CN/cards/scenarios.toml")),
];

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Playbook {
    /// The playbook built into the binary.
    pub fn builtin() -> Result<Self, PlaybookErrors> {
        let files: Vec<(PathBuf, String)> = BUILTIN.iter().map(|(n, t)| (PathBuf::from("<built-in>/cards").join(n), t.to_string())).collect();
        Self::from_files(files, None)
    }

    /// Loads `DIR/cards/*.toml` (sorted by name). A folder without `cards/`
    /// (one that only changes lexicons) uses the built-in cards.
    pub fn load_dir(dir: &Path) -> Result<Self, PlaybookErrors> {
        let cards_dir = dir.join("cards");
        if !cards_dir.exists() && dir.is_dir() {
            tracing::info!("{} has no cards/ folder; using the built-in cards", dir.display());
            return Self::builtin();
        }
        let one = |message: String| PlaybookErrors(vec![PlaybookError { path: cards_dir.clone(), line: 0, message }]);
        let rd = std::fs::read_dir(&cards_dir).map_err(|e| one(format!("cannot read the cards folder: {e}")))?;
        let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect();
        paths.sort();
        if paths.is_empty() {
            return Err(one("no *.toml card files".into()));
        }
        let mut files = Vec::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|e| PlaybookErrors(vec![PlaybookError { path: p.clone(), line: 0, message: e.to_string() }]))?;
            files.push((p, text));
        }
        Self::from_files(files, Some(dir.to_path_buf()))
    }

    /// Parses and validates card files.
    pub fn from_files(files: Vec<(PathBuf, String)>, dir: Option<PathBuf>) -> Result<Self, PlaybookErrors> {
        let mut errors = Vec::new();
        let mut pb = Playbook { dir, ..Default::default() };
        for (path, text) in &files {
            let parsed: CardFile = match toml::from_str(text) {
                Ok(p) => p,
                Err(e) => {
                    let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
                    errors.push(PlaybookError { path: path.clone(), line, message: e.message().trim().to_string() });
                    continue;
                }
            };
            for sc in parsed.card {
                let line = line_of(text, sc.span().start);
                pb.cards.push(sc.into_inner());
                pb.origins.push(CardOrigin { path: path.clone(), line });
            }
        }
        if errors.is_empty() {
            errors.extend(pb.validate());
        }
        if errors.is_empty() {
            Ok(pb)
        } else {
            Err(PlaybookErrors(errors))
        }
    }

    /// Checks every card: text, values, duplicates, reachability.
    pub fn validate(&self) -> Vec<PlaybookError> {
        let mut errs = Vec::new();
        let mut ids: HashMap<&str, usize> = HashMap::new();
        if self.cards.is_empty() {
            errs.push(PlaybookError { path: self.dir.clone().unwrap_or_default(), line: 0, message: "the playbook has no cards".into() });
        }
        for (i, c) in self.cards.iter().enumerate() {
            let o = &self.origins[i];
            let mut err = |message: String| errs.push(PlaybookError { path: o.path.clone(), line: o.line, message: format!("card {:?}: {message}", c.id) });
            if c.id.trim().is_empty() {
                err("id is empty".into());
            }
            if let Some(prev) = ids.insert(c.id.as_str(), i) {
                let p = &self.origins[prev];
                err(format!("duplicate id (first defined at {}:{})", p.path.display(), p.line));
            }
            if c.title.trim().is_empty() {
                err("title is empty".into());
            }
            if c.say.is_empty() || c.say.len() > 3 {
                err(format!("needs 1 to 3 `say` lines, has {}", c.say.len()));
            }
            for s in c.say.iter().chain(&c.do_).chain(&c.dont) {
                if s.trim().is_empty() {
                    err("has an empty say/do/dont line".into());
                }
            }
            for s in &c.say {
                if s.chars().count() > MAX_SAY_CHARS {
                    err(format!("say line is {} characters; keep it under {MAX_SAY_CHARS} so it can be read mid-call", s.chars().count()));
                }
            }
            if c.cooldown_s < 0.0 || c.show_s <= 0.0 {
                err("cooldown_s must be >= 0 and show_s > 0".into());
            }
            if let Some(r) = &c.when.reason {
                if let Err(m) = r.validate() {
                    err(m);
                }
            }
            for words in [&c.when.customer_says, &c.when.agent_says].into_iter().flatten() {
                if words.is_empty() || words.iter().any(|w| w.trim().is_empty()) {
                    err("customer_says/agent_says needs non-empty words".into());
                }
            }
            if let Some(why) = unreachable_reason(c) {
                err(format!("can never be shown: {why}"));
            }
        }
        errs
    }

    /// A card by id.
    pub fn card(&self, id: &str) -> Option<&Card> {
        self.cards.iter().find(|c| c.id == id)
    }
}

/// Contradictions that make a card impossible to show.
pub fn unreachable_reason(c: &Card) -> Option<String> {
    let w = &c.when;
    if let (Some(lo), Some(hi)) = (w.anger_at_least, w.anger_below) {
        if lo >= hi {
            return Some(format!("anger_at_least = {} and anger_below = {}", lo.as_str(), hi.as_str()));
        }
    }
    if let (Some(a), Some(b)) = (w.elapsed_s_at_least, w.elapsed_s_below) {
        if a >= b {
            return Some("elapsed_s_at_least >= elapsed_s_below".into());
        }
    }
    if w.customer_accepted == Some(true) && w.agent_proposed == Some(false) {
        return Some("customer_accepted = true needs a proposal, but agent_proposed = false".into());
    }
    if w.customer_insists == Some(true) && w.agent_proposed == Some(false) {
        return Some("customer_insists = true needs a proposal, but agent_proposed = false".into());
    }
    if w.agent_confirmed == Some(true) && w.customer_accepted == Some(false) {
        return Some("agent_confirmed = true needs customer_accepted".into());
    }
    if w.offered_choice == Some(true) && w.agent_proposed == Some(false) {
        return Some("offered_choice = true needs agent_proposed".into());
    }
    if w.churn_turns_at_least.is_some_and(|n| n > 0) && w.churn_intent == Some(false) && w.customer_insists == Some(true) {
        return Some("customer_insists with churn_intent = false".into());
    }
    if w.customer_says.is_some() && w.agent_says.is_some() {
        return Some("customer_says and agent_says cannot both hold on one turn".into());
    }
    if (w.think_it_over.is_some() || w.customer_says.is_some()) && (w.inflaming.is_some() || w.agent_says.is_some()) {
        return Some("mixes customer and agent triggers; a turn has one speaker".into());
    }
    if c.stage == Stage::Propose && w.agent_empathized == Some(false) && w.anger_at_least.is_some_and(|l| l >= Level::Annoyed) {
        return Some("a proposal while the customer is upset and before empathy is never shown (empathize first)".into());
    }
    if let Some(s) = w.stage {
        if s == Stage::Alert {
            return Some("stage = alert is not a step of the call".into());
        }
    }
    None
}
