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
    /// For rate pairs whose ratio reduces to few phases (48 kHz -> 16 kHz is
    /// one, 44.1 kHz -> 16 kHz 160): the normalised kernel of each phase,
    /// so an output sample is one dot product.
    phases: Option<Phases>,
}

/// Precomputed kernels for a rational rate ratio `in/out = step_num/step_den`.
#[derive(Debug, Clone)]
struct Phases {
    step_num: u64,
    step_den: u64,
    taps: usize,
    /// `taps` weights per phase, for inputs `int - hw + 1 ..= int + hw`.
    kernels: Vec<f32>,
    /// Integer part and phase of the next output position.
    next_int: u64,
    next_phase: u64,
}

/// Most phases precomputed (beyond, the kernel is interpolated per sample).
const MAX_PHASES: u64 = 1024;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
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
            phases: None,
        };
        let n = (r.half_width * TABLE_RES).ceil() as usize + 2;
        r.table = (0..n).map(|i| r.kernel_exact(i as f64 / TABLE_RES)).collect();
        let g = gcd(in_rate_hz as u64, out_rate_hz as u64).max(1);
        let (num, den) = (in_rate_hz as u64 / g, out_rate_hz as u64 / g);
        if !r.passthrough && den <= MAX_PHASES {
            let hw = r.half_width.ceil() as i64;
            let taps = (2 * hw) as usize;
            let mut kernels = Vec::with_capacity(taps * den as usize);
            for phase in 0..den {
                let frac = phase as f64 / den as f64;
                let w: Vec<f64> = (-hw + 1..=hw).map(|k| r.kernel(frac - k as f64)).collect();
                let norm: f64 = w.iter().sum();
                kernels.extend(w.iter().map(|v| if norm.abs() > 1e-9 { (v / norm) as f32 } else { 0.0 }));
            }
            r.phases = Some(Phases { step_num: num, step_den: den, taps, kernels, next_int: 0, next_phase: 0 });
        }
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

    /// One dot product per output sample (rational ratio, see [`Phases`]).
    fn drain_phases(&mut self, out: &mut Vec<f32>, flush: bool) {
        let Some(ph) = self.phases.as_mut() else { return };
        let end = self.buf_start + self.buf.len() as u64;
        let hw = (ph.taps / 2) as u64;
        loop {
            let centre = ph.next_int;
            if flush {
                if centre >= end {
                    break;
                }
            } else if centre + hw >= end {
                break;
            }
            let kernel = &ph.kernels[ph.next_phase as usize * ph.taps..][..ph.taps];
            // Inputs centre-hw+1 ..= centre+hw; outside the buffer they are 0.
            let first = (centre + 1).saturating_sub(hw);
            let k0 = (first + hw - 1 - centre) as usize;
            let from = (first - self.buf_start) as usize;
            let avail = self.buf.len().saturating_sub(from);
            let n = (ph.taps - k0).min(avail);
            let acc: f32 = kernel[k0..k0 + n].iter().zip(&self.buf[from..from + n]).map(|(k, x)| k * x).sum();
            out.push(acc);
            ph.next_phase += ph.step_num;
            ph.next_int += ph.next_phase / ph.step_den;
            ph.next_phase %= ph.step_den;
        }
        let keep_from = (ph.next_int + 1).saturating_sub(hw).max(self.buf_start);
        let drop_n = (keep_from - self.buf_start) as usize;
        if drop_n > 0 && drop_n <= self.buf.len() {
            self.buf.drain(..drop_n);
            self.buf_start = keep_from;
        }
    }

    fn drain(&mut self, out: &mut Vec<f32>, flush: bool) {
        if self.phases.is_some() {
            return self.drain_phases(out, flush);
        }
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
    fn precomputed_phases_give_what_the_interpolated_kernel_gives() {
        for &(a, b) in &[(48_000, 16_000), (44_100, 16_000), (8_000, 16_000), (22_050, 16_000)] {
            let x = sine(1000.0, a, 0.5);
            let fast = resample_all(&x, a, b);
            let mut slow = Resampler::new(a, b);
            assert!(slow.phases.is_some(), "{a}->{b} has few phases");
            slow.phases = None;
            let mut y = Vec::new();
            slow.process(&x, &mut y);
            slow.finish(&mut y);
            // (The interpolated path steps in floating point and may drift one
            // sample at the very end; the phases step exactly.)
            assert!(fast.len().abs_diff(y.len()) <= 1, "{a}->{b}: {} vs {}", fast.len(), y.len());
            // (The first few samples differ: the interpolated path renormalises
            // the kernel at the very start of a stream, the phases zero-pad.)
            let n = fast.len().min(y.len());
            let worst = fast[..n].iter().zip(&y[..n]).skip(64).map(|(p, q)| (p - q).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "{a}->{b}: differs by {worst}");
        }
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
