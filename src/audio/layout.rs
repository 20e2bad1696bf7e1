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

/// Picks the agent and customer channels of a file per the layout (mono:
/// one channel with `mono_role`) and resamples them to 16 kHz.
pub fn speaker_channels(wav: &WavAudio, layout: &AudioSection, path: &Path) -> Result<Vec<SpeakerAudio>, AudioError> {
    let n = wav.channels.len();
    let picks: Vec<(Speaker, usize)> = if n == 1 {
        vec![(layout.mono_role, 0)]
    } else {
        for (role, idx) in [(Speaker::Agent, layout.agent_channel), (Speaker::Customer, layout.customer_channel)] {
            if idx >= n {
                return Err(AudioError::Layout {
                    path: path.to_path_buf(),
                    reason: format!(
                        "the {role} is configured on channel {idx} (audio.{role}_channel) but the file has {n} channels"
                    ),
                });
            }
        }
        vec![(Speaker::Agent, layout.agent_channel), (Speaker::Customer, layout.customer_channel)]
    };
    Ok(picks
        .into_iter()
        .map(|(speaker, idx)| SpeakerAudio {
            speaker,
            samples: resample_all(&wav.channels[idx], wav.sample_rate_hz, PIPELINE_SAMPLE_RATE_HZ),
        })
        .collect())
}
