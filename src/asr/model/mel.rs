//! Mel filter bank used by Whisper's front end.
//!
//! Whisper uses librosa's `filters.mel(sr=16000, n_fft=400, n_mels=80)`:
//! the Slaney mel scale (linear below 1 kHz, logarithmic above) and Slaney
//! area normalisation. openai-whisper ships the result as
//! `assets/mel_filters.npz`; computing it here removes a download, and a test
//! checks the result against a copy of that file.

/// Sample rate the filters are built for.
pub const SAMPLE_RATE_HZ: f64 = 16_000.0;
/// FFT size used by Whisper (25 ms window).
pub const N_FFT: usize = 400;

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// Returns `n_mels` rows of `N_FFT / 2 + 1` weights, row-major.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    let n_freqs = N_FFT / 2 + 1;
    let nyquist = SAMPLE_RATE_HZ / 2.0;
    let fft_freqs: Vec<f64> = (0..n_freqs).map(|i| i as f64 * nyquist / (n_freqs - 1) as f64).collect();
    let (mel_min, mel_max) = (hz_to_mel(0.0), hz_to_mel(nyquist));
    let mel_points: Vec<f64> = (0..n_mels + 2).map(|i| mel_to_hz(mel_min + (mel_max - mel_min) * i as f64 / (n_mels + 1) as f64)).collect();
    let mut out = Vec::with_capacity(n_mels * n_freqs);
    for m in 0..n_mels {
        let (lo, center, hi) = (mel_points[m], mel_points[m + 1], mel_points[m + 2]);
        let norm = 2.0 / (hi - lo);
        for &f in &fft_freqs {
            let lower = (f - lo) / (center - lo);
            let upper = (hi - f) / (hi - center);
            out.push((lower.min(upper).max(0.0) * norm) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/fixtures/mel_filters_80.f32` is `mel_80` from openai-whisper's
    /// `assets/mel_filters.npz` (MIT), stored as raw little-endian f32.
    #[test]
    fn matches_openai_whisper_mel_filters() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mel_filters_80.f32");
        let bytes = std::fs::read(&path).expect("mel fixture");
        let reference: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let ours = mel_filters(80);
        assert_eq!(ours.len(), reference.len());
        let max_diff = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(max_diff < 1e-7, "max difference {max_diff}");
    }
}
