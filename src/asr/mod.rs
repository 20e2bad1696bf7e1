//! Speech recognition: the Whisper model (install, convert, check), the
//! decode engine and the output filters.

pub mod engine;
pub mod filter;
pub mod model;

pub use engine::{AsrConfig, DecoderState, Transcript, WhisperEngine};

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
