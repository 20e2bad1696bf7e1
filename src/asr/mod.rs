//! Speech recognition: the Whisper model (install, convert, check), the
//! decode engine and the output filters.

#[cfg(feature = "engine")]
pub mod engine;
pub mod filter;
pub mod model;

#[cfg(feature = "engine")]
pub use engine::{AsrConfig, DecoderState, Transcript, WhisperEngine};

/// Longest turn the second pass decodes as one piece (Whisper's window is 30 s).
pub const MAX_TURN_S: f64 = 28.0;

/// How much of Whisper's 30 s encoder window a decode runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncoderContext {
    /// Sized to the audio (with the configured margin and minimum).
    Sized,
    /// The full 30 s window Whisper was trained on.
    Full,
}

/// The second pass: once a speaker's turn is over (the other side speaks,
/// or a pause), its utterances are decoded again as one piece while the
/// recogniser has nothing live to do, and the better text replaces theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondPass {
    /// Live text only.
    Off,
    /// Whole turns, encoder context sized to the turn.
    Sized,
    /// Whole turns, the full 30 s encoder context.
    Full,
}

/// Default confidence floor, as whisper's own `logprob_thold`.
pub const DEFAULT_MIN_AVG_LOGPROB: f64 = -1.0;

/// Prompt that switches Whisper's Mandarin output to simplified characters
/// and biases it towards the words of retention calls. Measured with
/// `cargo bench --bench prompt_bias` on the fixtures: character error rate
/// 0.167 -> 0.123 and domain keywords heard exactly 7/18 -> 14/18 against the
/// bare `以下是普通话的句子。`.
pub const DEFAULT_INITIAL_PROMPT: &str = "以下是普通话的句子，关于销户、携号转网、套餐、流量、宽带、话费和投诉。";

/// Errors from the recognition stage.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// The model file is missing or unusable.
    #[error(transparent)]
    Model(#[from] model::ModelError),
    /// whisper.cpp failed while decoding.
    #[error("whisper: {0}")]
    Whisper(String),
    /// The settings cannot work.
    #[error("{0}")]
    Config(String),
}
