//! Entry points for fuzzing every parser of outside data: WAV files, the
//! CTranslate2 reader with the ggml writer behind it, the ggml checker,
//! playbook cards and lexicons, the configuration, transcript lines with
//! the analysis and coach behind them, and the board's wire messages. The
//! cargo-fuzz targets in `fuzz/` call these; `cargo test` replays every
//! file of the committed corpora through them (`tests/fuzz_corpus.rs`).
//!
//! Each takes arbitrary bytes and must return (with an error, or not)
//! without panicking, hanging or exhausting memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A scratch file for the parsers that read paths (one per thread).
fn scratch(data: &[u8], ext: &str) -> Option<PathBuf> {
    let path = std::env::temp_dir().join(format!("callcoach-fuzz-{}-{:?}.{ext}", std::process::id(), std::thread::current().id()).replace(['(', ')'], ""));
    std::fs::write(&path, data).ok()?;
    Some(path)
}

/// The WAV reader, and the channel layout checks behind it.
pub fn wav(data: &[u8]) {
    let Some(path) = scratch(data, "wav") else { return };
    if let Ok(w) = crate::audio::wav::read_wav(&path) {
        let layout = crate::config::AudioSection::default();
        let _ = crate::audio::layout::channel_map(&w, &layout, &path);
        let _ = crate::audio::layout::extra_channels_note(&w, &layout, &path);
        assert!(w.channels.iter().flatten().all(|v| v.is_finite() && (-1.0..=1.0).contains(v)), "samples out of range");
    }
}

/// The CTranslate2 reader; what it accepts goes through the converter to
/// ggml and back through the ggml checker.
pub fn ct2(data: &[u8]) {
    let Some(path) = scratch(data, "ct2") else { return };
    let Ok(model) = crate::asr::model::ct2::Ct2Model::read(&path, |_| {}) else { return };
    let vocab: Vec<Vec<u8>> = (0..51865u32).map(|i| i.to_le_bytes().to_vec()).collect();
    let mut out = Vec::new();
    if crate::asr::model::convert::convert(&model, &vocab, &mut out, |_, _| {}).is_ok() {
        if let Some(p) = scratch(&out, "ggml") {
            let _ = crate::asr::model::ggml::inspect(&p);
        }
    }
}

/// The ggml checker.
pub fn ggml(data: &[u8]) {
    let Some(path) = scratch(data, "bin") else { return };
    let _ = crate::asr::model::ggml::inspect(&path);
}

/// A playbook card file (validated as a whole playbook).
pub fn playbook(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = crate::coach::Playbook::from_files(vec![(PathBuf::from("fuzz.toml"), text.to_string())], None);
}

/// A lexicon file, for each of the four lexicons' group sets; what parses
/// is used on a sentence.
pub fn lexicon(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    use crate::analysis::lexicons::{AGENT_GROUPS, CHURN_GROUPS, EMOTION_GROUPS, REASON_GROUPS};
    for groups in [CHURN_GROUPS, REASON_GROUPS, EMOTION_GROUPS, AGENT_GROUPS] {
        if let Ok(lex) = crate::analysis::lexicon::Lexicon::parse(text, Path::new("fuzz.toml"), groups) {
            let _ = lex.find(&crate::text::Normalized::new("我要销户，你们的信号太差了，乱扣话费"));
        }
    }
}

/// The configuration file.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = crate::config::Config::from_toml(text, Path::new("fuzz.toml")) {
        let _ = crate::config::Config::from_toml(&cfg.to_toml(), Path::new("printed.toml")).expect("a printed config parses back");
    }
}

/// Transcript lines (`analyze` input), each analysed and coached as a call.
pub fn transcript(data: &[u8]) {
    thread_local! {
        static PARTS: Option<(Arc<crate::analysis::Lexicons>, Arc<crate::coach::Playbook>)> =
            Some((Arc::new(crate::analysis::Lexicons::embedded().ok()?), Arc::new(crate::coach::Playbook::builtin().ok()?)));
    }
    let Some((lex, pb)) = PARTS.with(Clone::clone) else { return };
    let mut call = crate::analysis::CallAnalysis::new(lex, crate::analysis::AnalysisConfig::default());
    let mut coach = crate::coach::Coach::new(pb);
    let mut clock = 0.0;
    for line in data.split(|b| *b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else { continue };
        let Ok(Some(t)) = crate::transcript::parse_line(line) else { continue };
        let start = t.time_s.unwrap_or(clock + 0.5);
        let end = t.end_s.unwrap_or(start + crate::transcript::estimated_duration_s(&t.text));
        clock = end;
        let a = call.turn(&crate::analysis::Turn {
            speaker: t.speaker,
            text: &t.text,
            start,
            end,
            duration_known: t.end_s.is_some(),
            is_final: true,
            features: None,
        });
        let _ = coach.on_analysis(&a);
        assert!(serde_json::to_string(&a).is_ok(), "an analysis that does not serialise");
    }
}

/// The board's wire messages (both directions), and the checks an
/// incoming batch goes through.
pub fn wire(data: &[u8]) {
    if let Ok(crate::wire::AgentMsg::Events { events }) = serde_json::from_slice::<crate::wire::AgentMsg>(data) {
        let mut view = crate::view::CallView::new();
        for mut e in events {
            crate::pii::mask_event(&mut e);
            view.apply(&e);
            let _ = serde_json::to_string(&e);
        }
    }
    let _ = serde_json::from_slice::<crate::wire::BoardMsg>(data);
}

/// A fuzz entry point.
pub type Target = fn(&[u8]);

/// The targets by name (for the corpus replay).
pub const TARGETS: &[(&str, Target)] =
    &[("wav", wav), ("ct2", ct2), ("ggml", ggml), ("playbook", playbook), ("lexicon", lexicon), ("config", config), ("transcript", transcript), ("wire", wire)];
