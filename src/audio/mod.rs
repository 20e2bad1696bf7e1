//! Audio in: WAV files of any PCM flavour, resampling to 16 kHz, and (for
//! live calls) capture sources. Everything downstream sees mono 16 kHz f32
//! frames tagged with a [`Speaker`](crate::events::Speaker).

#[cfg(feature = "engine")]
pub mod capture;
pub mod features;
pub mod guard;
pub mod layout;
pub mod replay;
pub mod resample;
pub mod source;
pub mod wav;

use std::path::PathBuf;

/// Sample rate every stage after the source works at.
pub const PIPELINE_SAMPLE_RATE_HZ: u32 = 16_000;

/// Errors from audio sources.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// OS error.
        error: std::io::Error,
    },
    /// The file is not a WAV callcoach can read.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The configured channel layout does not fit the file.
    #[error("{path}: {reason}")]
    Layout {
        /// The file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
}
