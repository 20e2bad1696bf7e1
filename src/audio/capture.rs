//! Live capture with cpal: one supervisor thread per device. The audio
//! callback only copies samples into a preallocated buffer from a pool and
//! hands it over without blocking or allocating; the supervisor forwards the
//! audio, notices a failed device, keeps what was captured, and reopens the
//! device when it comes back.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use crossbeam_channel::{bounded, Receiver, Sender};
use serde::Serialize;

use super::source::SourceMsg;
use crate::events::Speaker;

/// Errors opening capture.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// No such device.
    #[error("no input device named {name:?}; `callcoach devices` lists the names to use (available: {available})")]
    NoDevice {
        /// The configured name.
        name: String,
        /// What cpal sees.
        available: String,
    },
    /// The audio system refused.
    #[error("{device}: {message}")]
    Audio {
        /// The device.
        device: String,
        /// cpal's message.
        message: String,
    },
    /// Configuration mistake.
    #[error("{0}")]
    Config(String),
}

pub use crate::config::CaptureConfig;

/// What `callcoach devices` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    /// Name to put in the config: the host's stable device id
    /// (`customer.monitor`, `hw:CARD=Headset,DEV=0`).
    pub name: String,
    /// Human description (not always unique).
    pub description: String,
    /// Default input config: channels.
    pub channels: u16,
    /// Default input config: rate.
    pub sample_rate_hz: u32,
    /// Sample format.
    pub format: String,
    /// True for the host's default input.
    pub is_default: bool,
}

/// The cpal host for a `host` setting.
pub fn host_for(name: &str) -> Result<cpal::Host, CaptureError> {
    let want = match name {
        "auto" => return Ok(cpal::default_host()),
        "alsa" => "alsa",
        "pulseaudio" | "pulse" => "pulseaudio",
        other => return Err(CaptureError::Config(format!("capture.host = {other:?}: use auto, pulseaudio or alsa"))),
    };
    let id = cpal::available_hosts()
        .into_iter()
        .find(|h| h.name().eq_ignore_ascii_case(want))
        .ok_or_else(|| CaptureError::Config(format!("audio host {want} is not available here ({:?} are)", cpal::available_hosts())))?;
    cpal::host_from_id(id).map_err(|e| CaptureError::Config(format!("opening audio host {want}: {e}")))
}

/// Lists input devices.
pub fn list_devices(host: &str) -> Result<Vec<DeviceInfo>, CaptureError> {
    let host = host_for(host)?;
    let default = host.default_input_device().map(|d| device_name(&d));
    let devices = host.input_devices().map_err(|e| CaptureError::Audio { device: "(host)".into(), message: e.to_string() })?;
    Ok(devices
        .map(|d| {
            let name = device_name(&d);
            let (channels, sample_rate_hz, format) = match d.default_input_config() {
                Ok(c) => (c.channels(), c.sample_rate(), format!("{:?}", c.sample_format())),
                Err(_) => (0, 0, "?".into()),
            };
            DeviceInfo { is_default: default.as_deref() == Some(name.as_str()), description: d.to_string(), name, channels, sample_rate_hz, format }
        })
        .collect())
}

/// The stable name of a device: its id on the host, or its description.
pub fn device_name(d: &cpal::Device) -> String {
    d.id().map(|id| id.id().to_string()).unwrap_or_else(|_| d.to_string())
}

fn find_device(host: &cpal::Host, name: &str) -> Result<cpal::Device, CaptureError> {
    if name == "default" || name.is_empty() {
        return host.default_input_device().ok_or_else(|| CaptureError::NoDevice { name: name.into(), available: "(no default input)".into() });
    }
    let devices: Vec<cpal::Device> = host.input_devices().map_err(|e| CaptureError::Audio { device: name.into(), message: e.to_string() })?.collect();
    if let Some(d) = devices.iter().find(|d| device_name(d) == name || d.id().is_ok_and(|id| id.to_string() == name)) {
        return Ok(d.clone());
    }
    // A description is accepted when it names exactly one device.
    let by_description: Vec<&cpal::Device> = devices.iter().filter(|d| d.to_string() == name).collect();
    if let [d] = by_description[..] {
        return Ok(d.clone());
    }
    Err(CaptureError::NoDevice { name: name.into(), available: devices.iter().map(device_name).collect::<Vec<_>>().join(", ") })
}

/// True while a device of that name is listed by the host ("default" always is).
fn device_present(host: &cpal::Host, name: &str) -> bool {
    if name == "default" || name.is_empty() {
        return true;
    }
    match host.input_devices() {
        Ok(mut devices) => devices.any(|d| device_name(&d) == name || d.to_string() == name),
        // Cannot tell: assume it is there; a dead stream reports itself.
        Err(_) => true,
    }
}

/// Which channel of a device feeds which speaker.
#[derive(Debug, Clone)]
pub struct Route {
    /// Speaker fed.
    pub speaker: Speaker,
    /// Device channel, or None to mix all channels down.
    pub channel: Option<usize>,
}

/// Frames per pooled buffer (at most; callbacks may deliver fewer).
const POOL_BUFFER_SAMPLES: usize = 8192;
/// Buffers in the pool: about 10 s at 48 kHz stereo in flush-sized pieces.
const POOL_BUFFERS: usize = 256;
/// Samples gathered before a buffer is handed over (about 20 ms at 48 kHz stereo).
const FLUSH_SAMPLES: usize = 1920;

struct Running {
    _stream: cpal::Stream,
    filled: Receiver<(usize, Vec<f32>)>,
    free: Sender<Vec<f32>>,
    failed: Receiver<String>,
    channels: usize,
    rate_hz: u32,
}

fn open(host: &cpal::Host, name: &str, overrun: Arc<AtomicU64>) -> Result<Running, CaptureError> {
    let device = find_device(host, name)?;
    let supported = device.default_input_config().map_err(|e| CaptureError::Audio { device: name.into(), message: e.to_string() })?;
    let format = supported.sample_format();
    let mut config: cpal::StreamConfig = supported.config();
    // Ask for ~20 ms periods: some hosts default to second-long fragments,
    // which would hold audio back that long.
    let want = (config.sample_rate / 50).max(64);
    config.buffer_size = match supported.buffer_size() {
        cpal::SupportedBufferSize::Range { min, max } => cpal::BufferSize::Fixed(want.clamp(*min, *max)),
        cpal::SupportedBufferSize::Unknown => cpal::BufferSize::Fixed(want),
    };
    let channels = config.channels as usize;
    let (free_tx, free_rx) = bounded::<Vec<f32>>(POOL_BUFFERS);
    let (filled_tx, filled_rx) = bounded::<(usize, Vec<f32>)>(POOL_BUFFERS);
    for _ in 0..POOL_BUFFERS {
        let _ = free_tx.try_send(vec![0.0; POOL_BUFFER_SAMPLES]);
    }
    let (fail_tx, fail_rx) = bounded::<String>(4);
    let err_cb = move |e: cpal::Error| {
        let _ = fail_tx.try_send(e.to_string());
    };
    macro_rules! stream {
        ($t:ty, $conv:expr) => {{
            let free_rx = free_rx.clone();
            let filled_tx = filled_tx.clone();
            let overrun = overrun.clone();
            // The buffer being filled, kept across callbacks (hosts may call
            // back with a handful of frames at a time).
            let mut current: Option<(Vec<f32>, usize)> = None;
            device.build_input_stream::<$t, _, _>(
                config.clone(),
                move |data: &[$t], _info: &cpal::InputCallbackInfo| {
                    // Real-time path: no allocation, no blocking.
                    let mut rest = data;
                    while !rest.is_empty() {
                        if current.is_none() {
                            match free_rx.try_recv() {
                                Ok(buf) => current = Some((buf, 0)),
                                Err(_) => {
                                    overrun.fetch_add(rest.len() as u64, Ordering::Relaxed);
                                    return;
                                }
                            }
                        }
                        let Some((buf, len)) = current.as_mut() else { return };
                        let n = (buf.len() - *len).min(rest.len());
                        for (d, s) in buf[*len..*len + n].iter_mut().zip(&rest[..n]) {
                            *d = $conv(*s);
                        }
                        *len += n;
                        rest = &rest[n..];
                        if *len >= FLUSH_SAMPLES {
                            if let Some((buf, len)) = current.take() {
                                if filled_tx.try_send((len, buf)).is_err() {
                                    overrun.fetch_add(len as u64, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                },
                err_cb,
                Some(Duration::from_secs(5)),
            )
        }};
    }
    let stream = match format {
        cpal::SampleFormat::F32 => stream!(f32, |s: f32| s),
        cpal::SampleFormat::I16 => stream!(i16, |s: i16| s as f32 / 32768.0),
        cpal::SampleFormat::U16 => stream!(u16, |s: u16| (s as f32 - 32768.0) / 32768.0),
        cpal::SampleFormat::I32 => stream!(i32, |s: i32| s as f32 / 2_147_483_648.0),
        other => return Err(CaptureError::Audio { device: name.into(), message: format!("sample format {other:?} is not supported") }),
    }
    .map_err(|e| CaptureError::Audio { device: name.into(), message: e.to_string() })?;
    stream.play().map_err(|e| CaptureError::Audio { device: name.into(), message: e.to_string() })?;
    Ok(Running { _stream: stream, filled: filled_rx, free: free_tx, failed: fail_rx, channels, rate_hz: config.sample_rate })
}

/// After this long without a buffer, the next one is a resumption (a
/// suspended monitor woke up): it is placed by the wall clock.
const RESUME_AFTER: Duration = Duration::from_millis(150);

/// One device's supervisor: forwards audio, reports loss and return.
/// `epoch` is the session's start, the same for every device, so both
/// sides of the call sit on one timeline.
pub fn spawn_device(
    host_name: String,
    device: String,
    routes: Vec<Route>,
    reopen_every: Duration,
    tx: Sender<SourceMsg>,
    stop: Arc<AtomicBool>,
    epoch: Instant,
) -> Result<JoinHandle<()>, CaptureError> {
    let host = host_for(&host_name)?;
    let overrun = Arc::new(AtomicU64::new(0));
    // Open once here so a wrong name is an error at start, not a silent retry loop.
    let first = open(&host, &device, Arc::new(AtomicU64::new(0)))?;
    drop(first);
    std::thread::Builder::new()
        .name(format!("capture {device}"))
        .spawn(move || {
            let mut running: Option<Running> = None;
            let mut lost_at: Option<Instant> = None;
            // Frames forwarded since the stream (re)started, against the wall
            // clock: a source that delivers nothing while idle (a suspended
            // PulseAudio monitor) is silence, and is padded as such so both
            // speakers stay on the same timeline.
            let mut clock_start = epoch;
            let mut frames_forwarded: u64 = 0;
            let mut last_data: Option<Instant> = None;
            let mut opened_once = false;
            // Sound servers move a stream to another device when its own
            // disappears (an unplugged headset) instead of failing it, so the
            // device list is checked as well.
            let mut last_presence_check = Instant::now();
            let mut last_try = Instant::now() - reopen_every;
            let forward = |run: &Running, buf: &[f32]| -> bool {
                let frames = buf.len() / run.channels.max(1);
                for r in &routes {
                    let mut mono = Vec::with_capacity(frames);
                    for f in 0..frames {
                        let frame = &buf[f * run.channels..(f + 1) * run.channels];
                        mono.push(match r.channel {
                            Some(c) => frame.get(c).copied().unwrap_or(0.0),
                            None => frame.iter().sum::<f32>() / run.channels as f32,
                        });
                    }
                    if tx.send(SourceMsg::Audio { speaker: r.speaker, sample_rate_hz: run.rate_hz, samples: mono }).is_err() {
                        return false;
                    }
                }
                true
            };
            while !stop.load(Ordering::Relaxed) {
                if running.is_none() && last_try.elapsed() >= reopen_every {
                    last_try = Instant::now();
                    match open(&host, &device, overrun.clone()) {
                        Ok(r) => {
                            if let Some(t) = lost_at.take() {
                                for r2 in &routes {
                                    let _ = tx.send(SourceMsg::DeviceBack { speaker: r2.speaker, gap_s: t.elapsed().as_secs_f64() });
                                }
                            }
                            if opened_once {
                                // The gap was filled by DeviceBack; count afresh.
                                clock_start = Instant::now();
                                frames_forwarded = 0;
                            }
                            opened_once = true;
                            last_data = None;
                            running = Some(r);
                        }
                        Err(e) if lost_at.is_none() => {
                            lost_at = Some(Instant::now());
                            for r2 in &routes {
                                let _ = tx.send(SourceMsg::DeviceLost { speaker: r2.speaker, message: e.to_string() });
                            }
                        }
                        Err(_) => {}
                    }
                }
                let Some(run) = running.as_ref() else {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                // Forward everything captured so far, before looking at errors,
                // so nothing captured is lost when the device goes away.
                let mut arrived: Vec<(usize, Vec<f32>)> = Vec::new();
                while let Ok(b) = run.filled.try_recv() {
                    arrived.push(b);
                }
                if !arrived.is_empty() {
                    let frames: u64 = arrived.iter().map(|(n, _)| (*n / run.channels.max(1)) as u64).sum();
                    // A stream that resumes after delivering nothing (a
                    // suspended monitor when playback starts) is placed by the
                    // wall clock: these frames end now, the time before them
                    // was silence.
                    if last_data.is_none_or(|t| t.elapsed() >= RESUME_AFTER) {
                        let end_now = (clock_start.elapsed().as_secs_f64() * run.rate_hz as f64) as u64;
                        let start = end_now.saturating_sub(frames);
                        let tolerance = run.rate_hz as u64 / 50;
                        if start > frames_forwarded + tolerance {
                            let pad = (start - frames_forwarded) as usize;
                            tracing::debug!(%device, pad, "stream resumed: aligned to the wall clock");
                            frames_forwarded += pad as u64;
                            if !forward(run, &vec![0.0f32; pad * run.channels.max(1)]) {
                                return;
                            }
                        }
                    }
                    last_data = Some(Instant::now());
                    for (n, buf) in arrived {
                        tracing::trace!(%device, n, "captured");
                        frames_forwarded += (n / run.channels.max(1)) as u64;
                        let ok = forward(run, &buf[..n]);
                        let _ = run.free.try_send(buf);
                        if !ok {
                            return;
                        }
                    }
                }
                let expected = (clock_start.elapsed().as_secs_f64() * run.rate_hz as f64) as u64;
                let slack = run.rate_hz as u64;
                if expected > frames_forwarded + slack {
                    let pad = (expected - frames_forwarded - slack / 2) as usize;
                    tracing::trace!(%device, pad, "padding silence");
                    frames_forwarded += pad as u64;
                    let zeros = vec![0.0f32; pad * run.channels.max(1)];
                    if !forward(run, &zeros) {
                        return;
                    }
                }
                let lost = overrun.swap(0, Ordering::Relaxed);
                if lost > 0 {
                    tracing::debug!(%device, lost, "capture overrun");
                    for r in &routes {
                        let _ = tx.send(SourceMsg::Overrun { speaker: r.speaker, samples_lost: lost / run.channels.max(1) as u64 });
                    }
                }
                let vanished = last_presence_check.elapsed() >= Duration::from_secs(1) && {
                    last_presence_check = Instant::now();
                    !device_present(&host, &device)
                };
                let failure = run.failed.try_recv().ok().or_else(|| vanished.then(|| "the device is no longer listed (unplugged?)".to_string()));
                if let Some(msg) = failure {
                    running = None;
                    lost_at = Some(Instant::now());
                    last_try = Instant::now();
                    for r in &routes {
                        let _ = tx.send(SourceMsg::DeviceLost { speaker: r.speaker, message: format!("{device}: {msg}") });
                    }
                    continue;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .map_err(|e| CaptureError::Config(format!("cannot start the capture thread: {e}")))
}
