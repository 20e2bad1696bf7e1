//! Which channel is which speaker, and conversion to the pipeline rate.

use std::path::Path;

use super::resample::resample_all;
use super::wav::WavAudio;
use super::{AudioError, PIPELINE_SAMPLE_RATE_HZ};
use crate::config::AudioSection;
use crate::events::Speaker;

/// One speaker's audio at 16 kHz.
#[derive(Debug, Clone)]
pub struct SpeakerAudio {
    /// Who is on this channel.
    pub speaker: Speaker,
    /// 16 kHz mono samples.
    pub samples: Vec<f32>,
}

/// Which file channel is which speaker (mono: one channel with
/// `mono_role`), checked against the file.
pub fn channel_map(wav: &WavAudio, layout: &AudioSection, path: &Path) -> Result<Vec<(Speaker, usize)>, AudioError> {
    let n = wav.channels.len();
    if n == 1 {
        return Ok(vec![(layout.mono_role, 0)]);
    }
    for (role, idx) in [(Speaker::Agent, layout.agent_channel), (Speaker::Customer, layout.customer_channel)] {
        if idx >= n {
            return Err(AudioError::Layout {
                path: path.to_path_buf(),
                reason: format!("the {role} is configured on channel {idx} (audio.{role}_channel) but the file has {n} channels"),
            });
        }
    }
    Ok(vec![(Speaker::Agent, layout.agent_channel), (Speaker::Customer, layout.customer_channel)])
}

/// A sentence saying which channels of a file with more than two are used
/// (the others are ignored), or None for mono and stereo files.
pub fn extra_channels_note(wav: &WavAudio, layout: &AudioSection, path: &Path) -> Option<String> {
    let n = wav.channels.len();
    (n > 2).then(|| {
        format!(
            "{}: the file has {n} channels; using channel {} for the agent and channel {} for the customer (audio.agent_channel / audio.customer_channel; channels count from 0), the other {} are ignored",
            path.display(),
            layout.agent_channel,
            layout.customer_channel,
            n - 2
        )
    })
}

/// Picks the agent and customer channels of a file per the layout (mono:
/// one channel with `mono_role`) and resamples them to 16 kHz.
pub fn speaker_channels(wav: &WavAudio, layout: &AudioSection, path: &Path) -> Result<Vec<SpeakerAudio>, AudioError> {
    let picks = channel_map(wav, layout, path)?;
    Ok(picks
        .into_iter()
        .map(|(speaker, idx)| SpeakerAudio { speaker, samples: resample_all(&wav.channels[idx], wav.sample_rate_hz, PIPELINE_SAMPLE_RATE_HZ) })
        .collect())
}
