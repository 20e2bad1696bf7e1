//! Acoustic measurements of an utterance for the emotion model: loudness of
//! the speech frames and pitch (F0) of voiced frames.

/// Pitch analysis runs at 8 kHz (plenty for 70-400 Hz voices, 4x cheaper).
const PITCH_RATE_HZ: f32 = 8_000.0;
/// Frame for pitch analysis: 40 ms at 8 kHz.
const PITCH_FRAME: usize = 320;
/// Hop between analysed frames: 20 ms at 8 kHz.
const PITCH_HOP: usize = 160;
const MIN_F0_HZ: f32 = 70.0;
const MAX_F0_HZ: f32 = 400.0;

/// Loudness (dBFS) of the louder half of 16 ms frames: the speech, not the pauses.
pub fn speech_rms_db(samples: &[f32]) -> f32 {
    let mut levels: Vec<f32> = samples.chunks(256).map(crate::vad::rms_dbfs).collect();
    if levels.is_empty() {
        return -120.0;
    }
    levels.sort_by(|a, b| b.total_cmp(a));
    let top = &levels[..levels.len().div_ceil(2)];
    // Average power of those frames, back to dB.
    let mean_pow: f32 = top.iter().map(|db| 10f32.powf(db / 10.0)).sum::<f32>() / top.len() as f32;
    10.0 * mean_pow.max(1e-12).log10()
}

/// F0 of one 8 kHz frame by normalised autocorrelation; None when unvoiced.
/// The frame is pre-emphasised first (rumble and hum correlate at every lag)
/// and the peak must be a real peak, not the edge of the lag range.
fn frame_f0(raw: &[f32]) -> Option<f32> {
    let mut frame = [0.0f32; PITCH_FRAME];
    let n = raw.len().min(PITCH_FRAME);
    for i in 1..n {
        frame[i] = raw[i] - 0.95 * raw[i - 1];
    }
    let frame = &frame[..n];
    let energy: f32 = frame.iter().map(|v| v * v).sum();
    if energy < 1e-6 * frame.len() as f32 {
        return None;
    }
    let min_lag = (PITCH_RATE_HZ / MAX_F0_HZ) as usize;
    let max_lag = ((PITCH_RATE_HZ / MIN_F0_HZ) as usize).min(frame.len() - 2);
    let r_at = |lag: usize| {
        let (mut num, mut e1, mut e2) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..frame.len() - lag {
            num += frame[i] * frame[i + lag];
            e1 += frame[i] * frame[i];
            e2 += frame[i + lag] * frame[i + lag];
        }
        num / (e1 * e2).sqrt().max(1e-9)
    };
    let rs: Vec<f32> = (min_lag - 1..=max_lag + 1).map(r_at).collect();
    let peaks: Vec<usize> = (1..rs.len() - 1).filter(|&k| rs[k] >= rs[k - 1] && rs[k] >= rs[k + 1]).collect();
    let top = peaks.iter().map(|&k| rs[k]).fold(0.0f32, f32::max);
    if top <= 0.5 {
        return None;
    }
    // The shortest lag nearly as good as the best: a multiple of the period
    // correlates as well, and must not halve the pitch.
    let k = peaks.into_iter().find(|&k| rs[k] >= 0.85 * top)?;
    Some(PITCH_RATE_HZ / (k + min_lag - 1) as f32)
}

/// Voicing of 16 kHz audio: the share of frames with a voice-range pitch,
/// and that pitch per voiced frame.
#[derive(Debug, Clone, Default)]
pub struct Voicing {
    /// Share of analysed frames that are voiced.
    pub voiced_fraction: f32,
    /// F0 of each voiced frame, Hz.
    pub f0_hz: Vec<f32>,
}

impl Voicing {
    /// Analyses 16 kHz samples (decimated to 8 kHz, 40 ms frames every 20 ms).
    pub fn of(samples_16k: &[f32]) -> Self {
        let low: Vec<f32> = samples_16k.chunks_exact(2).map(|p| 0.5 * (p[0] + p[1])).collect();
        let mut f0_hz = Vec::new();
        let mut total = 0usize;
        let mut i = 0;
        while i + PITCH_FRAME <= low.len() {
            total += 1;
            if let Some(f) = frame_f0(&low[i..i + PITCH_FRAME]) {
                f0_hz.push(f);
            }
            i += PITCH_HOP;
        }
        let voiced_fraction = if total == 0 { 0.0 } else { f0_hz.len() as f32 / total as f32 };
        Self { voiced_fraction, f0_hz }
    }

    /// Median F0 and range (90th - 10th percentile) over voiced frames.
    pub fn pitch_stats(&self) -> (Option<f32>, Option<f32>) {
        if self.f0_hz.len() < 3 {
            return (None, None);
        }
        let mut f = self.f0_hz.clone();
        f.sort_by(f32::total_cmp);
        let at = |q: f32| f[((f.len() - 1) as f32 * q) as usize];
        (Some(at(0.5)), Some(at(0.9) - at(0.1)))
    }
}

/// Share of frames that are voiced (see [`Voicing`]). Speech is voiced a
/// good part of the time; hiss, rumble and crowd noise almost never are.
pub fn voiced_fraction(samples: &[f32]) -> f32 {
    Voicing::of(samples).voiced_fraction
}

/// Median F0 and range over voiced frames.
pub fn pitch_stats(samples: &[f32]) -> (Option<f32>, Option<f32>) {
    Voicing::of(samples).pitch_stats()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitch_of_a_harmonic_tone_is_found() {
        let tone: Vec<f32> = (0..16_000)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                0.3 * (2.0 * std::f32::consts::PI * 180.0 * t).sin() + 0.15 * (2.0 * std::f32::consts::PI * 360.0 * t).sin()
            })
            .collect();
        let (median, range) = pitch_stats(&tone);
        let m = median.unwrap();
        assert!((m - 180.0).abs() < 8.0, "{m}");
        assert!(range.unwrap() < 10.0);
        assert_eq!(pitch_stats(&vec![0.0; 16_000]), (None, None));
    }

    #[test]
    fn loudness_ignores_pauses() {
        let mut x = vec![0.0f32; 8000];
        x.extend((0..8000).map(|i| if i % 2 == 0 { 0.1 } else { -0.1 }));
        let db = speech_rms_db(&x);
        assert!((db - -20.0).abs() < 0.5, "{db}");
    }
}
