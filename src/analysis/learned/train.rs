//! Training the models (`callcoach train`): features from the labelled
//! corpora, a small grid of settings chosen on the development set, each
//! binary model's threshold chosen there too and folded into its bias (so
//! 0.5 is the tuned operating point and `analysis.*_threshold` moves it),
//! then the final fit on training and development data together.
//!
//! The blind sets are never read here: a folder named `blind…` is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{FeatureNames, Features, LearnedModels, LogReg, TrainOptions, LEVEL_CLASSES, REASON_CLASSES};
use crate::analysis::eval::{evaluate_rows, read_agent, read_customer, AgentRow, CorpusError, CustomerRow, EvalReport};
use crate::analysis::{AnalysisConfig, CallAnalysis, Level, Lexicons};

/// Why training cannot run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A corpus file is wrong.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// The blind set was passed in.
    #[error("{0}: the blind set is for the final measurement only and is never trained or tuned on")]
    Blind(PathBuf),
    /// Nothing to learn from.
    #[error("no labelled {0} turns in the training folders")]
    Empty(&'static str),
}

/// The labelled turns of some folders.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Customer turns.
    pub customer: Vec<CustomerRow>,
    /// Agent turns.
    pub agent: Vec<AgentRow>,
}

impl Corpus {
    /// Reads `customer.tsv` and `agent.tsv` of each folder.
    pub fn read(dirs: &[PathBuf]) -> Result<Self, TrainError> {
        let mut c = Self::default();
        for d in dirs {
            if is_blind(d) {
                return Err(TrainError::Blind(d.clone()));
            }
            c.customer.extend(read_customer(d)?);
            c.agent.extend(read_agent(d)?);
        }
        Ok(c)
    }

    fn join(&self, other: &Corpus) -> Corpus {
        Corpus { customer: [self.customer.clone(), other.customer.clone()].concat(), agent: [self.agent.clone(), other.agent.clone()].concat() }
    }
}

type Data = Vec<(Vec<u64>, usize)>;

/// Training examples per model.
struct Examples {
    churn: Data,
    reason: Data,
    emotion: Data,
    empathy: Data,
    choice: Data,
    /// One example per clause.
    inflaming: Data,
    /// The names of every feature id seen.
    names: FeatureNames,
}

/// The ids of `f`, its names noted in `names`.
fn ids(f: &Features, names: &mut FeatureNames) -> Vec<u64> {
    for (id, name) in f.names() {
        names.entry(*id).or_insert_with(|| name.clone());
    }
    f.ids().to_vec()
}

fn level_index(l: Level) -> usize {
    match l {
        Level::Calm => 0,
        Level::Annoyed => 1,
        Level::Angry => 2,
    }
}

/// A clause is inflaming when it holds a labelled phrase (or is part of one).
fn clause_inflames(clause: &str, phrases: &[String]) -> bool {
    let bare: String = clause.chars().filter(|c| !c.is_ascii_punctuation() && !"，。！？、；：".contains(*c)).collect();
    phrases.iter().any(|p| bare.contains(p.as_str()) || (bare.chars().count() >= 2 && p.contains(bare.as_str())))
}

fn examples(rules: &CallAnalysis, c: &Corpus) -> Examples {
    let mut ex =
        Examples { churn: vec![], reason: vec![], emotion: vec![], empathy: vec![], choice: vec![], inflaming: vec![], names: FeatureNames::default() };
    for row in &c.customer {
        let f = ids(&rules.customer_features(&row.text), &mut ex.names);
        let reason = row.reason.and_then(|r| REASON_CLASSES.iter().position(|n| *n == r.as_str())).unwrap_or(0);
        ex.churn.push((f.clone(), row.churn as usize));
        ex.reason.push((f.clone(), reason));
        ex.emotion.push((f, level_index(row.level)));
    }
    for row in &c.agent {
        let (f, clauses) = rules.agent_features(&row.text);
        let f = ids(&f, &mut ex.names);
        ex.empathy.push((f.clone(), row.empathy as usize));
        ex.choice.push((f, row.choice as usize));
        for (text, cf) in clauses {
            let cf = ids(&cf, &mut ex.names);
            ex.inflaming.push((cf, clause_inflames(&text, &row.inflaming) as usize));
        }
    }
    ex
}

/// The settings tried.
fn grid() -> Vec<TrainOptions> {
    let mut v = Vec::new();
    for balance in [true, false] {
        for epochs in [10, 30] {
            for l2 in [1e-5, 1e-4, 1e-3] {
                for min_count in [1, 2] {
                    v.push(TrainOptions { epochs, rate: 0.3, l2, balance, min_count });
                }
            }
        }
    }
    v
}

fn f1(tp: usize, fp: usize, fn_: usize) -> f64 {
    if tp == 0 {
        0.0
    } else {
        2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
    }
}

/// The threshold with the best F1 (ties: the one nearest 0.5), and that F1.
/// Only 0.2..0.8 is tried: a cut-off at the extremes fits the few
/// development turns, not the next call (a choice model cut at 0.05 took a
/// single offer for a choice).
fn best_threshold(m: &LogReg, dev: &Data) -> (f32, f64) {
    let p: Vec<(f32, bool)> = dev.iter().map(|(x, y)| (m.probability(x), *y == 1)).collect();
    let mut best = (0.5f32, -1.0f64);
    for i in 4..=16 {
        let t = i as f32 * 0.05;
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for (pi, y) in &p {
            match (*pi >= t, *y) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
        }
        let s = f1(tp, fp, fn_);
        if s > best.1 + 1e-9 || ((s - best.1).abs() < 1e-9 && (t - 0.5).abs() < (best.0 - 0.5).abs()) {
            best = (t, s);
        }
    }
    best
}

/// Reason accuracy as the analysis decides (a named reason needs 0.35).
fn reason_accuracy(m: &LogReg, dev: &Data) -> f64 {
    let ok = dev
        .iter()
        .filter(|(x, y)| {
            let p = m.predict(x);
            let (best, pb) = p.iter().enumerate().fold((0, 0.0f32), |acc, (i, v)| if *v > acc.1 { (i, *v) } else { acc });
            let got = if best > 0 && pb >= 0.35 { best } else { 0 };
            got == *y
        })
        .count();
    ok as f64 / dev.len().max(1) as f64
}

/// F1 of a binary model at its own 0.5 point (the threshold folded in).
fn f1_at_half(m: &LogReg, dev: &Data) -> f64 {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (x, y) in dev {
        match (m.probability(x) >= 0.5, *y == 1) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            _ => {}
        }
    }
    f1(tp, fp, fn_)
}

/// The mean score over `k` folds of `data` (every k-th example a fold),
/// each scored by a model with `p`'s settings trained on the other folds.
fn cross_validate(classes: &[&str], data: &Data, names: &FeatureNames, p: &Pick, k: usize, score: fn(&LogReg, &Data) -> f64) -> f64 {
    let k = k.clamp(2, data.len().max(2));
    let scores: Vec<f64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..k)
            .map(|fold| {
                scope.spawn(move || {
                    let (mut rest, mut held): (Data, Data) = (Vec::new(), Vec::new());
                    for (i, ex) in data.iter().enumerate() {
                        if i % k == fold {
                            held.push(ex.clone())
                        } else {
                            rest.push(ex.clone())
                        }
                    }
                    score(&fit(classes, &rest, names, p), &held)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    scores.iter().sum::<f64>() / scores.len().max(1) as f64
}

/// Calm-vs-not accuracy as the analysis decides.
fn calm_accuracy(m: &LogReg, dev: &Data) -> f64 {
    let ok = dev
        .iter()
        .filter(|(x, y)| {
            let p = m.predict(x);
            ((p[1] * 0.5 + p[2] * 0.9) >= 0.3) == (*y > 0)
        })
        .count();
    ok as f64 / dev.len().max(1) as f64
}

/// One model's choice on the development set.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Which model.
    pub model: &'static str,
    /// The settings chosen.
    pub options: TrainOptions,
    /// The threshold chosen (binary models), folded into the bias.
    pub threshold: Option<f32>,
    /// The development score at that choice (F1 or accuracy).
    pub dev_score: f64,
    /// The same score, cross-validated on the training data (`k` folds,
    /// each scored by a model of these settings trained on the others), when asked for.
    pub cv_score: Option<f64>,
    /// Examples trained on in the final fit.
    pub examples: usize,
    /// Features with a weight in the final model.
    pub features: usize,
}

/// What training did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// Per model.
    pub choices: Vec<Choice>,
    /// The development set measured end to end with the models trained on
    /// the training folders only (the final models have seen it).
    pub dev: EvalReport,
    /// The same development set with the rules alone.
    pub dev_rules_only: EvalReport,
    /// The final models.
    pub models: LearnedModels,
}

struct Pick {
    opts: TrainOptions,
    threshold: Option<f32>,
    score: f64,
}

/// The grid's settings are tried on every core; the first best in grid
/// order wins, so the choice does not depend on the number of cores.
fn pick(classes: &[&str], train: &Data, names: &FeatureNames, dev: &Data, score: impl Fn(&LogReg, &Data) -> (Option<f32>, f64) + Sync) -> Pick {
    let settings = grid();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, settings.len().max(1));
    let per_thread = settings.len().div_ceil(threads).max(1);
    let tried: Vec<Pick> = std::thread::scope(|scope| {
        let handles: Vec<_> = settings
            .chunks(per_thread)
            .map(|chunk| {
                let score = &score;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|opts| {
                            let m = LogReg::train(classes, train, names, *opts);
                            let (threshold, s) = score(&m, dev);
                            Pick { opts: *opts, threshold, score: s }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // A worker that panicked has tried nothing.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut best: Option<Pick> = None;
    for p in tried {
        if best.as_ref().is_none_or(|b| p.score > b.score + 1e-9) {
            best = Some(p);
        }
    }
    best.unwrap_or(Pick { opts: TrainOptions::default(), threshold: None, score: 0.0 })
}

fn fit(classes: &[&str], data: &Data, names: &FeatureNames, p: &Pick) -> LogReg {
    let mut m = LogReg::train(classes, data, names, p.opts);
    if let Some(t) = p.threshold {
        m.shift_bias(1, -(t / (1.0 - t)).ln());
    }
    m
}

/// Trains on `train`, chooses on `dev`, and fits the final models on both
/// (or, with `dev_in_final` false, on `train` alone: models whose
/// development figures stay honest).
pub fn train(lex: &Lexicons, train: &Corpus, dev: &Corpus, dev_in_final: bool, cv_folds: usize) -> Result<TrainReport, TrainError> {
    if train.customer.is_empty() {
        return Err(TrainError::Empty("customer"));
    }
    if train.agent.is_empty() {
        return Err(TrainError::Empty("agent"));
    }
    let rules_only = Lexicons { models: LearnedModels::none(), ..lex.clone() };
    let rules = CallAnalysis::new(Arc::new(rules_only.clone()), AnalysisConfig::default());
    let (tr, dv) = (examples(&rules, train), examples(&rules, dev));
    let binary = ["no", "yes"];
    let threshold = |m: &LogReg, d: &Data| {
        let (t, s) = best_threshold(m, d);
        (Some(t), s)
    };
    let picks: [(&'static str, &[&str], &Data, &Data, Pick); 6] = [
        ("churn", &binary, &tr.churn, &dv.churn, pick(&binary, &tr.churn, &tr.names, &dv.churn, threshold)),
        ("reason", &REASON_CLASSES, &tr.reason, &dv.reason, pick(&REASON_CLASSES, &tr.reason, &tr.names, &dv.reason, |m, d| (None, reason_accuracy(m, d)))),
        ("emotion", &LEVEL_CLASSES, &tr.emotion, &dv.emotion, pick(&LEVEL_CLASSES, &tr.emotion, &tr.names, &dv.emotion, |m, d| (None, calm_accuracy(m, d)))),
        ("empathy", &binary, &tr.empathy, &dv.empathy, pick(&binary, &tr.empathy, &tr.names, &dv.empathy, threshold)),
        ("choice", &binary, &tr.choice, &dv.choice, pick(&binary, &tr.choice, &tr.names, &dv.choice, threshold)),
        ("inflaming", &binary, &tr.inflaming, &dv.inflaming, pick(&binary, &tr.inflaming, &tr.names, &dv.inflaming, threshold)),
    ];
    // The development figures of the models that have not seen it.
    let train_only: Vec<LogReg> = picks.iter().map(|(_, classes, t, _, p)| fit(classes, t, &tr.names, p)).collect();
    let dev_models = LearnedModels::from_vec(train_only);
    let cfg = AnalysisConfig::default();
    let dev_report = evaluate_rows(&dev.customer, &dev.agent, Arc::new(Lexicons { models: dev_models, ..lex.clone() }), &cfg);
    let dev_rules_only = evaluate_rows(&dev.customer, &dev.agent, Arc::new(rules_only), &cfg);
    // The final models: training and development data together.
    let all = if dev_in_final { examples(&rules, &train.join(dev)) } else { examples(&rules, train) };
    let all_data = [&all.churn, &all.reason, &all.emotion, &all.empathy, &all.choice, &all.inflaming];
    let mut finals = Vec::new();
    let mut choices = Vec::new();
    let scorers: [fn(&LogReg, &Data) -> f64; 6] = [f1_at_half, reason_accuracy, calm_accuracy, f1_at_half, f1_at_half, f1_at_half];
    for (((model, classes, t, _, p), data), scorer) in picks.iter().zip(all_data).zip(scorers) {
        let m = fit(classes, data, &all.names, p);
        let cv_score = (cv_folds > 1).then(|| cross_validate(classes, t, &tr.names, p, cv_folds, scorer));
        choices.push(Choice { model, options: p.opts, threshold: p.threshold, dev_score: p.score, cv_score, examples: data.len(), features: m.len() });
        finals.push(m);
    }
    Ok(TrainReport { choices, dev: dev_report, dev_rules_only, models: LearnedModels::from_vec(finals) })
}

/// A blind set (a folder named `blind…`): measured, never trained or tuned on.
pub fn is_blind(dir: &Path) -> bool {
    dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("blind"))
}

/// The default folders: every labelled set under `root` but `dev` (tuned
/// on) and the blind sets (measured once).
pub fn default_train_dirs(root: &Path) -> Vec<PathBuf> {
    let mut v = vec![root.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(root) {
        let mut subs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("customer.tsv").is_file() && !is_blind(p) && p.file_name().is_some_and(|n| n != "dev"))
            .collect();
        subs.sort();
        v.extend(subs);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clause_is_labelled_by_the_phrases_it_holds() {
        let p = vec!["这是规定".to_string()];
        assert!(clause_inflames("这是规定，", &p));
        assert!(clause_inflames("规定", &p));
        assert!(!clause_inflames("我帮您查一下", &p));
    }

    #[test]
    fn the_blind_set_is_refused() {
        let e = Corpus::read(&[PathBuf::from("tests/corpus/blind2")]).unwrap_err();
        assert!(matches!(e, TrainError::Blind(_)), "{e}");
        let dirs = default_train_dirs(Path::new("tests/corpus"));
        assert!(dirs.iter().all(|d| !is_blind(d) && !d.ends_with("dev")), "{dirs:?}");
        assert!(dirs.iter().any(|d| d.ends_with("train")), "{dirs:?}");
    }

    #[test]
    fn the_threshold_with_the_best_f1_is_found() {
        let f = |s: &str| vec![super::super::features::id(s)];
        let data: Data = vec![(f("a"), 1), (f("a"), 1), (f("b"), 0), (f("b"), 0)];
        let m = LogReg::train(&["no", "yes"], &data, &FeatureNames::default(), TrainOptions::default());
        let (_, s) = best_threshold(&m, &data);
        assert!((s - 1.0).abs() < 1e-9);
    }
}
