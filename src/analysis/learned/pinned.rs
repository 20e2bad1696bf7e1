//! Pinned lines: labelled turns a retrained model must not get wrong (the
//! lines of the scripted dialogues and the analysis tests, by default
//! `tests/corpus/pinned`). `callcoach train` checks each model it would
//! choose against them through the whole analysis (rules, models, the
//! veto), and keeps a model only at settings that get every pinned label of
//! its own right. They are never trained on: a pinned line tells whether a
//! model holds, not what it learns.
//!
//! A label written `*` is not pinned (the guide leaves it open); the row is
//! still checked on its other labels.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::MODELS;
use crate::analysis::eval::{agent_row, customer_row, evaluate_rows, read_tsv, AgentRow, CorpusError, CustomerRow, Miss};
use crate::analysis::{AnalysisConfig, Lexicons};

/// The labels (as [`Miss::label`] names them) each model decides.
fn labels_of(model: &str) -> &'static [&'static str] {
    match model {
        "churn" => &["churn"],
        "reason" => &["reason"],
        "emotion" => &["calm"],
        "empathy" => &["empathy"],
        "choice" => &["choice"],
        "inflaming" => &["inflaming"],
        _ => &[],
    }
}

/// The pinned lines of a folder.
#[derive(Debug, Clone, Default)]
pub struct Pinned {
    /// The folder.
    pub dir: PathBuf,
    customer: Vec<CustomerRow>,
    agent: Vec<AgentRow>,
    /// `(label, text)` written `*`: not pinned.
    open: HashSet<(&'static str, String)>,
}

/// Reads `path`'s rows, each `*` field replaced by `default`'s and noted
/// (under the label its column holds) in `open`.
fn rows_with_open(path: &Path, columns: &[(&'static str, &str)], open: &mut HashSet<(&'static str, String)>) -> Result<Vec<(usize, Vec<String>)>, CorpusError> {
    let mut rows = read_tsv(path, columns.len() + 1)?;
    for (_, f) in &mut rows {
        for (i, (label, default)) in columns.iter().enumerate() {
            if f[i + 1] == "*" {
                open.insert((label, f[0].clone()));
                f[i + 1] = (*default).to_string();
            }
        }
    }
    Ok(rows)
}

impl Pinned {
    /// Reads `dir/customer.tsv` and `dir/agent.tsv` (the corpus columns; a
    /// label may be `*`, not pinned).
    pub fn read(dir: &Path) -> Result<Self, CorpusError> {
        let mut open = HashSet::new();
        let path = dir.join("customer.tsv");
        let customer = rows_with_open(&path, &[("churn", "0"), ("reason", "-"), ("calm", "calm")], &mut open)?
            .into_iter()
            .map(|(line, f)| customer_row(&path, line, &f))
            .collect::<Result<_, _>>()?;
        let path = dir.join("agent.tsv");
        let agent = rows_with_open(&path, &[("empathy", "0"), ("choice", "0"), ("inflaming", "-"), ("vague", "-")], &mut open)?
            .into_iter()
            .map(|(line, f)| agent_row(&path, line, &f))
            .collect::<Result<_, _>>()?;
        Ok(Self { dir: dir.to_path_buf(), customer, agent, open })
    }

    /// Number of pinned lines (customer and agent).
    pub fn len(&self) -> usize {
        self.customer.len() + self.agent.len()
    }

    /// No pinned lines.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pinned labels of `model` that the analysis with `lex` gets wrong,
    /// each line read alone as `callcoach eval` reads it.
    pub fn misses(&self, model: &str, lex: Arc<Lexicons>) -> Vec<Miss> {
        let customer_model = ["churn", "reason", "emotion"].contains(&model);
        let (customer, agent): (&[CustomerRow], &[AgentRow]) = if customer_model { (&self.customer, &[]) } else { (&[], &self.agent) };
        self.wrong(customer, agent, labels_of(model), lex, &AnalysisConfig::default())
    }

    /// Every pinned label (of any model) that the analysis with `lex` and
    /// `cfg` gets wrong: what `callcoach eval` reports for a pinned folder.
    pub fn all_misses(&self, lex: Arc<Lexicons>, cfg: &AnalysisConfig) -> Vec<Miss> {
        let labels: Vec<&str> = MODELS.iter().flat_map(|m| labels_of(m).iter().copied()).collect();
        self.wrong(&self.customer, &self.agent, &labels, lex, cfg)
    }

    fn wrong(&self, customer: &[CustomerRow], agent: &[AgentRow], labels: &[&str], lex: Arc<Lexicons>, cfg: &AnalysisConfig) -> Vec<Miss> {
        evaluate_rows(customer, agent, lex, cfg)
            .misses
            .into_iter()
            .filter(|m| labels.contains(&m.label) && !self.open.contains(&(m.label, m.text.clone())))
            .collect()
    }

    /// Customer lines and agent lines.
    pub fn counts(&self) -> (usize, usize) {
        (self.customer.len(), self.agent.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::learned::LearnedModels;

    fn folder(customer: &str, agent: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("customer.tsv"), format!("text\tchurn\treason\temotion\tnote\n{customer}")).unwrap();
        std::fs::write(dir.path().join("agent.tsv"), format!("text\tempathy\tchoice\tinflaming\tvague\tnote\n{agent}")).unwrap();
        dir
    }

    #[test]
    fn a_pinned_label_the_analysis_gets_wrong_is_a_miss_of_its_model_only() {
        // The rules alone: 我要销户 is leaving, and a reason named nowhere.
        let lex = Arc::new(Lexicons { models: LearnedModels::none(), ..Lexicons::embedded().unwrap() });
        let dir = folder("我要销户\t0\t-\tcalm\tx\n你们信号太差了\t0\tnetwork\tannoyed\tx\n", "您冷静一下\t0\t0\t您冷静一下\t-\tx\n");
        let p = Pinned::read(dir.path()).unwrap();
        assert_eq!(p.len(), 3);
        let churn = p.misses("churn", lex.clone());
        assert_eq!(churn.len(), 1, "{churn:?}");
        assert_eq!(churn[0].text, "我要销户");
        assert!(p.misses("reason", lex.clone()).is_empty());
        assert!(p.misses("choice", lex).is_empty());
    }

    #[test]
    fn a_label_written_star_is_not_pinned() {
        let lex = Arc::new(Lexicons { models: LearnedModels::none(), ..Lexicons::embedded().unwrap() });
        let dir = folder("我要销户\t*\t-\tcalm\tx\n", "");
        let p = Pinned::read(dir.path()).unwrap();
        assert!(p.misses("churn", lex).is_empty());
    }

    #[test]
    fn a_bad_label_names_file_and_line() {
        let dir = folder("我要销户\tyes\t-\tcalm\tx\n", "");
        let e = Pinned::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("customer.tsv:2") && e.contains("\"yes\""), "{e}");
    }
}
