//! Replaying a recorded call into the pipeline: both channels advance
//! together in 20 ms chunks, either as fast as the pipeline takes them or
//! paced like a live call (`--realtime`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::source::SourceMsg;
use super::wav::WavAudio;
use crate::events::{EndReason, Speaker, StatusKind};

/// Chunk length fed per step.
pub const CHUNK_MS: u32 = 20;

/// Starts the replay thread. The channel map must have been checked
/// against the file (see [`crate::audio::layout::channel_map`]). `speed`
/// paces the audio (1.0: like a live call; 4.0: four times faster); None
/// feeds it as fast as the pipeline takes it. When `stop` is set the replay
/// ends early, as a stopped live call would.
pub fn spawn_replay(
    wav: WavAudio,
    map: Vec<(Speaker, usize)>,
    speed: Option<f64>,
    tx: Sender<SourceMsg>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name("replay".into()).spawn(move || {
        if let Some(t) = &wav.truncated {
            let _ = tx.send(SourceMsg::Note { kind: StatusKind::TruncatedInput, message: t.clone() });
        }
        let rate = wav.sample_rate_hz;
        let step = (rate as usize * CHUNK_MS as usize / 1000).max(1);
        let len = wav.channels.first().map_or(0, Vec::len);
        let start = Instant::now();
        let mut pos = 0;
        while pos < len {
            if stop.load(Ordering::Relaxed) {
                let _ = tx.send(SourceMsg::End { reason: EndReason::Shutdown });
                return;
            }
            let end = (pos + step).min(len);
            if let Some(speed) = speed {
                let due = Duration::from_secs_f64(end as f64 / rate as f64 / speed.max(0.01));
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            for &(speaker, ch) in &map {
                let samples = wav.channels[ch][pos..end].to_vec();
                if tx.send(SourceMsg::Audio { speaker, sample_rate_hz: rate, samples }).is_err() {
                    return;
                }
            }
            pos = end;
        }
        let _ = tx.send(SourceMsg::End { reason: EndReason::InputEnded });
    })
}
