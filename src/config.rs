//! The TOML configuration file: defaults, loading with clear errors, and
//! printing the effective settings (`--print-config`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::events::Speaker;
use crate::vad::VadConfig;

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// OS error.
        error: std::io::Error,
    },
    /// TOML syntax error or unknown/mistyped key; the message has line and column.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (line, column, key).
        message: String,
    },
    /// A value is out of range.
    #[error("{path}: {message}")]
    Invalid {
        /// The file (or `<command line>`).
        path: PathBuf,
        /// Which key and why.
        message: String,
    },
}

/// Speech recognition settings (`[asr]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AsrSection {
    /// ggml Whisper model; empty means the one `callcoach model install` puts
    /// in the data directory.
    pub model: Option<PathBuf>,
    /// CPU threads per decode.
    pub threads: usize,
    /// Language code, `zh` for Mandarin.
    pub language: String,
    /// Initial prompt (keeps Mandarin output in simplified characters).
    pub initial_prompt: String,
    /// Size the encoder context to each utterance (about 6x faster on short
    /// utterances); false runs the full 30 s context.
    pub sized_audio_ctx: bool,
    /// Encoder positions (50 per second of audio) added to a sized context.
    pub audio_ctx_margin: i32,
    /// Smallest sized context (64-1500 positions; 1500 is the full 30 s).
    pub min_audio_ctx: i32,
    /// Decoder beam width (1: greedy).
    pub beam_size: usize,
    /// Second pass over finished turns while the recogniser is idle: `off`,
    /// `sized` or `full` (encoder context); its text replaces the live text.
    pub second_pass: crate::asr::SecondPass,
    /// Drop text whose average token log-probability is below this.
    pub min_avg_logprob: f64,
}

impl Default for AsrSection {
    fn default() -> Self {
        Self {
            model: None,
            threads: 2,
            language: "zh".into(),
            initial_prompt: crate::asr::DEFAULT_INITIAL_PROMPT.into(),
            sized_audio_ctx: true,
            audio_ctx_margin: 64,
            min_audio_ctx: 256,
            beam_size: 1,
            second_pass: crate::asr::SecondPass::Sized,
            min_avg_logprob: crate::asr::DEFAULT_MIN_AVG_LOGPROB,
        }
    }
}

/// Which channel of a file or device is which speaker (`[audio]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AudioSection {
    /// Channel index (0 = left) carrying the agent in a multi-channel file.
    pub agent_channel: usize,
    /// Channel index carrying the customer.
    pub customer_channel: usize,
    /// Role of a mono file.
    pub mono_role: Speaker,
}

impl Default for AudioSection {
    fn default() -> Self {
        Self { agent_channel: 0, customer_channel: 1, mono_role: Speaker::Customer }
    }
}

/// Where the playbook (cards and lexicons) comes from (`[playbook]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlaybookSection {
    /// A playbook folder (like `prompts/zh-CN`); empty means the built-in one.
    pub dir: Option<PathBuf>,
}

/// Streaming settings (`[pipeline]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSection {
    /// Decode the growing utterance about this often while someone talks (0 = never).
    pub partial_every_ms: u64,
    /// Start decoding an utterance ahead after this much silence.
    pub speculative_after_ms: f64,
    /// Seconds of finished utterances allowed to wait for the recogniser
    /// before the audio source is made to wait (nothing is dropped).
    pub max_queued_audio_s: f64,
    /// Whose speech gets partial results.
    pub partial_speakers: Vec<Speaker>,
    /// A call ends after this long without speech on either side; the
    /// next speech starts a new call.
    pub call_end_silence_s: f64,
}

impl Default for PipelineSection {
    fn default() -> Self {
        Self {
            partial_every_ms: 1000,
            speculative_after_ms: 100.0,
            max_queued_audio_s: 120.0,
            partial_speakers: vec![Speaker::Customer],
            call_end_silence_s: 20.0,
        }
    }
}

/// Who is at this PC (`[agent]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSection {
    /// The agent's name as supervisors see it (default: the login name).
    pub name: String,
}

impl Default for AgentSection {
    fn default() -> Self {
        let name = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "agent".into());
        Self { name }
    }
}

/// Capture settings (`[capture]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// `auto` (PulseAudio when running, else ALSA), `pulseaudio` or `alsa`.
    pub host: String,
    /// The agent's headset microphone (`default` for the default input).
    pub agent_device: String,
    /// The customer side, e.g. the monitor of the softphone's output
    /// (`alsa_output....monitor` under PulseAudio).
    pub customer_device: String,
    /// Alternatively one stereo device carrying both sides (left agent,
    /// right customer as in `[audio]`); when set, the two above are ignored.
    pub stereo_device: Option<String>,
    /// How long to wait between attempts to reopen a lost device.
    pub reopen_every_ms: u64,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self { host: "auto".into(), agent_device: "default".into(), customer_device: String::new(), stereo_device: None, reopen_every_ms: 1000 }
    }
}

/// The agent's window (`[overlay]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OverlaySection {
    /// A font file with Chinese glyphs (TTF/OTF/TTC). Empty: look for Noto
    /// Sans CJK SC (Debian `fonts-noto-cjk`) or another CJK system font.
    pub font: Option<PathBuf>,
    /// Face index inside a font collection (.ttc); None picks the
    /// simplified-Chinese face of a Noto CJK collection, else 0.
    pub font_index: Option<u32>,
    /// Window opacity 0.3..=1 (needs a compositing window manager).
    pub opacity: f32,
    /// `dark` or `light`.
    pub theme: String,
    /// Top-left corner on screen in points; empty: where it was last left.
    pub position: Option<[f32; 2]>,
    /// Window size in points (the window is resizable; it remembers the
    /// size it was left at unless this is set).
    pub size: Option<[f32; 2]>,
    /// Keep the window above other windows.
    pub always_on_top: bool,
    /// Start as the thin one-line bar.
    pub start_collapsed: bool,
    /// Transcript lines shown.
    pub transcript_lines: usize,
}

impl Default for OverlaySection {
    fn default() -> Self {
        Self {
            font: None,
            font_index: None,
            opacity: 0.96,
            theme: "dark".into(),
            position: None,
            size: None,
            always_on_top: true,
            start_collapsed: false,
            transcript_lines: 3,
        }
    }
}

impl OverlaySection {
    /// Checks ranges; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.3..=1.0).contains(&self.opacity) {
            return Err(format!("overlay.opacity = {} is outside 0.3..1", self.opacity));
        }
        if self.theme != "dark" && self.theme != "light" {
            return Err(format!("overlay.theme = {:?}: use dark or light", self.theme));
        }
        if let Some([w, h]) = self.size {
            if !(200.0..=4000.0).contains(&w) || !(40.0..=4000.0).contains(&h) {
                return Err(format!("overlay.size = [{w}, {h}] is outside [200..4000, 40..4000]"));
            }
        }
        if !(1..=20).contains(&self.transcript_lines) {
            return Err("overlay.transcript_lines must be within 1..20".into());
        }
        Ok(())
    }
}

/// The link to the supervisors' board (`[board]`), on the agent's PC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoardSection {
    /// The board, `http://host:port` or `https://host:port`; empty: no board.
    pub url: Option<String>,
    /// This PC's agent token (`callcoach board token add --role agent NAME`).
    pub token: Option<String>,
    /// Where events wait until the board has them (default: the data
    /// directory's `spool/`).
    pub spool_dir: Option<PathBuf>,
    /// Most megabytes the spool keeps (then the oldest finished calls go).
    pub spool_max_mb: Option<u64>,
    /// A PEM certificate to trust for an https board (a centre's own CA).
    pub ca_cert: Option<PathBuf>,
    /// Publish to a NATS JetStream broker instead (`nats://host:4222`; a
    /// large centre: boards read the broker, `url`/`token` are not used).
    pub nats: Option<String>,
    /// The site this PC belongs to, on the broker (boards may read one site).
    pub site: Option<String>,
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[agent]`
    pub agent: AgentSection,
    /// `[asr]`
    pub asr: AsrSection,
    /// `[audio]`
    pub audio: AudioSection,
    /// `[vad]`
    pub vad: VadConfig,
    /// `[analysis]`
    pub analysis: crate::analysis::AnalysisConfig,
    /// `[playbook]`
    pub playbook: PlaybookSection,
    /// `[pipeline]`
    pub pipeline: PipelineSection,
    /// `[capture]`
    pub capture: CaptureConfig,
    /// `[overlay]`
    pub overlay: OverlaySection,
    /// `[board]`
    pub board: BoardSection,
}

impl Config {
    /// Parses TOML text; `path` is only used in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string().trim_end().to_string() })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    /// Reads a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.to_path_buf(), error: source })?;
        Self::from_toml(&text, path)
    }

    /// The default location, `~/.config/callcoach/config.toml`.
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("callcoach").join("config.toml"))
    }

    /// Checks value ranges.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.to_path_buf(), message };
        if !(1..=64).contains(&self.asr.threads) {
            return Err(invalid(format!("asr.threads = {} is outside 1..64", self.asr.threads)));
        }
        if !(64..=1500).contains(&self.asr.min_audio_ctx) {
            return Err(invalid(format!("asr.min_audio_ctx = {} is outside 64..1500 encoder positions", self.asr.min_audio_ctx)));
        }
        if !(0..=1500).contains(&self.asr.audio_ctx_margin) {
            return Err(invalid(format!("asr.audio_ctx_margin = {} is outside 0..1500 encoder positions", self.asr.audio_ctx_margin)));
        }
        if !(1..=8).contains(&self.asr.beam_size) {
            return Err(invalid(format!("asr.beam_size = {} is outside 1..8", self.asr.beam_size)));
        }
        if self.audio.agent_channel == self.audio.customer_channel {
            return Err(invalid("audio.agent_channel and audio.customer_channel are the same channel".into()));
        }
        self.vad.validate().map_err(invalid)?;
        self.analysis.validate().map_err(invalid)?;
        if self.pipeline.speculative_after_ms < 0.0 || self.pipeline.speculative_after_ms >= self.vad.end_of_speech_silence_ms as f64 {
            return Err(invalid("pipeline.speculative_after_ms must be >= 0 and below vad.end_of_speech_silence_ms".into()));
        }
        if self.pipeline.max_queued_audio_s < 30.0 {
            return Err(invalid("pipeline.max_queued_audio_s must be at least 30".into()));
        }
        if !(2.0..=3600.0).contains(&self.pipeline.call_end_silence_s) {
            return Err(invalid("pipeline.call_end_silence_s must be within 2..3600 seconds".into()));
        }
        if self.agent.name.trim().is_empty() {
            return Err(invalid("agent.name is empty".into()));
        }
        self.overlay.validate().map_err(invalid)?;
        if self.board.url.is_some() != self.board.token.is_some() {
            return Err(invalid("board.url and board.token go together (set both, or neither)".into()));
        }
        if self.board.site.as_ref().is_some_and(|s| s.trim().is_empty()) {
            return Err(invalid("board.site is empty".into()));
        }
        if self.board.nats.is_some() && self.board.url.is_some() {
            return Err(invalid("board.nats and board.url are two ways to reach the board; set one".into()));
        }
        if self.board.spool_max_mb == Some(0) {
            return Err(invalid("board.spool_max_mb must be at least 1".into()));
        }
        Ok(())
    }

    /// The effective settings as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print config: {e}\n"))
    }

    /// The model file to use.
    pub fn model_path(&self) -> PathBuf {
        self.asr.model.clone().unwrap_or_else(crate::asr::model::default_model_path)
    }

    /// Decoder settings.
    #[cfg(feature = "engine")]
    pub fn asr_config(&self) -> crate::asr::AsrConfig {
        crate::asr::AsrConfig {
            model_path: self.model_path(),
            threads: self.asr.threads,
            language: self.asr.language.clone(),
            initial_prompt: self.asr.initial_prompt.clone(),
            sized_audio_ctx: self.asr.sized_audio_ctx,
            audio_ctx_margin: self.asr.audio_ctx_margin,
            min_audio_ctx: self.asr.min_audio_ctx,
            beam_size: self.asr.beam_size,
            second_pass: self.asr.second_pass,
            min_avg_logprob: self.asr.min_avg_logprob,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_an_error_with_line() {
        let e = Config::from_toml("[asr]\nthreads = 2\nthread = 3\n", Path::new("c.toml")).unwrap_err().to_string();
        assert!(e.contains("c.toml") && e.contains("line 3") && e.contains("thread"), "{e}");
    }

    #[test]
    fn out_of_range_value_names_the_key() {
        let e = Config::from_toml("[asr]\nthreads = 0\n", Path::new("c.toml")).unwrap_err().to_string();
        assert!(e.contains("asr.threads"), "{e}");
    }

    #[test]
    fn printed_config_parses_back() {
        let c = Config::default();
        let back = Config::from_toml(&c.to_toml(), Path::new("x")).unwrap();
        assert_eq!(back, c);
    }
}
