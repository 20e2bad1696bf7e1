//! One place that turns a validated [`Config`] and an input (a recording or
//! the capture devices) into running parts: the model, the analysis and
//! coach, the pipeline threads and the audio source. Commands and screens
//! subscribe to the events, start the session, and use its controls.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};

use crate::analysis::lexicon::LexiconError;
use crate::analysis::Lexicons;
use crate::asr::{AsrError, WhisperEngine};
use crate::audio::capture::{spawn_device, CaptureError, Route};
use crate::audio::layout::{channel_map, extra_channels_note};
use crate::audio::replay::spawn_replay;
use crate::audio::source::SourceMsg;
use crate::audio::wav::read_wav;
use crate::audio::AudioError;
use crate::coach::watch::{PlaybookDirError, PlaybookWatcher};
use crate::coach::{Playbook, PlaybookErrors};
use crate::config::Config;
use crate::events::{CallSource, EndReason, Speaker, StatusKind};
use crate::pipeline::{CallParts, Controls, Delivery, DspConfig, Fanout, Pipeline, PipelineParts, QueueStats, Subscription};

/// Errors starting a session; each names what it is about.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The recording cannot be used.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The model cannot be loaded.
    #[error("loading the Whisper model")]
    Asr(#[from] AsrError),
    /// A capture device cannot be opened.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The playbook folder is broken.
    #[error(transparent)]
    Playbook(#[from] PlaybookDirError),
    /// The built-in or configured cards are broken.
    #[error(transparent)]
    Cards(#[from] PlaybookErrors),
    /// A lexicon is broken.
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
    /// The settings cannot work.
    #[error("{0}")]
    Config(String),
}

/// Where the audio comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// A recorded call (stereo: agent and customer per `[audio]`).
    File {
        /// The WAV file.
        path: PathBuf,
        /// Paced like a live call (else as fast as the recogniser goes).
        realtime: bool,
    },
    /// The capture devices of `[capture]`.
    Devices,
}

/// Builds a session: subscribe the consumers, then start.
pub struct SessionBuilder {
    cfg: Config,
    input: Input,
    partials: bool,
    fanout: Fanout,
}

impl SessionBuilder {
    /// A session on `input` with the settings of `cfg`.
    pub fn new(cfg: &Config, input: Input) -> Self {
        Self { cfg: cfg.clone(), input, partials: true, fanout: Fanout::new() }
    }

    /// Turns partial results off (they are on by default for the speakers
    /// in `pipeline.partial_speakers`).
    pub fn partials(mut self, on: bool) -> Self {
        self.partials = on;
        self
    }

    /// Adds a consumer of the events.
    pub fn subscribe(&mut self, name: &str, delivery: Delivery) -> Subscription {
        self.fanout.subscribe(name, delivery)
    }

    /// Loads the model and the playbook, opens the input, starts the threads.
    pub fn start(self) -> Result<Session, SessionError> {
        let Self { cfg, input, partials, fanout } = self;
        // The input first: a wrong file or device is reported before the
        // model takes its time to load.
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = bounded::<SourceMsg>(512);
        // Time 0 of the sources' audio and of the call clock.
        let epoch = Instant::now();
        let (source, realtime, input_s, opened) = match &input {
            Input::File { path, realtime } => {
                let wav = read_wav(path)?;
                let map = channel_map(&wav, &cfg.audio, path)?;
                if let Some(note) = extra_channels_note(&wav, &cfg.audio, path) {
                    tracing::warn!("{note}");
                    let _ = tx.send(SourceMsg::Note { kind: StatusKind::ExtraChannels, message: note });
                }
                let input_s = wav.duration_s();
                (CallSource::File { path: path.display().to_string() }, *realtime, Some(input_s), Opened::File(wav, map))
            }
            Input::Devices => {
                let c = &cfg.capture;
                let (agent, customer) = match &c.stereo_device {
                    Some(d) => (d.clone(), d.clone()),
                    None => (c.agent_device.clone(), c.customer_device.clone()),
                };
                if c.stereo_device.is_none() && c.customer_device.is_empty() {
                    return Err(SessionError::Config(
                        "no customer-side device: set capture.customer_device (or --customer-device); `callcoach devices` lists the names".into(),
                    ));
                }
                (CallSource::Devices { agent, customer }, true, None, Opened::Devices)
            }
        };
        let mut sources = match opened {
            Opened::File(wav, map) => {
                vec![spawn_replay(wav, map, realtime.then_some(1.0), tx.clone(), stop.clone())
                    .map_err(|e| SessionError::Config(format!("cannot start the replay: {e}")))?]
            }
            Opened::Devices => open_devices(&cfg, &tx, &stop, epoch)?,
        };
        let engine = WhisperEngine::load(cfg.asr_config())?;
        let calls = call_parts(&cfg, source)?;
        let mut dsp = DspConfig::from_config(&cfg.vad, &cfg.pipeline);
        if !partials {
            dsp.partial_every_ms = 0;
        }
        let parts = PipelineParts { engine, calls, dsp, realtime, max_queued_audio_s: cfg.pipeline.max_queued_audio_s, epoch: Some(epoch), speed: 1.0 };
        let pipeline = Pipeline::start(rx, tx.clone(), parts, fanout)?;
        if matches!(input, Input::Devices) {
            // Once the capture threads have stopped, the input is over.
            let devices = std::mem::take(&mut sources);
            let tx = tx.clone();
            let ender = std::thread::Builder::new()
                .name("capture end".into())
                .spawn(move || {
                    for d in devices {
                        let _ = d.join();
                    }
                    let _ = tx.send(SourceMsg::End { reason: EndReason::Shutdown });
                })
                .map_err(|e| SessionError::Config(format!("cannot start a thread: {e}")))?;
            sources.push(ender);
        }
        Ok(Session { pipeline, sources, stop, on_stop: Default::default(), source_tx: tx, input_s, started: Instant::now() })
    }
}

enum Opened {
    File(crate::audio::wav::WavAudio, Vec<(Speaker, usize)>),
    Devices,
}

fn open_devices(cfg: &Config, tx: &Sender<SourceMsg>, stop: &Arc<AtomicBool>, epoch: Instant) -> Result<Vec<JoinHandle<()>>, SessionError> {
    let c = &cfg.capture;
    let reopen = Duration::from_millis(c.reopen_every_ms.max(100));
    let mut devices = Vec::new();
    match &c.stereo_device {
        Some(dev) => {
            let routes = vec![
                Route { speaker: Speaker::Agent, channel: Some(cfg.audio.agent_channel) },
                Route { speaker: Speaker::Customer, channel: Some(cfg.audio.customer_channel) },
            ];
            devices.push(spawn_device(c.host.clone(), dev.clone(), routes, reopen, tx.clone(), stop.clone(), epoch)?);
        }
        None => {
            for (speaker, dev) in [(Speaker::Agent, &c.agent_device), (Speaker::Customer, &c.customer_device)] {
                let route = vec![Route { speaker, channel: None }];
                let handle = spawn_device(c.host.clone(), dev.clone(), route, reopen, tx.clone(), stop.clone(), epoch)
                    .map_err(|e| SessionError::Config(format!("opening the {speaker} device: {e}")))?;
                devices.push(handle);
            }
        }
    }
    Ok(devices)
}

/// The lexicons, playbook (watched when it is a folder) and call identity.
pub fn call_parts(cfg: &Config, source: CallSource) -> Result<CallParts, SessionError> {
    let (lexicons, playbook, watcher) = match &cfg.playbook.dir {
        Some(dir) => {
            let w = PlaybookWatcher::new(dir)?;
            (w.lexicons(), w.current(), Some(w))
        }
        None => (Arc::new(Lexicons::embedded()?), Arc::new(Playbook::builtin()?), None),
    };
    Ok(CallParts { lexicons, analysis: cfg.analysis.clone(), playbook, watcher, agent: cfg.agent.name.clone(), source })
}

/// What runs when a stop is asked for.
type StopHooks = Arc<std::sync::Mutex<Vec<Box<dyn Fn() + Send>>>>;

/// Ends a session gracefully from anywhere (a signal handler thread, a
/// window's close button): the utterances in progress are finished and
/// analysed, the call is ended with its summary, and the event stream ends.
#[derive(Clone)]
pub struct Stopper {
    stop: Arc<AtomicBool>,
    source: Sender<SourceMsg>,
    on_stop: StopHooks,
}

impl Stopper {
    /// Asks the session to stop (once; asking again changes nothing).
    pub fn stop(&self) {
        if !self.stop.swap(true, Ordering::Relaxed) {
            let message = "stopping: the utterance in progress is finished and the call is closed".to_string();
            let _ = self.source.try_send(SourceMsg::Note { kind: StatusKind::Stopping, message });
            for wake in self.on_stop.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                wake();
            }
        }
    }

    /// Runs `wake` when a stop is asked for (a window that must notice it).
    pub fn on_stop(&self, wake: impl Fn() + Send + 'static) {
        self.on_stop.lock().unwrap_or_else(|p| p.into_inner()).push(Box::new(wake));
    }

    /// True once a stop was asked for.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// What a finished session measured.
#[derive(Debug, Clone)]
pub struct SessionReport {
    /// The recogniser queue.
    pub queue: QueueStats,
    /// Wall time from start to end.
    pub wall_s: f64,
    /// Length of the recording (None for live capture).
    pub input_s: Option<f64>,
}

/// A running session.
pub struct Session {
    pipeline: Pipeline,
    sources: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    on_stop: StopHooks,
    source_tx: Sender<SourceMsg>,
    input_s: Option<f64>,
    started: Instant,
}

impl Session {
    /// The agent's and supervisors' actions (end call, card feedback, notes).
    pub fn controls(&self) -> Controls {
        self.pipeline.controls()
    }

    /// A handle that stops the session gracefully.
    pub fn stopper(&self) -> Stopper {
        Stopper { stop: self.stop.clone(), source: self.source_tx.clone(), on_stop: self.on_stop.clone() }
    }

    /// The recogniser queue now.
    pub fn queue_stats(&self) -> QueueStats {
        self.pipeline.queue.stats()
    }

    /// Waits until the input has ended (or the session was stopped) and
    /// every event has been handed to the consumers.
    pub fn wait(self) -> SessionReport {
        let queue = self.pipeline.queue.clone();
        self.pipeline.join();
        for s in self.sources {
            let _ = s.join();
        }
        drop(self.source_tx);
        SessionReport { queue: queue.stats(), wall_s: self.started.elapsed().as_secs_f64(), input_s: self.input_s }
    }
}
