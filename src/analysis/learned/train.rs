//! Training the models (`callcoach train`): features from the labelled
//! corpora, a small grid of settings chosen on held-out predictions (each
//! training folder predicted by a model trained on the others: a folder is
//! one set of writers, so this is how phrasing nobody trained on goes, and
//! it is thousands of turns where the development set is a couple of
//! hundred), the chosen settings then bagged (the average of [`BAGS`]
//! models, kept where its held-out score beats one model's), each binary
//! model's threshold chosen there too and folded into
//! its bias (so 0.5 is the operating point and `analysis.*_threshold` moves
//! it), the development set measured with models trained without it, then
//! the final fit on training and development data together.
//!
//! The blind sets are never read here: a folder named `blind…` is refused.

use std::collections::BTreeSet;
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
    /// The folder (its index) each customer turn came from.
    customer_set: Vec<u16>,
    /// The folder each agent turn came from.
    agent_set: Vec<u16>,
    /// The folders, in the order read.
    dirs: Vec<PathBuf>,
}

impl Corpus {
    /// Reads `customer.tsv` and `agent.tsv` of each folder.
    pub fn read(dirs: &[PathBuf]) -> Result<Self, TrainError> {
        let mut c = Self::default();
        for d in dirs {
            if is_blind(d) {
                return Err(TrainError::Blind(d.clone()));
            }
            let set = u16::try_from(c.sets()).unwrap_or(u16::MAX);
            let (customer, agent) = (read_customer(d)?, read_agent(d)?);
            c.customer_set.extend(std::iter::repeat_n(set, customer.len()));
            c.agent_set.extend(std::iter::repeat_n(set, agent.len()));
            c.customer.extend(customer);
            c.agent.extend(agent);
            c.dirs.push(d.clone());
        }
        Ok(c)
    }

    /// Number of folders read.
    fn sets(&self) -> usize {
        self.customer_set.iter().chain(&self.agent_set).max().map_or(0, |m| usize::from(*m) + 1)
    }

    fn join(&self, other: &Corpus) -> Corpus {
        let shift = u16::try_from(self.sets()).unwrap_or(u16::MAX);
        Corpus {
            customer: [self.customer.clone(), other.customer.clone()].concat(),
            agent: [self.agent.clone(), other.agent.clone()].concat(),
            customer_set: self.customer_set.iter().copied().chain(other.customer_set.iter().map(|s| s.saturating_add(shift))).collect(),
            agent_set: self.agent_set.iter().copied().chain(other.agent_set.iter().map(|s| s.saturating_add(shift))).collect(),
            dirs: [self.dirs.clone(), other.dirs.clone()].concat(),
        }
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
    /// The folder of each churn, reason and emotion example.
    customer_set: Vec<u16>,
    /// The folder of each empathy and choice example.
    agent_set: Vec<u16>,
    /// The folder of each inflaming example.
    clause_set: Vec<u16>,
    /// The text of each inflaming example.
    clause_text: Vec<String>,
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
    let mut ex = Examples {
        churn: vec![],
        reason: vec![],
        emotion: vec![],
        empathy: vec![],
        choice: vec![],
        inflaming: vec![],
        customer_set: c.customer_set.clone(),
        agent_set: c.agent_set.clone(),
        clause_set: vec![],
        clause_text: vec![],
        names: FeatureNames::default(),
    };
    for row in &c.customer {
        let f = ids(&rules.customer_features(&row.text), &mut ex.names);
        let reason = row.reason.and_then(|r| REASON_CLASSES.iter().position(|n| *n == r.as_str())).unwrap_or(0);
        ex.churn.push((f.clone(), row.churn as usize));
        ex.reason.push((f.clone(), reason));
        ex.emotion.push((f, level_index(row.level)));
    }
    for (row, set) in c.agent.iter().zip(&c.agent_set) {
        let (f, clauses) = rules.agent_features(&row.text);
        let f = ids(&f, &mut ex.names);
        ex.empathy.push((f.clone(), row.empathy as usize));
        ex.choice.push((f, row.choice as usize));
        for (text, cf) in clauses {
            let cf = ids(&cf, &mut ex.names);
            ex.inflaming.push((cf, clause_inflames(&text, &row.inflaming) as usize));
            ex.clause_set.push(*set);
            ex.clause_text.push(text);
        }
    }
    ex
}

/// Models averaged into each final one ([`TrainOptions::bags`]): on the
/// training folders' held-out predictions, five lifted churn F1 from
/// 0.888 to 0.907 (three: 0.904, eight: 0.908).
pub const BAGS: usize = 5;

/// The settings tried (single models; the chosen one is then bagged).
fn grid() -> Vec<TrainOptions> {
    let mut v = Vec::new();
    for balance in [true, false] {
        for epochs in [10, 30] {
            for l2 in [1e-5, 1e-4, 1e-3] {
                for min_count in [1, 2] {
                    v.push(TrainOptions { epochs, rate: 0.3, l2, balance, min_count, bags: 1 });
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

/// The threshold with the best F1 over `(probability, positive)` pairs
/// (ties: the one nearest 0.5), and that F1. Only 0.2..0.8 is tried: a
/// cut-off at the extremes fits the turns it was chosen on, not the next
/// call (a choice model cut at 0.05 took a single offer for a choice).
fn best_threshold(p: &[(f32, bool)]) -> (f32, f64) {
    let mut best = (0.5f32, -1.0f64);
    for i in 4..=16 {
        let t = i as f32 * 0.05;
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for (pi, y) in p {
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

/// How a model's predictions are scored: class probabilities per example
/// and the examples -> the threshold chosen (binary models) and the score.
type Scorer = fn(&[Vec<f32>], &Data) -> (Option<f32>, f64);

/// A binary model's decision at threshold `t`.
fn decide_binary(p: &[f32], t: f32) -> usize {
    usize::from(p.get(1).copied().unwrap_or(0.0) >= t)
}

/// The reason the analysis names from the reason model (0: none; a named
/// reason needs 0.35).
fn decide_reason(p: &[f32]) -> usize {
    let (best, pb) = p.iter().enumerate().fold((0, 0.0f32), |acc, (i, v)| if *v > acc.1 { (i, *v) } else { acc });
    if best > 0 && pb >= 0.35 {
        best
    } else {
        0
    }
}

/// Not calm (1) or calm (0), as the analysis decides from the emotion model.
fn decide_not_calm(p: &[f32]) -> usize {
    usize::from(p.len() > 2 && (p[1] * 0.5 + p[2] * 0.9) >= 0.3)
}

/// Binary models: F1 at the best threshold.
fn score_binary(pred: &[Vec<f32>], data: &Data) -> (Option<f32>, f64) {
    let p: Vec<(f32, bool)> = pred.iter().zip(data).map(|(p, (_, y))| (p.get(1).copied().unwrap_or(0.0), *y == 1)).collect();
    let (t, s) = best_threshold(&p);
    (Some(t), s)
}

/// Reason accuracy as the analysis decides.
fn score_reason(pred: &[Vec<f32>], data: &Data) -> (Option<f32>, f64) {
    let ok = pred.iter().zip(data).filter(|(p, (_, y))| decide_reason(p) == *y).count();
    (None, ok as f64 / data.len().max(1) as f64)
}

/// Calm-vs-not accuracy as the analysis decides.
fn score_calm(pred: &[Vec<f32>], data: &Data) -> (Option<f32>, f64) {
    let ok = pred.iter().zip(data).filter(|(p, (_, y))| decide_not_calm(p) == usize::from(*y > 0)).count();
    (None, ok as f64 / data.len().max(1) as f64)
}

/// The folds for held-out prediction: each training folder is one (its
/// writers' phrasing unseen by the model that predicts it, as a blind
/// set's is); with fewer than three folders, every fifth example.
fn folds(sets: &[u16]) -> Vec<u16> {
    let distinct: BTreeSet<u16> = sets.iter().copied().collect();
    if distinct.len() >= 3 {
        sets.to_vec()
    } else {
        (0..sets.len()).map(|i| (i % 5) as u16).collect()
    }
}

/// Every example predicted by a model of `opts` trained without its fold.
fn held_out_predictions(classes: &[&str], data: &Data, folds: &[u16], names: &FeatureNames, opts: TrainOptions) -> Vec<Vec<f32>> {
    let mut pred = vec![Vec::new(); data.len()];
    let distinct: BTreeSet<u16> = folds.iter().copied().collect();
    for fold in distinct {
        let rest: Data = data.iter().zip(folds).filter(|(_, f)| **f != fold).map(|(ex, _)| ex.clone()).collect();
        let m = LogReg::train(classes, &rest, names, opts);
        for ((x, _), (p, f)) in data.iter().zip(pred.iter_mut().zip(folds)) {
            if *f == fold {
                *p = m.predict(x);
            }
        }
    }
    pred
}

/// One model's choice.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Which model.
    pub model: &'static str,
    /// The settings chosen.
    pub options: TrainOptions,
    /// The threshold chosen (binary models), folded into the bias.
    pub threshold: Option<f32>,
    /// The score at that choice (F1 or accuracy), every training example
    /// predicted by a (bagged) model trained without its folder.
    pub held_out_score: f64,
    /// The same for a single model at these settings (what bagging adds).
    pub held_out_single_score: f64,
    /// Examples trained on in the final fit.
    pub examples: usize,
    /// Features with a weight in the final model.
    pub features: usize,
    /// The training turns (clauses, for inflaming) that the held-out
    /// predictions at this choice got wrong: where the writers disagree
    /// with each other, or phrasing one folder alone teaches.
    pub held_out_misses: Vec<HeldOutMiss>,
}

/// A training turn its held-out model got wrong.
#[derive(Debug, Clone)]
pub struct HeldOutMiss {
    /// The folder it is labelled in.
    pub folder: PathBuf,
    /// The turn (or clause).
    pub text: String,
    /// Its label.
    pub expected: &'static str,
    /// What the model trained without its folder decided.
    pub got: &'static str,
    /// That model's probability of the label's class.
    pub probability_of_label: f32,
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
    /// The score of a single model at these settings (before bagging).
    single_score: f64,
    /// The held-out predictions at this choice.
    pred: Vec<Vec<f32>>,
}

/// The grid's settings are tried on every core, each scored on held-out
/// predictions (see [`folds`]); the first best in grid order wins, so the
/// choice does not depend on the number of cores.
fn pick(classes: &[&str], data: &Data, sets: &[u16], names: &FeatureNames, score: Scorer) -> Pick {
    let settings = grid();
    let folds = folds(sets);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, settings.len().max(1));
    let per_thread = settings.len().div_ceil(threads).max(1);
    let tried: Vec<Pick> = std::thread::scope(|scope| {
        let handles: Vec<_> = settings
            .chunks(per_thread)
            .map(|chunk| {
                let folds = &folds;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|opts| {
                            let pred = held_out_predictions(classes, data, folds, names, *opts);
                            let (threshold, s) = score(&pred, data);
                            Pick { opts: *opts, threshold, score: s, single_score: s, pred }
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
    let Some(single) = best else {
        return Pick { opts: TrainOptions::default(), threshold: None, score: 0.0, single_score: 0.0, pred: vec![] };
    };
    // The chosen settings, bagged: its own held-out predictions give the
    // threshold (an average of models is less sure of itself than one)
    // and the score; kept only where it beats the single model.
    let opts = TrainOptions { bags: BAGS, ..single.opts };
    let pred = held_out_predictions(classes, data, &folds, names, opts);
    let (threshold, s) = score(&pred, data);
    if s > single.score + 1e-9 {
        Pick { opts, threshold, score: s, single_score: single.score, pred }
    } else {
        single
    }
}

/// The examples `p`'s held-out predictions got wrong, decided as the
/// analysis decides; `texts` gives each example's text and folder.
fn held_out_misses(model: &str, p: &Pick, data: &Data, texts: &[(&str, &Path)]) -> Vec<HeldOutMiss> {
    const BINARY: [&str; 2] = ["no", "yes"];
    const CALM: [&str; 2] = ["calm", "not calm"];
    let mut v = Vec::new();
    for ((pred, (_, y)), (text, folder)) in p.pred.iter().zip(data).zip(texts) {
        let (truth, got, names): (usize, usize, &[&'static str]) = match model {
            "reason" => (*y, decide_reason(pred), &REASON_CLASSES),
            "emotion" => (usize::from(*y > 0), decide_not_calm(pred), &CALM),
            _ => (*y, decide_binary(pred, p.threshold.unwrap_or(0.5)), &BINARY),
        };
        if truth != got {
            let calm = pred.first().copied().unwrap_or(0.0);
            let probability_of_label = match model {
                "emotion" if truth == 0 => calm,
                "emotion" => 1.0 - calm,
                _ => pred.get(*y).copied().unwrap_or(0.0),
            };
            v.push(HeldOutMiss {
                folder: folder.to_path_buf(),
                text: (*text).to_string(),
                expected: names.get(truth).copied().unwrap_or("?"),
                got: names.get(got).copied().unwrap_or("?"),
                probability_of_label,
            });
        }
    }
    v
}

fn fit(classes: &[&str], data: &Data, names: &FeatureNames, p: &Pick) -> LogReg {
    let mut m = LogReg::train(classes, data, names, p.opts);
    if let Some(t) = p.threshold {
        m.shift_bias(1, -(t / (1.0 - t)).ln());
    }
    m
}

/// Chooses each model's settings and threshold on held-out predictions
/// over the training folders (each folder predicted by a model trained on
/// the others), measures models trained on `train` alone on `dev`, and fits
/// the final models on both (or, with `dev_in_final` false, on `train`
/// alone: models whose development figures stay honest).
pub fn train(lex: &Lexicons, train: &Corpus, dev: &Corpus, dev_in_final: bool) -> Result<TrainReport, TrainError> {
    if train.customer.is_empty() {
        return Err(TrainError::Empty("customer"));
    }
    if train.agent.is_empty() {
        return Err(TrainError::Empty("agent"));
    }
    let rules_only = Lexicons { models: LearnedModels::none(), ..lex.clone() };
    let rules = CallAnalysis::new(Arc::new(rules_only.clone()), AnalysisConfig::default());
    let tr = examples(&rules, train);
    let binary = ["no", "yes"];
    let n = &tr.names;
    let picks: [(&'static str, &[&str], &Data, Pick); 6] = [
        ("churn", &binary, &tr.churn, pick(&binary, &tr.churn, &tr.customer_set, n, score_binary)),
        ("reason", &REASON_CLASSES, &tr.reason, pick(&REASON_CLASSES, &tr.reason, &tr.customer_set, n, score_reason)),
        ("emotion", &LEVEL_CLASSES, &tr.emotion, pick(&LEVEL_CLASSES, &tr.emotion, &tr.customer_set, n, score_calm)),
        ("empathy", &binary, &tr.empathy, pick(&binary, &tr.empathy, &tr.agent_set, n, score_binary)),
        ("choice", &binary, &tr.choice, pick(&binary, &tr.choice, &tr.agent_set, n, score_binary)),
        ("inflaming", &binary, &tr.inflaming, pick(&binary, &tr.inflaming, &tr.clause_set, n, score_binary)),
    ];
    // The development figures of the models that have not seen it.
    let train_only: Vec<LogReg> = picks.iter().map(|(_, classes, t, p)| fit(classes, t, n, p)).collect();
    let dev_models = LearnedModels::from_vec(train_only);
    let cfg = AnalysisConfig::default();
    let dev_report = evaluate_rows(&dev.customer, &dev.agent, Arc::new(Lexicons { models: dev_models, ..lex.clone() }), &cfg);
    let dev_rules_only = evaluate_rows(&dev.customer, &dev.agent, Arc::new(rules_only), &cfg);
    // The final models: training and development data together.
    let all = if dev_in_final { examples(&rules, &train.join(dev)) } else { examples(&rules, train) };
    let all_data = [&all.churn, &all.reason, &all.emotion, &all.empathy, &all.choice, &all.inflaming];
    let folder = |s: &u16| train.dirs.get(usize::from(*s)).map_or(Path::new("?"), PathBuf::as_path);
    let customer_texts: Vec<(&str, &Path)> = train.customer.iter().zip(&tr.customer_set).map(|(r, s)| (r.text.as_str(), folder(s))).collect();
    let agent_texts: Vec<(&str, &Path)> = train.agent.iter().zip(&tr.agent_set).map(|(r, s)| (r.text.as_str(), folder(s))).collect();
    let clause_texts: Vec<(&str, &Path)> = tr.clause_text.iter().zip(&tr.clause_set).map(|(t, s)| (t.as_str(), folder(s))).collect();
    let texts = [&customer_texts, &customer_texts, &customer_texts, &agent_texts, &agent_texts, &clause_texts];
    let mut finals = Vec::new();
    let mut choices = Vec::new();
    for (((model, classes, train_data, p), data), texts) in picks.iter().zip(all_data).zip(texts) {
        let m = fit(classes, data, &all.names, p);
        choices.push(Choice {
            model,
            options: p.opts,
            threshold: p.threshold,
            held_out_score: p.score,
            held_out_single_score: p.single_score,
            examples: data.len(),
            features: m.len(),
            held_out_misses: held_out_misses(model, p, train_data, texts),
        });
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
        let pred: Vec<Vec<f32>> = data.iter().map(|(x, _)| m.predict(x)).collect();
        let (t, s) = score_binary(&pred, &data);
        assert!((s - 1.0).abs() < 1e-9, "{t:?} {s}");
    }

    #[test]
    fn a_held_out_miss_is_a_line_decided_otherwise_than_labelled() {
        let f = |s: &str| vec![super::super::features::id(s)];
        let data: Data = vec![(f("a"), 1), (f("b"), 0), (f("c"), 1)];
        let pick = Pick {
            opts: TrainOptions::default(),
            threshold: Some(0.4),
            score: 0.0,
            single_score: 0.0,
            pred: vec![vec![0.3, 0.7], vec![0.5, 0.5], vec![0.7, 0.3]],
        };
        let dir = Path::new("x");
        let texts = [("走了", dir), ("不走", dir), ("换了", dir)];
        let m = held_out_misses("churn", &pick, &data, &texts);
        // 0.5 >= 0.4 is a yes for a no line, 0.3 < 0.4 a no for a yes line.
        let got: Vec<(&str, &str, &str)> = m.iter().map(|m| (m.text.as_str(), m.expected, m.got)).collect();
        assert_eq!(got, vec![("不走", "no", "yes"), ("换了", "yes", "no")]);
        assert!((m[1].probability_of_label - 0.3).abs() < 1e-6);
        // Emotion: calm against not calm, as the analysis decides it.
        let pick =
            Pick { opts: TrainOptions::default(), threshold: None, score: 0.0, single_score: 0.0, pred: vec![vec![0.9, 0.05, 0.05], vec![0.2, 0.7, 0.1]] };
        let data: Data = vec![(f("a"), 2), (f("b"), 1)];
        let m = held_out_misses("emotion", &pick, &data, &texts[..2]);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].expected, m[0].got), ("not calm", "calm"));
        assert!((m[0].probability_of_label - 0.1).abs() < 1e-6);
    }

    #[test]
    fn each_folder_is_predicted_by_a_model_that_never_saw_it() {
        // Folder 0 teaches a -> yes, folder 1 teaches b -> yes, folder 2
        // both: a model without folder 2 still knows both, but folder 0
        // predicted without itself has never seen a.
        let f = |s: &str| vec![super::super::features::id(s)];
        let data: Data = vec![(f("a"), 1), (f("z"), 0), (f("b"), 1), (f("z"), 0), (f("c"), 1), (f("z"), 0)];
        let sets = [0u16, 0, 1, 1, 2, 2];
        assert_eq!(folds(&sets), sets.to_vec());
        let pred = held_out_predictions(&["no", "yes"], &data, &folds(&sets), &FeatureNames::default(), TrainOptions::default());
        assert!(pred.iter().all(|p| p.len() == 2));
        // "a" was only in folder 0: unseen when folder 0 is predicted.
        assert!(pred[0][1] < 0.6, "{pred:?}");
        // With two folders or fewer, every fifth example is a fold.
        assert_eq!(folds(&[0, 0, 1, 1, 1, 1]), vec![0, 1, 2, 3, 4, 0]);
    }
}
