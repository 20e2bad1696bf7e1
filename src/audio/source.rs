//! What audio sources send to the pipeline.

use crate::events::{EndReason, Speaker, StatusKind};

/// A message from a source to the DSP stage.
#[derive(Debug)]
pub enum SourceMsg {
    /// Samples of one speaker's channel at the source's rate (mono).
    Audio {
        /// Whose channel.
        speaker: Speaker,
        /// The source's sample rate.
        sample_rate_hz: u32,
        /// Mono f32 samples in [-1, 1].
        samples: Vec<f32>,
    },
    /// The device of a channel failed; what was captured so far stands.
    DeviceLost {
        /// Whose channel.
        speaker: Speaker,
        /// What the audio system said.
        message: String,
    },
    /// The device came back; `gap_s` of call time passed without audio.
    DeviceBack {
        /// Whose channel.
        speaker: Speaker,
        /// Seconds without audio (filled with silence to keep the timeline).
        gap_s: f64,
    },
    /// Samples were lost before they reached the pipeline (a full buffer).
    Overrun {
        /// Whose channel.
        speaker: Speaker,
        /// How many samples at the source rate.
        samples_lost: u64,
    },
    /// A non-fatal note from the source (a truncated file).
    Note {
        /// What it is about.
        kind: StatusKind,
        /// Details.
        message: String,
    },
    /// End the call in progress now (the agent pressed "end call"): the
    /// utterances in progress are finished and the call is closed.
    EndCall,
    /// No more audio: the input ended, or the program is stopping.
    End {
        /// `InputEnded` for a recording, `Shutdown` for a stop.
        reason: EndReason,
    },
}
