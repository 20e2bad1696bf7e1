//! Helpers for tests that run the real `callcoach` binary.
#![allow(dead_code)]

#[cfg(feature = "board")]
pub mod board;
#[cfg(feature = "board")]
pub mod webdriver;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::mpsc::Receiver;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_callcoach"))
}

/// A file under `tests/fixtures`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// A file under the repository root.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "command: {} {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        bin().display(),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs callcoach with `args` and extra environment.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", bin().display()))
}

/// Runs callcoach; panics with command, stdout and stderr unless it succeeds.
pub fn run_ok(args: &[&str]) -> Output {
    let out = run_env(args, &[]);
    assert!(out.status.success(), "expected success\n{}", describe(args, &out));
    out
}

/// Runs callcoach; panics unless it fails. Returns stderr.
pub fn run_fail(args: &[&str]) -> String {
    let out = run_env(args, &[]);
    assert!(!out.status.success(), "expected failure\n{}", describe(args, &out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The installed model; fails the test with instructions when it is missing.
pub fn require_model() -> PathBuf {
    let out = run_ok(&["model", "path"]);
    let path = PathBuf::from(stdout(&out).trim());
    assert!(
        path.exists(),
        "the Whisper model is not installed at {}: run `cargo run --release -- model install` \
         (scripts/test.sh does this) before the tests",
        path.display()
    );
    path
}

/// Checks that an external tool exists; fails with the package to install.
pub fn require_tool(tool: &str, package: &str) {
    let ok = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().map(|o| o.status.success()).unwrap_or(false);
    assert!(ok, "`{tool}` is needed by this test: apt-get install {package} (.ci/run installs it)");
}

/// Runs a shell tool and panics with its output when it fails.
pub fn sh(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(out.status.success(), "{program} {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

/// Character error rate of `got` against `expected` (edit distance over
/// the expected length, punctuation ignored, numbers written either way
/// the same: the project's own scoring, `callcoach::score`).
pub fn cer(expected: &str, got: &str) -> f64 {
    callcoach::score::cer(expected, got).rate()
}

/// One line of `tests/fixtures/zh/lines.tsv`.
#[derive(Debug, Clone)]
pub struct Line {
    pub id: String,
    pub speaker: String,
    pub style: String,
    pub text: String,
}

/// The Mandarin fixture lines.
pub fn zh_lines() -> Vec<Line> {
    let text = std::fs::read_to_string(fixture("zh/lines.tsv")).expect("lines.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Line { id: f[0].into(), speaker: f[1].into(), style: f[2].into(), text: f[3].into() }
        })
        .collect()
}

/// Parses one line of JSON Lines output.
fn json_line(l: &str) -> serde_json::Value {
    serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}"))
}

/// Parses JSON Lines output.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out).lines().filter(|l| !l.trim().is_empty()).map(json_line).collect()
}

/// The JSON Lines a running child prints, each as it comes (its stdout is
/// taken; the channel ends when the child closes it).
pub fn json_events(child: &mut Child) -> Receiver<serde_json::Value> {
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok).filter(|l| !l.trim().is_empty()) {
            if tx.send(json_line(&line)).is_err() {
                return;
            }
        }
    });
    rx
}

/// Writes a 16-bit WAV.
pub fn write_wav(path: &Path, rate_hz: u32, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec { channels: channels.len() as u16, sample_rate: rate_hz, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    let n = channels.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..n {
        for ch in channels {
            let v = ch.get(i).copied().unwrap_or(0.0);
            w.write_sample((v.clamp(-1.0, 1.0) * 32767.0) as i16).expect("write");
        }
    }
    w.finalize().expect("finalize");
}

/// Reads a 16-bit mono fixture as f32.
pub fn read_mono(path: &Path) -> (u32, Vec<f32>) {
    let mut r = hound::WavReader::open(path).expect("open wav");
    let rate = r.spec().sample_rate;
    let v = r.samples::<i16>().map(|s| s.expect("sample") as f32 / 32768.0).collect();
    (rate, v)
}

/// The parts of a pipeline on the real model and the built-in playbook,
/// fed as fast as it goes, partials off: what the library-level tests
/// start with.
#[cfg(feature = "engine")]
pub fn test_pipeline_parts(source: &str) -> callcoach::pipeline::PipelineParts {
    use callcoach::asr::{AsrConfig, WhisperEngine};
    use callcoach::events::CallSource;
    use callcoach::pipeline::{CallParts, DspConfig, PipelineParts};
    let engine = WhisperEngine::load(AsrConfig::default()).expect("model (run scripts/test.sh)");
    let calls = CallParts::builtin("test", CallSource::File { path: source.into() }).expect("built-in playbook");
    PipelineParts {
        engine,
        calls,
        dsp: DspConfig { partial_every_ms: 0, ..DspConfig::default() },
        realtime: false,
        max_queued_audio_s: 120.0,
        epoch: None,
        speed: 1.0,
    }
}

/// A final segment as the live decode gave it (not a second-pass revision).
pub fn is_live_final(e: &serde_json::Value) -> bool {
    e["type"] == "segment" && e["final"] == true && e["revision"].is_null()
}
