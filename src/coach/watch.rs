//! Reloading a playbook folder when a trainer edits it: cards and lexicons
//! both. A broken edit keeps the last good playbook and reports the error.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::playbook::{Playbook, PlaybookErrors};
use crate::analysis::Lexicons;

/// What a check found.
#[derive(Debug)]
pub enum Reload {
    /// Files changed and the new playbook is valid.
    Reloaded {
        /// The cards.
        playbook: Arc<Playbook>,
        /// The lexicons.
        lexicons: Arc<Lexicons>,
    },
    /// Files changed but the new playbook is broken; the old one stays.
    /// The message lists every problem with file:line.
    Failed(String),
}

/// Errors loading a playbook folder (cards or lexicons).
#[derive(Debug, thiserror::Error)]
pub enum PlaybookDirError {
    /// A card file is wrong.
    #[error(transparent)]
    Cards(#[from] PlaybookErrors),
    /// A lexicon file is wrong.
    #[error(transparent)]
    Lexicon(#[from] crate::analysis::lexicon::LexiconError),
}

type Fingerprint = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// Watches `DIR/cards/*.toml`, `DIR/lexicon/*.toml` and `DIR/model/*.tsv`
/// by modification time and size.
pub struct PlaybookWatcher {
    dir: PathBuf,
    fingerprint: Fingerprint,
    playbook: Arc<Playbook>,
    lexicons: Arc<Lexicons>,
}

fn fingerprint(dir: &Path) -> Fingerprint {
    let mut v: Fingerprint = ["cards", "lexicon", "model"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).into_iter().flatten())
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "tsv"))
        .map(|p| {
            let m = std::fs::metadata(&p).ok();
            let (t, len) = (m.as_ref().and_then(|m| m.modified().ok()), m.map_or(0, |m| m.len()));
            (p, t, len)
        })
        .collect();
    v.sort();
    v
}

fn load(dir: &Path) -> Result<(Arc<Playbook>, Arc<Lexicons>), PlaybookDirError> {
    Ok((Arc::new(Playbook::load_dir(dir)?), Arc::new(Lexicons::load_dir(dir)?)))
}

impl PlaybookWatcher {
    /// Loads the folder now.
    pub fn new(dir: &Path) -> Result<Self, PlaybookDirError> {
        let fingerprint = fingerprint(dir);
        let (playbook, lexicons) = load(dir)?;
        Ok(Self { dir: dir.to_path_buf(), fingerprint, playbook, lexicons })
    }

    /// The playbook in use.
    pub fn current(&self) -> Arc<Playbook> {
        self.playbook.clone()
    }

    /// The lexicons in use.
    pub fn lexicons(&self) -> Arc<Lexicons> {
        self.lexicons.clone()
    }

    /// Checks for changes; None when nothing changed.
    pub fn check(&mut self) -> Option<Reload> {
        let now = fingerprint(&self.dir);
        if now == self.fingerprint {
            return None;
        }
        self.fingerprint = now;
        match load(&self.dir) {
            Ok((playbook, lexicons)) => {
                self.playbook = playbook.clone();
                self.lexicons = lexicons.clone();
                Some(Reload::Reloaded { playbook, lexicons })
            }
            Err(e) => Some(Reload::Failed(e.to_string())),
        }
    }
}
