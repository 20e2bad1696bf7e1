//! The four lexicon files of a playbook directory, or the built-in copies.

use std::path::{Path, PathBuf};

use super::learned::{LearnedModels, ModelFileError};
use super::lexicon::{Lexicon, LexiconError};

/// Group names each file may use.
pub const CHURN_GROUPS: &[&str] = &[
    "action",
    "action_weak",
    "switch_verb",
    "ask_how",
    "desire",
    "conditional",
    "negation",
    "decline",
    "just_asking",
    "third_party",
    "act_for",
    "past",
    "port_in",
];
/// Group names of `reason.toml`.
pub const REASON_GROUPS: &[&str] = &["network", "price", "competitor", "competitor_name", "own_carrier", "service", "billing", "plan", "relocation", "fine"];
/// Group names of `emotion.toml`.
pub const EMOTION_GROUPS: &[&str] = &["insult", "threat", "exasperation", "complaint", "intensifier", "exclamation", "calming", "negation", "not_complaint"];
/// Group names of `agent.toml`.
pub const AGENT_GROUPS: &[&str] = &[
    "empathy",
    "choice",
    "not_choice",
    "options",
    "inflaming",
    "vague",
    "accept",
    "insist",
    "follow_through",
    "think_it_over",
    "proposal",
    "probe",
    "confirm",
    "restate",
];

const FILES: [(&str, &str, &[&str]); 4] = [
    ("churn.toml", include_str!("../../prompts/zh-CN/lexicon/churn.toml"), CHURN_GROUPS),
    ("reason.toml", include_str!("../../prompts/zh-CN/lexicon/reason.toml"), REASON_GROUPS),
    ("emotion.toml", include_str!("../../prompts/zh-CN/lexicon/emotion.toml"), EMOTION_GROUPS),
    ("agent.toml", include_str!("../../prompts/zh-CN/lexicon/agent.toml"), AGENT_GROUPS),
];

fn builtin(i: usize) -> Result<Lexicon, LexiconError> {
    let (name, text, allowed) = FILES[i];
    Lexicon::parse(text, &PathBuf::from("<built-in>/lexicon").join(name), allowed)
}

/// All lexicons the analysis uses.
#[derive(Debug, Clone)]
pub struct Lexicons {
    /// Churn intent words and their modifiers.
    pub churn: Lexicon,
    /// Churn reasons.
    pub reason: Lexicon,
    /// Anger cues.
    pub emotion: Lexicon,
    /// Agent behaviour and customer replies.
    pub agent: Lexicon,
    /// The learned models that weigh the lexicons' cues with everything
    /// else (`model/*.tsv` of the playbook).
    pub models: LearnedModels,
}

impl From<ModelFileError> for LexiconError {
    fn from(e: ModelFileError) -> Self {
        LexiconError { path: PathBuf::from(e.path), line: e.line, message: e.message }
    }
}

impl Lexicons {
    /// The copies built into the binary (`prompts/zh-CN/lexicon/` at build time).
    pub fn embedded() -> Result<Self, LexiconError> {
        Self::build(builtin, LearnedModels::embedded()?)
    }

    fn build(load: impl Fn(usize) -> Result<Lexicon, LexiconError>, models: LearnedModels) -> Result<Self, LexiconError> {
        Ok(Self { churn: load(0)?, reason: load(1)?, emotion: load(2)?, agent: load(3)?, models })
    }

    /// Loads `DIR/lexicon/*.toml`; a file that is absent falls back to the
    /// built-in copy (and says so in the log); a file that is present but
    /// wrong is an error with file and line.
    pub fn load_dir(dir: &Path) -> Result<Self, LexiconError> {
        let lexdir = dir.join("lexicon");
        if !lexdir.exists() && dir.is_dir() {
            tracing::info!("{} has no lexicon/ folder; using the built-in lexicons", dir.display());
            return Self::build(builtin, LearnedModels::load_dir(dir)?);
        }
        if !lexdir.is_dir() {
            return Err(LexiconError { path: lexdir, line: 0, message: "not a directory (a playbook folder holds lexicon/*.toml)".into() });
        }
        Self::build(
            |i| {
                let (name, _, allowed) = FILES[i];
                let path = lexdir.join(name);
                if path.exists() {
                    Lexicon::load(&path, allowed)
                } else {
                    tracing::info!("{} not found; using the built-in {name}", path.display());
                    builtin(i)
                }
            },
            LearnedModels::load_dir(dir)?,
        )
    }
}
