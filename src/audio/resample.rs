//! Band-limited resampling (windowed sinc, Blackman-Harris window) for
//! arbitrary rate pairs, streaming: feed blocks of any size, get output as
//! soon as the filter has enough look-ahead.

use std::f64::consts::PI;

/// Zero crossings of the sinc on each side of the centre.
const HALF_TAPS: usize = 16;

/// Kernel table resolution (entries per input sample).
const TABLE_RES: f64 = 512.0;

/// A streaming resampler for one channel.
#[derive(Debug, Clone)]
pub struct Resampler {
    in_rate_hz: u32,
    out_rate_hz: u32,
    /// Input samples per output sample.
    step: f64,
    /// Cutoff as a fraction of the input Nyquist frequency.
    cutoff: f64,
    /// Filter half-width in input samples.
    half_width: f64,
    /// Pending input; `buf[0]` is input sample number `buf_start`.
    buf: Vec<f32>,
    buf_start: u64,
    /// Kernel sampled every 1/TABLE_RES input samples over [0, half_width].
    table: Vec<f64>,
    /// Position of the next output sample, in input samples.
    next_pos: f64,
    passthrough: bool,
}

impl Resampler {
    /// A resampler from `in_rate_hz` to `out_rate_hz`.
    pub fn new(in_rate_hz: u32, out_rate_hz: u32) -> Self {
        let step = in_rate_hz as f64 / out_rate_hz as f64;
        let cutoff = if out_rate_hz < in_rate_hz { 0.94 * out_rate_hz as f64 / in_rate_hz as f64 } else { 0.94 };
        let mut r = Self {
            in_rate_hz,
            out_rate_hz,
            step,
            cutoff,
            half_width: HALF_TAPS as f64 / cutoff,
            buf: Vec::new(),
            buf_start: 0,
            table: Vec::new(),
            next_pos: 0.0,
            passthrough: in_rate_hz == out_rate_hz,
        };
        let n = (r.half_width * TABLE_RES).ceil() as usize + 2;
        r.table = (0..n).map(|i| r.kernel_exact(i as f64 / TABLE_RES)).collect();
        r
    }

    /// Input rate.
    pub fn in_rate_hz(&self) -> u32 {
        self.in_rate_hz
    }

    /// Output rate.
    pub fn out_rate_hz(&self) -> u32 {
        self.out_rate_hz
    }

    fn kernel(&self, x: f64) -> f64 {
        let pos = x.abs() * TABLE_RES;
        let i = pos as usize;
        if i + 1 >= self.table.len() {
            return 0.0;
        }
        let frac = pos - i as f64;
        self.table[i] * (1.0 - frac) + self.table[i + 1] * frac
    }

    fn kernel_exact(&self, x: f64) -> f64 {
        // x in input samples from the output position.
        if x.abs() >= self.half_width {
            return 0.0;
        }
        let sinc = if x == 0.0 { self.cutoff } else { (PI * self.cutoff * x).sin() / (PI * x) };
        // Blackman-Harris over [-half_width, half_width].
        let t = (x / self.half_width + 1.0) * 0.5;
        let w = 0.35875 - 0.48829 * (2.0 * PI * t).cos() + 0.14128 * (4.0 * PI * t).cos() - 0.01168 * (6.0 * PI * t).cos();
        sinc * w
    }

    /// Feeds input and appends every output sample that can be computed.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if self.passthrough {
            out.extend_from_slice(input);
            return;
        }
        self.buf.extend_from_slice(input);
        self.drain(out, false);
    }

    /// Flushes the tail (zero-padded) at the end of a stream.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        if self.passthrough {
            return;
        }
        self.drain(out, true);
        self.buf.clear();
    }

    fn drain(&mut self, out: &mut Vec<f32>, flush: bool) {
        let end = self.buf_start + self.buf.len() as u64;
        let hw = self.half_width.ceil() as i64;
        loop {
            let centre = self.next_pos;
            let last_needed = centre.floor() as i64 + hw;
            if flush {
                if centre >= end as f64 {
                    break;
                }
            } else if last_needed >= end as i64 {
                break;
            }
            let first = (centre.floor() as i64 - hw + 1).max(0);
            let mut acc = 0.0f64;
            let mut norm = 0.0f64;
            for n in first..=last_needed {
                let k = self.kernel(centre - n as f64);
                norm += k;
                let idx = n - self.buf_start as i64;
                if idx >= 0 && (idx as usize) < self.buf.len() {
                    acc += k * self.buf[idx as usize] as f64;
                }
            }
            // Normalise so the DC gain is exactly 1 (the window trims the sinc).
            out.push(if norm.abs() > 1e-9 { acc / norm } else { 0.0 } as f32);
            self.next_pos += self.step;
        }
        // Drop input that no future output needs.
        let keep_from = (self.next_pos.floor() as i64 - hw).max(self.buf_start as i64) as u64;
        let drop_n = (keep_from - self.buf_start) as usize;
        if drop_n > 0 && drop_n <= self.buf.len() {
            self.buf.drain(..drop_n);
            self.buf_start = keep_from;
        }
    }
}

/// Resamples a whole buffer.
pub fn resample_all(input: &[f32], in_rate_hz: u32, out_rate_hz: u32) -> Vec<f32> {
    let mut r = Resampler::new(in_rate_hz, out_rate_hz);
    let mut out = Vec::with_capacity((input.len() as f64 / r.step) as usize + 16);
    r.process(input, &mut out);
    r.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f64, rate_hz: u32, seconds: f64) -> Vec<f32> {
        (0..(rate_hz as f64 * seconds) as usize).map(|i| (2.0 * PI * freq_hz * i as f64 / rate_hz as f64).sin() as f32 * 0.5).collect()
    }

    /// Amplitude of `freq_hz` in `x` (single-bin DFT).
    fn tone_amplitude(x: &[f32], freq_hz: f64, rate_hz: u32) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, v) in x.iter().enumerate() {
            let ph = 2.0 * PI * freq_hz * i as f64 / rate_hz as f64;
            re += *v as f64 * ph.cos();
            im += *v as f64 * ph.sin();
        }
        2.0 * (re * re + im * im).sqrt() / x.len() as f64
    }

    #[test]
    fn length_follows_the_rate_ratio() {
        for &(a, b) in &[(48_000, 16_000), (44_100, 16_000), (8_000, 16_000), (22_050, 16_000)] {
            let x = sine(440.0, a, 1.0);
            let y = resample_all(&x, a, b);
            let want = b as i64;
            assert!((y.len() as i64 - want).abs() <= 2, "{a}->{b}: {} samples", y.len());
        }
    }

    #[test]
    fn passband_tone_keeps_its_level_and_stopband_tone_is_removed() {
        let x = sine(1000.0, 48_000, 1.0);
        let y = resample_all(&x, 48_000, 16_000);
        let a = tone_amplitude(&y[1000..15000], 1000.0, 16_000);
        assert!((a - 0.5).abs() < 0.01, "1 kHz amplitude {a}");
        // 12 kHz is above the new Nyquist (8 kHz): it must not alias to 4 kHz.
        let x = sine(12_000.0, 48_000, 1.0);
        let y = resample_all(&x, 48_000, 16_000);
        let alias = tone_amplitude(&y[1000..15000], 4000.0, 16_000);
        assert!(alias < 0.005, "alias amplitude {alias}");
    }

    #[test]
    fn streaming_in_odd_blocks_equals_one_shot() {
        let x = sine(300.0, 44_100, 0.5);
        let whole = resample_all(&x, 44_100, 16_000);
        let mut r = Resampler::new(44_100, 16_000);
        let mut out = Vec::new();
        for block in x.chunks(333) {
            r.process(block, &mut out);
        }
        r.finish(&mut out);
        assert_eq!(out.len(), whole.len());
        for (a, b) in out.iter().zip(&whole) {
            assert!((a - b).abs() < 1e-6);
        }
    }
}
