//! Reloading a playbook folder when a trainer edits it: a broken edit keeps
//! the last good playbook and reports the error.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::playbook::{Playbook, PlaybookErrors};

/// What a check found.
#[derive(Debug)]
pub enum Reload {
    /// Files changed and the new playbook is valid.
    Reloaded(Arc<Playbook>),
    /// Files changed but the new playbook is broken; the old one stays.
    Failed(PlaybookErrors),
}

/// Watches `DIR/cards/*.toml` by modification time and size.
pub struct PlaybookWatcher {
    dir: PathBuf,
    fingerprint: Vec<(PathBuf, Option<SystemTime>, u64)>,
    current: Arc<Playbook>,
}

fn fingerprint(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut v: Vec<(PathBuf, Option<SystemTime>, u64)> = std::fs::read_dir(dir.join("cards"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let m = std::fs::metadata(&p).ok();
            let (t, len) = (m.as_ref().and_then(|m| m.modified().ok()), m.map_or(0, |m| m.len()));
            (p, t, len)
        })
        .collect();
    v.sort();
    v
}

impl PlaybookWatcher {
    /// Loads the folder now.
    pub fn new(dir: &Path) -> Result<Self, PlaybookErrors> {
        let fingerprint = fingerprint(dir);
        let current = Arc::new(Playbook::load_dir(dir)?);
        Ok(Self { dir: dir.to_path_buf(), fingerprint, current })
    }

    /// The playbook in use.
    pub fn current(&self) -> Arc<Playbook> {
        self.current.clone()
    }

    /// Checks for changes; None when nothing changed.
    pub fn check(&mut self) -> Option<Reload> {
        let now = fingerprint(&self.dir);
        if now == self.fingerprint {
            return None;
        }
        self.fingerprint = now;
        match Playbook::load_dir(&self.dir) {
            Ok(pb) => {
                self.current = Arc::new(pb);
                Some(Reload::Reloaded(self.current.clone()))
            }
            Err(e) => Some(Reload::Failed(e)),
        }
    }
}
