//! Reading WAV files of any integer (8/16/24/32-bit) or float PCM, any rate,
//! any channel count, into per-channel f32 samples in [-1, 1].
//!
//! A file whose data chunk stops early (a recording cut off when a PC
//! crashed) is read up to where it stops and reported, not refused: nothing
//! that was captured is thrown away.

use std::path::Path;

use super::AudioError;

/// Decoded audio, one `Vec` per channel, at the file's own rate.
#[derive(Debug, Clone)]
pub struct WavAudio {
    /// The file's sample rate.
    pub sample_rate_hz: u32,
    /// Samples per channel, de-interleaved.
    pub channels: Vec<Vec<f32>>,
    /// Set when the data chunk ended before its header said it would.
    pub truncated: Option<String>,
}

impl WavAudio {
    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.channels.first().map_or(0.0, |c| c.len() as f64 / self.sample_rate_hz as f64)
    }
}

/// Highest sample rate accepted (anything above is almost surely a corrupt header).
pub const MAX_SAMPLE_RATE_HZ: u32 = 384_000;
/// Lowest sample rate accepted (telephony narrowband is 8 kHz).
pub const MIN_SAMPLE_RATE_HZ: u32 = 4_000;

/// Reads a WAV file.
pub fn read_wav(path: &Path) -> Result<WavAudio, AudioError> {
    let format_err = |reason: String| AudioError::Format { path: path.to_path_buf(), reason };
    let len = std::fs::metadata(path).map_err(|source| AudioError::Io { path: path.to_path_buf(), error: source })?.len();
    if len < 44 {
        return Err(format_err(format!("the file is {len} bytes long; a WAV file has a header of at least 44 bytes (an empty or cut-off recording?)")));
    }
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(source) => AudioError::Io { path: path.to_path_buf(), error: source },
        hound::Error::FormatError(msg) => format_err(format!("not a readable WAV file ({msg}); callcoach reads RIFF/WAVE PCM or float")),
        hound::Error::Unsupported => format_err(
            "unsupported WAV encoding (compressed formats such as A-law, mu-law or ADPCM); \
             convert to PCM first, e.g. `sox in.wav -e signed-integer out.wav`"
                .into(),
        ),
        other => format_err(format!("cannot read WAV header: {other}")),
    })?;
    let spec = reader.spec();
    if spec.channels == 0 {
        return Err(format_err("header says 0 channels".into()));
    }
    if !(MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&spec.sample_rate) {
        return Err(format_err(format!("sample rate {} Hz is outside {MIN_SAMPLE_RATE_HZ}..{MAX_SAMPLE_RATE_HZ} Hz", spec.sample_rate)));
    }
    let n_ch = spec.channels as usize;
    let declared_frames = reader.duration() as usize;
    // A header may declare more data than the file holds (cut off, or
    // hostile): reserve only what the file's length allows.
    let frame_bytes = (n_ch * (spec.bits_per_sample as usize).div_ceil(8)).max(1);
    let reserve_frames = declared_frames.min(len as usize / frame_bytes);
    let mut channels: Vec<Vec<f32>> = (0..n_ch).map(|_| Vec::with_capacity(reserve_frames)).collect();
    let mut truncated = None;
    let mut push_all = |iter: &mut dyn Iterator<Item = Result<f32, hound::Error>>| {
        let mut i = 0usize;
        for s in iter {
            match s {
                Ok(v) => {
                    channels[i % n_ch].push(v);
                    i += 1;
                }
                Err(e) => {
                    truncated = Some(format!(
                        "data stops after {:.2} s of the {:.2} s the header declares ({e})",
                        (i / n_ch) as f64 / spec.sample_rate as f64,
                        declared_frames as f64 / spec.sample_rate as f64
                    ));
                    break;
                }
            }
        }
    };
    let mut reader = reader;
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => push_all(&mut reader.samples::<f32>().map(|r| r.map(|v| if v.is_finite() { v.clamp(-1.0, 1.0) } else { 0.0 }))),
        (hound::SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            push_all(&mut reader.samples::<i32>().map(|r| r.map(|v| v as f32 * scale)))
        }
        (fmt, bits) => {
            return Err(format_err(format!("unsupported sample format {fmt:?} with {bits} bits")));
        }
    }
    // Drop a dangling partial frame so all channels have equal length.
    let min_len = channels.iter().map(Vec::len).min().unwrap_or(0);
    for c in &mut channels {
        c.truncate(min_len);
    }
    if min_len == 0 {
        return Err(format_err(match truncated {
            Some(t) => format!("no audio samples could be read: {t}"),
            None => "the file holds no audio samples".into(),
        }));
    }
    Ok(WavAudio { sample_rate_hz: spec.sample_rate, channels, truncated })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, spec: hound::WavSpec, frames: usize) {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..frames * spec.channels as usize {
            match spec.sample_format {
                hound::SampleFormat::Float => w.write_sample((i as f32 * 0.01).sin() * 0.5).unwrap(),
                hound::SampleFormat::Int => w.write_sample(((i % 100) as i32 - 50) << (spec.bits_per_sample - 8)).unwrap(),
            }
        }
        w.finalize().unwrap();
    }

    #[test]
    fn reads_int_and_float_formats_and_splits_channels() {
        let dir = tempfile::tempdir().unwrap();
        for (bits, fmt) in [(16, hound::SampleFormat::Int), (24, hound::SampleFormat::Int), (32, hound::SampleFormat::Float), (8, hound::SampleFormat::Int)] {
            let p = dir.path().join(format!("x{bits}.wav"));
            let spec = hound::WavSpec { channels: 2, sample_rate: 8000, bits_per_sample: bits, sample_format: fmt };
            write(&p, spec, 800);
            let a = read_wav(&p).unwrap();
            assert_eq!(a.channels.len(), 2);
            assert_eq!(a.channels[0].len(), 800);
            assert!(a.truncated.is_none());
            assert!(a.channels.iter().flatten().all(|v| (-1.0..=1.0).contains(v)));
        }
    }

    #[test]
    fn truncated_data_keeps_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.wav");
        let spec = hound::WavSpec { channels: 1, sample_rate: 16000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
        write(&p, spec, 16000);
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let a = read_wav(&p).unwrap();
        assert!(a.truncated.as_deref().unwrap_or("").contains("data stops after"));
        assert!(a.channels[0].len() > 7000 && a.channels[0].len() < 8000);
    }

    #[test]
    fn a_header_declaring_gigabytes_in_a_tiny_file_reserves_only_the_file() {
        // Found by `scripts/fuzz.sh wav` (an out-of-memory): 8-bit mono whose
        // data chunk claims 2.5 GB, in a 140-byte file.
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/wav/declared_2_5_gb_data_in_140_bytes.wav");
        let a = read_wav(&p).unwrap();
        assert!(a.truncated.is_some());
        assert!(a.channels[0].capacity() <= 140, "reserved {} samples", a.channels[0].capacity());
    }

    #[test]
    fn garbage_and_empty_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("junk.wav");
        std::fs::write(&p, b"this is not a wav file at all").unwrap();
        let e = read_wav(&p).unwrap_err().to_string();
        assert!(e.contains("junk.wav") && e.contains("29 bytes long"), "{e}");
        std::fs::write(&p, "this is not a wav file at all, and it is long enough to have a header".repeat(3)).unwrap();
        let e = read_wav(&p).unwrap_err().to_string();
        assert!(e.contains("junk.wav") && e.contains("not a readable WAV"), "{e}");
        let p = dir.path().join("empty.wav");
        let spec = hound::WavSpec { channels: 1, sample_rate: 16000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
        write(&p, spec, 0);
        let e = read_wav(&p).unwrap_err().to_string();
        assert!(e.contains("empty.wav") && e.contains("no audio samples"), "{e}");
    }
}
