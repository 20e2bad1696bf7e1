//! Conditions of the pipeline itself worth telling the user.

use serde::{Deserialize, Serialize};

use super::Speaker;

/// What a status is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    /// A capture device failed or disappeared (headset unplugged).
    DeviceLost,
    /// The device is back.
    DeviceBack,
    /// Samples were lost before the pipeline (capture buffers full).
    Overrun,
    /// Recognition is behind real time.
    Lagging,
    /// The input file ends early (cut off mid-file).
    TruncatedInput,
    /// The input file has more channels than the two that are used.
    ExtraChannels,
    /// The playbook folder changed and was loaded.
    PlaybookReloaded,
    /// The edited playbook is broken; the previous one stays in use.
    PlaybookError,
    /// Whisper failed on an utterance.
    AsrError,
    /// A display could not keep up and events were dropped for it.
    ConsumerBehind,
    /// The audio carries values that are not sound (NaN, infinities, a
    /// stuck DC level, clipping); they were repaired or ignored.
    BadAudio,
    /// The board cannot be reached; events wait in the spool.
    BoardUnreachable,
    /// The board is reachable again.
    BoardConnected,
    /// The process is stopping (a signal); the call is being closed.
    Stopping,
}

impl StatusKind {
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeviceLost => "device_lost",
            Self::DeviceBack => "device_back",
            Self::Overrun => "overrun",
            Self::Lagging => "lagging",
            Self::TruncatedInput => "truncated_input",
            Self::ExtraChannels => "extra_channels",
            Self::PlaybookReloaded => "playbook_reloaded",
            Self::PlaybookError => "playbook_error",
            Self::AsrError => "asr_error",
            Self::ConsumerBehind => "consumer_behind",
            Self::BadAudio => "bad_audio",
            Self::BoardUnreachable => "board_unreachable",
            Self::BoardConnected => "board_connected",
            Self::Stopping => "stopping",
        }
    }

    /// True for conditions that need the agent's attention (shown in a
    /// warning colour); the others are information.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Self::DeviceLost
                | Self::Overrun
                | Self::Lagging
                | Self::PlaybookError
                | Self::AsrError
                | Self::BadAudio
                | Self::BoardUnreachable
                | Self::TruncatedInput
        )
    }
}

/// Something about the pipeline itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// What it is about.
    pub kind: StatusKind,
    /// The channel concerned, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<Speaker>,
    /// Human-readable detail.
    pub message: String,
}
