//! The learned part of the analysis: small logistic regressions that
//! combine everything the rules see (lexicon groups, frames, the rules'
//! own decisions) with character n-grams and pinyin, so phrasing nobody
//! wrote into a lexicon is still caught. Trained in Rust by `callcoach
//! train` on the labelled corpora; the weights are data in the playbook
//! (`prompts/zh-CN/model/*.tsv`), like the lexicons, and `why` names the
//! features that decided.

pub mod agent_frames;
pub mod features;
pub mod logreg;
pub mod pinned;
pub mod train;

use std::path::{Path, PathBuf};

pub use features::Features;
pub use logreg::{FeatureNames, LogReg, ModelFileError, TrainOptions};

use super::lexicon::Hit;
use super::Reason;
use crate::text::Normalized;

/// Reason classes of the reason model (index 0: no reason named).
pub const REASON_CLASSES: [&str; 8] = ["none", "network", "price", "competitor", "service", "billing", "plan", "relocation"];
/// Level classes of the emotion model.
pub const LEVEL_CLASSES: [&str; 3] = ["calm", "annoyed", "angry"];

/// The models of a playbook.
#[derive(Debug, Clone)]
pub struct LearnedModels {
    /// Customer: wants to leave.
    pub churn: LogReg,
    /// Customer: the reason named.
    pub reason: LogReg,
    /// Customer: calm, annoyed or angry.
    pub emotion: LogReg,
    /// Agent: acknowledges feelings.
    pub empathy: LogReg,
    /// Agent: puts options to choose from.
    pub choice: LogReg,
    /// Agent: one clause inflames.
    pub inflaming: LogReg,
}

/// The models, by name, in the order of [`FILES`].
pub const MODELS: [&str; 6] = ["churn", "reason", "emotion", "empathy", "choice", "inflaming"];

/// The model files, by name.
pub const FILES: [&str; 6] = ["churn.tsv", "reason.tsv", "emotion.tsv", "empathy.tsv", "choice.tsv", "inflaming.tsv"];

const BUILTIN: [&str; 6] = [
    include_str!("../../../prompts/zh-CN/model/churn.tsv"),
    include_str!("../../../prompts/zh-CN/model/reason.tsv"),
    include_str!("../../../prompts/zh-CN/model/emotion.tsv"),
    include_str!("../../../prompts/zh-CN/model/empathy.tsv"),
    include_str!("../../../prompts/zh-CN/model/choice.tsv"),
    include_str!("../../../prompts/zh-CN/model/inflaming.tsv"),
];

impl LearnedModels {
    /// No models: the rules decide alone.
    pub fn none() -> Self {
        let n = LogReg::none;
        Self { churn: n(), reason: n(), emotion: n(), empathy: n(), choice: n(), inflaming: n() }
    }

    /// From six models in the order of [`FILES`] (missing ones are empty).
    pub fn from_vec(v: Vec<LogReg>) -> Self {
        let mut it = v.into_iter();
        let mut next = || it.next().unwrap_or_else(LogReg::none);
        Self { churn: next(), reason: next(), emotion: next(), empathy: next(), choice: next(), inflaming: next() }
    }

    /// The six models in the order of [`FILES`].
    pub fn into_vec(self) -> Vec<LogReg> {
        vec![self.churn, self.reason, self.emotion, self.empathy, self.choice, self.inflaming]
    }

    fn from_texts(texts: [(&str, PathBuf); 6]) -> Result<Self, ModelFileError> {
        let [a, b, c, d, e, f] = texts;
        let load = |(t, p): (&str, PathBuf)| LogReg::from_text(t, &p);
        Ok(Self { churn: load(a)?, reason: load(b)?, emotion: load(c)?, empathy: load(d)?, choice: load(e)?, inflaming: load(f)? })
    }

    /// The models built into the binary.
    pub fn embedded() -> Result<Self, ModelFileError> {
        let p = |i: usize| PathBuf::from("<built-in>/model").join(FILES[i]);
        Self::from_texts([(BUILTIN[0], p(0)), (BUILTIN[1], p(1)), (BUILTIN[2], p(2)), (BUILTIN[3], p(3)), (BUILTIN[4], p(4)), (BUILTIN[5], p(5))])
    }

    /// `DIR/model/*.tsv`; a file that is absent is the built-in one.
    pub fn load_dir(dir: &Path) -> Result<Self, ModelFileError> {
        let mut texts: Vec<(String, PathBuf)> = Vec::new();
        for (i, name) in FILES.iter().enumerate() {
            let path = dir.join("model").join(name);
            let text = if path.exists() {
                std::fs::read_to_string(&path).map_err(|e| ModelFileError { path: path.display().to_string(), line: 0, message: e.to_string() })?
            } else {
                BUILTIN[i].to_string()
            };
            texts.push((text, path));
        }
        let t = |i: usize| (texts[i].0.as_str(), texts[i].1.clone());
        Self::from_texts([t(0), t(1), t(2), t(3), t(4), t(5)])
    }

    /// Writes the models to `DIR/*.tsv`.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, m) in FILES.iter().zip([&self.churn, &self.reason, &self.emotion, &self.empathy, &self.choice, &self.inflaming]) {
            std::fs::write(dir.join(name), m.to_text())?;
        }
        Ok(())
    }
}

/// What the rules decided about a customer's words (features for the models).
#[derive(Debug, Clone, Default)]
pub struct RuleView {
    /// The rules' churn decision.
    pub churn: bool,
    /// A conditional threat.
    pub conditional: bool,
    /// Declined (只是问问).
    pub declined: bool,
    /// The rules' reason.
    pub reason: Option<Reason>,
    /// The rules' text anger, 0..1.
    pub anger: f32,
}

/// The features of a customer's words, added to `f` (made with
/// [`Features::new`] for the analysis, [`Features::named`] for training).
pub fn customer_features(norm: &Normalized, hits: [(&str, &[Hit]); 4], rules: &RuleView, f: &mut Features) {
    features::text(norm, f);
    for (prefix, h) in hits {
        features::lexicon(prefix, h, f);
    }
    features::customer_frames(norm, f);
    if rules.churn {
        f.add("rule:churn");
    }
    if rules.conditional {
        f.add("rule:conditional");
    }
    if rules.declined {
        f.add("rule:declined");
    }
    if let Some(r) = rules.reason {
        f.add_parts("rule:reason:", &[r.as_str()]);
    }
    f.add_parts("rule:anger:", &[crate::analysis::Level::of(rules.anger).as_str()]);
    f.finish();
}

/// The features of an agent's whole turn, added to `f`; returns the
/// turn's kinds of words, which its clauses are read in (see
/// [`agent_clause_features`]).
pub fn agent_features(norm: &Normalized, hits: &[Hit], f: &mut Features) -> agent_frames::TurnKinds {
    let kinds = agent_text_features(norm, hits, f);
    f.finish();
    kinds
}

/// Where a clause stands in its turn: its index among the turn's clauses
/// (those with words) and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClausePlace {
    /// 0 for the first clause.
    pub index: usize,
    /// The turn's clauses with words.
    pub count: usize,
}

/// The features of one clause of an agent's turn, read in its turn (the
/// turn's [`agent_frames::TurnKinds`] and the clause's place in it), added
/// to `f`.
pub fn agent_clause_features(clause: &Normalized, hits: &[Hit], turn: &agent_frames::TurnKinds, place: ClausePlace, f: &mut Features) {
    // A clause's own kinds are its `af:` features; the turn's are added.
    let _ = agent_text_features(clause, hits, f);
    turn.add_to(f);
    add_place(place, f);
    f.finish();
}

/// The clause's place as `cx:` features. Labellers mark the phrase that
/// inflames, not every clause around it: in the held-out predictions of
/// round 19's data, the longer the turn, the less likely each of its
/// clauses was labelled, and a turn's last clause more likely than its
/// first (a calibration on place alone lifted clause F1 from 0.870 to
/// 0.879).
fn add_place(place: ClausePlace, f: &mut Features) {
    const COUNTS: [&str; 5] = ["1", "2", "3", "4", "5+"];
    let count = COUNTS[place.count.clamp(1, COUNTS.len()) - 1];
    f.add_parts("cx:n=", &[count]);
    if place.count > 1 {
        if place.index == 0 {
            f.add("cx:first");
        }
        if place.index + 1 == place.count {
            f.add("cx:last");
        }
    }
}

fn agent_text_features(norm: &Normalized, hits: &[Hit], f: &mut Features) -> agent_frames::TurnKinds {
    features::text(norm, f);
    features::lexicon("agent", hits, f);
    features::frames(norm, f);
    agent_frames::agent_frames(norm, f)
}

/// The features named in `why`: the strongest few, without the raw
/// n-gram prefixes where a word says it better.
pub fn explain(top: &[(String, f32)]) -> String {
    top.iter().map(|(f, _)| f.trim_start_matches("c:").trim_start_matches("lex:").to_string()).collect::<Vec<_>>().join(" ")
}
