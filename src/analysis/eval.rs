//! Measuring the analysis on a labelled corpus (`callcoach eval`):
//! precision, recall and F1 per label, against the floors in the issue.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{AnalysisConfig, CallAnalysis, Level, Lexicons, Reason, Turn};
use crate::events::Speaker;
use crate::text::Normalized;

/// A corpus line that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct CorpusError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Counts for one binary label.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// True positives.
    pub tp: u32,
    /// False positives.
    pub fp: u32,
    /// False negatives.
    pub fn_: u32,
    /// True negatives.
    pub tn: u32,
}

impl Counts {
    fn add(&mut self, truth: bool, pred: bool) {
        match (truth, pred) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    /// Precision (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    /// Recall (1 when there was nothing to find).
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
    /// F1.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    /// Accuracy.
    pub fn accuracy(&self) -> f64 {
        let n = self.tp + self.fp + self.fn_ + self.tn;
        if n == 0 {
            1.0
        } else {
            (self.tp + self.tn) as f64 / n as f64
        }
    }
}

/// One line the analysis got wrong, for the report.
#[derive(Debug, Clone)]
pub struct Miss {
    /// Which label.
    pub label: &'static str,
    /// The text.
    pub text: String,
    /// Expected value.
    pub expected: String,
    /// What the analysis said.
    pub got: String,
}

/// The evaluation result.
#[derive(Debug, Clone, Default)]
pub struct EvalReport {
    /// Churn intent.
    pub churn: Counts,
    /// Reason: correct / total (None counts as a value).
    pub reason_correct: u32,
    /// Customer lines.
    pub reason_total: u32,
    /// Per reason, one-vs-rest.
    pub reason_per_label: Vec<(Reason, Counts)>,
    /// Calm (negative) vs annoyed/angry (positive).
    pub not_calm: Counts,
    /// Three-way level accuracy: correct / total.
    pub level_correct: u32,
    /// Inflaming phrases (phrase-level).
    pub inflaming: Counts,
    /// Empathy.
    pub empathy: Counts,
    /// Offers a choice.
    pub choice: Counts,
    /// Vague words (word-level).
    pub vague: Counts,
    /// What was missed.
    pub misses: Vec<Miss>,
}

/// The floors the analysis must reach.
pub struct Floors;

impl Floors {
    /// Churn intent F1.
    pub const CHURN_F1: f64 = 0.9;
    /// Reason accuracy.
    pub const REASON_ACCURACY: f64 = 0.8;
    /// Calm-vs-not accuracy.
    pub const CALM_ACCURACY: f64 = 0.85;
    /// Inflaming recall.
    pub const INFLAMING_RECALL: f64 = 0.95;
    /// Inflaming precision.
    pub const INFLAMING_PRECISION: f64 = 0.9;
}

impl EvalReport {
    /// Reason accuracy.
    pub fn reason_accuracy(&self) -> f64 {
        self.reason_correct as f64 / self.reason_total.max(1) as f64
    }

    /// Three-way level accuracy.
    pub fn level_accuracy(&self) -> f64 {
        self.level_correct as f64 / self.reason_total.max(1) as f64
    }

    /// Floors that are not met, as messages.
    pub fn failures(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut check = |name: &str, got: f64, floor: f64| {
            if got < floor {
                v.push(format!("{name} {got:.3} is below {floor}"));
            }
        };
        check("churn intent F1", self.churn.f1(), Floors::CHURN_F1);
        check("reason accuracy", self.reason_accuracy(), Floors::REASON_ACCURACY);
        check("calm-vs-not accuracy", self.not_calm.accuracy(), Floors::CALM_ACCURACY);
        check("inflaming recall", self.inflaming.recall(), Floors::INFLAMING_RECALL);
        check("inflaming precision", self.inflaming.precision(), Floors::INFLAMING_PRECISION);
        v
    }

    /// A human-readable table.
    pub fn render(&self, show_misses: bool) -> String {
        let mut s = String::new();
        let row = |s: &mut String, name: &str, c: &Counts, floor: &str| {
            s.push_str(&format!(
                "{name:<22} {:>9.3} {:>7.3} {:>7.3} {:>9.3}   tp={} fp={} fn={} {floor}\n",
                c.precision(),
                c.recall(),
                c.f1(),
                c.accuracy(),
                c.tp,
                c.fp,
                c.fn_
            ));
        };
        s.push_str(&format!("{:<22} {:>9} {:>7} {:>7} {:>9}\n", "label", "precision", "recall", "f1", "accuracy"));
        row(&mut s, "churn_intent", &self.churn, "(floor: f1 >= 0.9)");
        row(&mut s, "not_calm", &self.not_calm, "(floor: accuracy >= 0.85)");
        row(&mut s, "inflaming (phrases)", &self.inflaming, "(floor: recall >= 0.95, precision >= 0.9)");
        row(&mut s, "empathy", &self.empathy, "");
        row(&mut s, "offers_choice", &self.choice, "");
        row(&mut s, "vague (words)", &self.vague, "");
        for (r, c) in &self.reason_per_label {
            row(&mut s, &format!("reason={r}"), c, "");
        }
        s.push_str(&format!(
            "reason accuracy        {:.3} ({}/{}) (floor: >= 0.8)\nemotion level accuracy {:.3} (calm/annoyed/angry)\n",
            self.reason_accuracy(),
            self.reason_correct,
            self.reason_total,
            self.level_accuracy()
        ));
        if show_misses && !self.misses.is_empty() {
            s.push_str("\nmisses:\n");
            for m in &self.misses {
                s.push_str(&format!("  {:<10} expected {:<12} got {:<24} {}\n", m.label, m.expected, m.got, m.text));
            }
        }
        s
    }
}

pub(crate) fn read_tsv(path: &Path, columns: usize) -> Result<Vec<(usize, Vec<String>)>, CorpusError> {
    let text = std::fs::read_to_string(path).map_err(|e| CorpusError { path: path.to_path_buf(), line: 0, message: e.to_string() })?;
    let mut rows = Vec::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !header_seen {
            header_seen = true;
            continue;
        }
        let f: Vec<String> = line.split('\t').map(|s| s.trim().to_string()).collect();
        if f.len() < columns {
            return Err(CorpusError { path: path.to_path_buf(), line: i + 1, message: format!("expected {columns} tab-separated columns, found {}", f.len()) });
        }
        rows.push((i + 1, f));
    }
    Ok(rows)
}

fn phrases(field: &str) -> Vec<String> {
    if field == "-" || field.is_empty() {
        return Vec::new();
    }
    field.split('|').map(|p| Normalized::new(p).chars.iter().collect()).collect()
}

fn bool_field(path: &Path, line: usize, v: &str) -> Result<bool, CorpusError> {
    match v {
        "1" => Ok(true),
        "0" => Ok(false),
        other => Err(CorpusError { path: path.to_path_buf(), line, message: format!("expected 1 or 0, found {other:?}") }),
    }
}

/// A labelled customer turn.
#[derive(Debug, Clone)]
pub struct CustomerRow {
    /// What the customer said.
    pub text: String,
    /// Wants to leave.
    pub churn: bool,
    /// The reason named, if any.
    pub reason: Option<Reason>,
    /// Calm, annoyed or angry.
    pub level: Level,
}

/// A labelled agent turn.
#[derive(Debug, Clone)]
pub struct AgentRow {
    /// What the agent said.
    pub text: String,
    /// Acknowledges the customer's feelings.
    pub empathy: bool,
    /// Offers options to choose from.
    pub choice: bool,
    /// Inflaming phrases, folded.
    pub inflaming: Vec<String>,
    /// Vague words, folded.
    pub vague: Vec<String>,
}

/// Reads `dir/customer.tsv` (text, churn, reason, emotion, note).
pub fn read_customer(dir: &Path) -> Result<Vec<CustomerRow>, CorpusError> {
    let path = dir.join("customer.tsv");
    read_tsv(&path, 4)?.into_iter().map(|(line, f)| customer_row(&path, line, &f)).collect()
}

/// One row of a `customer.tsv` (at least four fields).
pub(crate) fn customer_row(path: &Path, line: usize, f: &[String]) -> Result<CustomerRow, CorpusError> {
    let err = |message: String| CorpusError { path: path.to_path_buf(), line, message };
    let churn = bool_field(path, line, &f[1])?;
    let reason = if f[2] == "-" { None } else { Some(f[2].parse().map_err(err)?) };
    let level: Level = f[3].parse().map_err(err)?;
    Ok(CustomerRow { text: f[0].clone(), churn, reason, level })
}

/// Reads `dir/agent.tsv` (text, empathy, choice, inflaming, vague, note).
pub fn read_agent(dir: &Path) -> Result<Vec<AgentRow>, CorpusError> {
    let path = dir.join("agent.tsv");
    read_tsv(&path, 5)?.into_iter().map(|(line, f)| agent_row(&path, line, &f)).collect()
}

/// One row of an `agent.tsv` (at least five fields).
pub(crate) fn agent_row(path: &Path, line: usize, f: &[String]) -> Result<AgentRow, CorpusError> {
    Ok(AgentRow {
        text: f[0].clone(),
        empathy: bool_field(path, line, &f[1])?,
        choice: bool_field(path, line, &f[2])?,
        inflaming: phrases(&f[3]),
        vague: phrases(&f[4]),
    })
}

/// Runs the analysis over `dir/customer.tsv` and `dir/agent.tsv`, each line
/// as the first turn of a fresh call, with the given settings (the
/// thresholds the configuration sets are the ones measured).
pub fn evaluate(dir: &Path, lex: Arc<Lexicons>, cfg: &AnalysisConfig) -> Result<EvalReport, CorpusError> {
    Ok(evaluate_rows(&read_customer(dir)?, &read_agent(dir)?, lex, cfg))
}

/// [`evaluate`] on rows already read, with the given settings.
pub fn evaluate_rows(customer: &[CustomerRow], agent: &[AgentRow], lex: Arc<Lexicons>, cfg: &AnalysisConfig) -> EvalReport {
    let mut rep = EvalReport::default();
    let mut per_reason: Vec<(Reason, Counts)> = Reason::ALL.iter().map(|r| (*r, Counts::default())).collect();
    for row in customer {
        let (churn, reason, level) = (row.churn, row.reason, row.level);
        let mut call = CallAnalysis::new(lex.clone(), cfg.clone());
        let a = call.turn(&Turn { speaker: Speaker::Customer, text: &row.text, start: 0.0, end: 3.0, duration_known: false, is_final: true, features: None });
        let got_churn = a.churn.map(|c| c.intent).unwrap_or(false);
        rep.churn.add(churn, got_churn);
        if churn != got_churn {
            rep.misses.push(Miss { label: "churn", text: row.text.clone(), expected: churn.to_string(), got: format!("{} {:?}", got_churn, a.why) });
        }
        rep.reason_total += 1;
        if a.reason == reason {
            rep.reason_correct += 1;
        } else {
            rep.misses.push(Miss {
                label: "reason",
                text: row.text.clone(),
                expected: reason.map_or("-".into(), |r| r.to_string()),
                got: a.reason.map_or("-".into(), |r| r.to_string()),
            });
        }
        for (r, c) in per_reason.iter_mut() {
            c.add(reason == Some(*r), a.reason == Some(*r));
        }
        let got_level = a.emotion.map(|e| e.level).unwrap_or(Level::Calm);
        rep.not_calm.add(level != Level::Calm, got_level != Level::Calm);
        if got_level == level {
            rep.level_correct += 1;
        }
        if (level == Level::Calm) != (got_level == Level::Calm) {
            rep.misses.push(Miss {
                label: "calm",
                text: row.text.clone(),
                expected: level.as_str().into(),
                got: format!("{} {:.2}", got_level.as_str(), a.emotion.map_or(0.0, |e| e.anger)),
            });
        }
    }
    rep.reason_per_label = per_reason;

    for row in agent {
        let (empathy, choice) = (row.empathy, row.choice);
        let mut call = CallAnalysis::new(lex.clone(), cfg.clone());
        let a = call.turn(&Turn { speaker: Speaker::Agent, text: &row.text, start: 0.0, end: 3.0, duration_known: false, is_final: true, features: None });
        let got = a.agent.unwrap_or_default();
        rep.empathy.add(empathy, got.empathy);
        rep.choice.add(choice, got.offers_choice);
        for (label, truth, pred) in [("empathy", empathy, got.empathy), ("choice", choice, got.offers_choice)] {
            if truth != pred {
                rep.misses.push(Miss { label, text: row.text.clone(), expected: truth.to_string(), got: pred.to_string() });
            }
        }
        for (label, counts, truth, pred) in
            [("inflaming", &mut rep.inflaming, &row.inflaming, &got.inflaming), ("vague", &mut rep.vague, &row.vague, &got.vague)]
        {
            // A phrase counts as found when the prediction and the label
            // contain one another (这是不可能的 / 不可能).
            let same = |a: &String, b: &String| a.contains(b.as_str()) || b.contains(a.as_str());
            for p in truth {
                if pred.iter().any(|q| same(p, q)) {
                    counts.tp += 1;
                } else {
                    counts.fn_ += 1;
                    rep.misses.push(Miss { label, text: row.text.clone(), expected: p.clone(), got: format!("{pred:?}") });
                }
            }
            for p in pred {
                if !truth.iter().any(|q| same(p, q)) {
                    counts.fp += 1;
                    rep.misses.push(Miss { label, text: row.text.clone(), expected: format!("{truth:?}"), got: p.clone() });
                }
            }
        }
    }
    rep
}
