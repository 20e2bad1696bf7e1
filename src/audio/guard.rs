//! A guard between a device and the pipeline: a broken driver or a bad cable
//! can deliver values that are not sound. Non-numbers (NaN, infinities) are
//! silenced, out-of-range values clamped, a stuck DC level removed, and
//! full-scale clipping noted; each problem is reported at most every 30 s,
//! so the pipeline keeps running and says why the audio is odd. Nothing
//! that is not a finite number in [-1, 1] goes further.

use std::time::{Duration, Instant};

/// How often one kind of problem is reported.
const REPORT_EVERY: Duration = Duration::from_secs(30);
/// A mean level above this over the last second is a DC offset.
const DC_THRESHOLD: f32 = 0.05;
/// Share of samples at full scale in a block that counts as clipping.
const CLIP_SHARE: f32 = 0.05;

/// Per-channel state.
#[derive(Debug, Clone)]
pub struct SampleGuard {
    /// Running mean (about a second).
    mean: f32,
    /// DC removal on (a first-order high-pass) while an offset persists.
    blocking: bool,
    prev_in: f32,
    prev_out: f32,
    not_numbers: u64,
    clipped: u64,
    last_report: [Option<Instant>; 3],
}

impl Default for SampleGuard {
    fn default() -> Self {
        Self { mean: 0.0, blocking: false, prev_in: 0.0, prev_out: 0.0, not_numbers: 0, clipped: 0, last_report: [None; 3] }
    }
}

impl SampleGuard {
    /// A guard for a fresh channel.
    pub fn new() -> Self {
        Self::default()
    }

    fn due(&mut self, i: usize) -> bool {
        let due = self.last_report[i].is_none_or(|t| t.elapsed() >= REPORT_EVERY);
        if due {
            self.last_report[i] = Some(Instant::now());
        }
        due
    }

    /// Cleans a block in place (any sample rate); returns what to report, if
    /// anything is due.
    pub fn clean(&mut self, samples: &mut [f32], sample_rate_hz: u32) -> Vec<String> {
        let mut bad = 0u64;
        let mut at_full_scale = 0usize;
        // About one second of time constant.
        let alpha = 1.0 / sample_rate_hz.max(1) as f32;
        for s in samples.iter_mut() {
            if !s.is_finite() {
                *s = 0.0;
                bad += 1;
            }
            *s = s.clamp(-1.0, 1.0);
            if s.abs() >= 0.999 {
                at_full_scale += 1;
            }
            self.mean += alpha * (*s - self.mean);
            if self.blocking {
                // y[n] = x[n] - x[n-1] + r y[n-1]: removes DC, keeps speech.
                let y = *s - self.prev_in + 0.995 * self.prev_out;
                self.prev_in = *s;
                self.prev_out = y;
                *s = y.clamp(-1.0, 1.0);
            }
        }
        let mut reports = Vec::new();
        self.not_numbers += bad;
        if bad > 0 && self.due(0) {
            reports.push(format!("{} samples were not numbers (NaN or infinite) and were silenced", self.not_numbers));
        }
        if !samples.is_empty() && at_full_scale as f32 / samples.len() as f32 >= CLIP_SHARE {
            self.clipped += at_full_scale as u64;
            if self.due(1) {
                reports.push(format!("the signal clips at full scale ({} samples so far); lower the input gain", self.clipped));
            }
        }
        let offset = self.mean.abs() >= DC_THRESHOLD;
        if offset && !self.blocking {
            self.blocking = true;
            self.prev_in = self.mean;
            self.prev_out = 0.0;
            if self.due(2) {
                reports.push(format!("the signal sits at a DC offset of {:.2}; it is removed", self.mean));
            }
        } else if !offset && self.blocking && self.mean.abs() < DC_THRESHOLD / 4.0 {
            self.blocking = false;
        }
        reports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_becomes_sound_and_is_reported() {
        let mut g = SampleGuard::new();
        let mut x: Vec<f32> = (0..16_000)
            .map(|i| {
                if i % 100 == 0 {
                    f32::NAN
                } else if i % 101 == 0 {
                    f32::INFINITY
                } else {
                    0.6 + 0.1 * (i as f32 * 0.05).sin()
                }
            })
            .collect();
        let r = g.clean(&mut x, 16_000);
        assert!(x.iter().all(|v| v.is_finite() && (-1.0..=1.0).contains(v)));
        assert!(r.iter().any(|m| m.contains("not numbers")), "{r:?}");
        assert!(r.iter().any(|m| m.contains("DC offset")), "{r:?}");
        // The DC is gone from the next second on.
        let mut y: Vec<f32> = (0..16_000).map(|i| 0.6 + 0.1 * (i as f32 * 0.05).sin()).collect();
        g.clean(&mut y, 16_000);
        let mean = y[8000..].iter().sum::<f32>() / 8000.0;
        assert!(mean.abs() < 0.02, "{mean}");
        let mut clipped = vec![1.0f32; 1000];
        assert!(g.clean(&mut clipped, 16_000).iter().any(|m| m.contains("clips")));
        // Reported once per 30 s, not per block.
        let mut again: Vec<f32> = vec![f32::NAN; 10];
        assert!(g.clean(&mut again, 16_000).is_empty());
    }

    #[test]
    fn clean_speech_passes_untouched() {
        let mut g = SampleGuard::new();
        let x: Vec<f32> = (0..16_000).map(|i| 0.3 * (i as f32 * 0.07).sin()).collect();
        let mut y = x.clone();
        assert!(g.clean(&mut y, 16_000).is_empty());
        assert_eq!(x, y);
    }
}
