//! Logistic regression over named sparse features: binary (churn, empathy,
//! a choice, an inflaming clause) and multinomial (reason, emotion level).
//! Trained in Rust (AdaGrad, L2, a fixed order: the same data gives the same
//! weights), stored as text (`feature<TAB>weight` per class) so a trainer
//! can read and diff it, and able to say which features decided.

use std::path::Path;

use rustc_hash::FxHashMap;

/// A model file that cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ModelFileError {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A multinomial logistic regression (a binary one has classes 0/1 and
/// stores only the positive class's weights).
#[derive(Debug, Clone, PartialEq)]
pub struct LogReg {
    /// Class names (binary: `["no", "yes"]`).
    pub classes: Vec<String>,
    /// Per class: the bias. A binary model's class 0 scores 0.
    biases: Vec<f32>,
    /// Feature id ([`super::features::id`] of its name) -> its row in
    /// `rows` (one lookup per feature, whatever the number of classes).
    index: FxHashMap<u64, u32>,
    /// Each row's feature name (for `why` and the model file).
    names: Vec<String>,
    /// One weight per class for each indexed feature (a binary model: one,
    /// the positive class's).
    rows: Vec<f32>,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Passes over the data.
    pub epochs: usize,
    /// AdaGrad step size.
    pub rate: f32,
    /// L2 penalty per step.
    pub l2: f32,
    /// Weight of each class's examples (inverse frequency when true).
    pub balance: bool,
    /// Features seen in fewer training examples than this are ignored
    /// (a one-off n-gram only teaches the model that one line).
    pub min_count: usize,
    /// Models averaged into one (1: a single model). With `k`, each of `k`
    /// models is trained without a different `1/k` of the examples and
    /// the weights are averaged: one model's quirks (a phrase only a few
    /// lines teach, the order it saw them in) are outvoted, and it costs
    /// nothing at run time, the average being one linear model.
    pub bags: usize,
    /// Scale each feature, for each class, by how much more often it comes
    /// with that class than with the others (the absolute naive-Bayes
    /// log-count ratio, as in Wang and Manning's NBSVM): a feature that
    /// tells the classes apart starts out weighing more than one seen as
    /// often on both sides. The scales are folded into the weights, so the
    /// model and its cost at run time are those of an ordinary one.
    pub nb_scale: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self { epochs: 30, rate: 0.3, l2: 1e-4, balance: true, min_count: 1, bags: 1, nb_scale: false }
    }
}

fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum.max(f32::MIN_POSITIVE);
    }
}

/// The names of feature ids (training keeps them to write the model).
pub type FeatureNames = FxHashMap<u64, String>;

/// Per class: the bias and the weights by feature id.
type ClassWeights = Vec<(f32, FxHashMap<u64, f32>)>;

/// Per class (a binary model: the positive one only), each kept feature's
/// scale: the absolute log of how much more often, in proportion, it comes
/// with that class than with the rest (add-one smoothed).
fn nb_scales(kept: &[Vec<u64>], data: &[(Vec<u64>, usize)], k: usize, binary: bool) -> Vec<FxHashMap<u64, f32>> {
    let mut counts: Vec<FxHashMap<u64, f32>> = vec![FxHashMap::default(); k];
    let mut total: FxHashMap<u64, f32> = FxHashMap::default();
    for (x, (_, y)) in kept.iter().zip(data) {
        for f in x {
            if let Some(m) = counts.get_mut((*y).min(k - 1)) {
                *m.entry(*f).or_insert(0.0) += 1.0;
            }
            *total.entry(*f).or_insert(0.0) += 1.0;
        }
    }
    let vocabulary = total.len() as f32;
    let all: f32 = total.values().sum();
    let mut scales = vec![FxHashMap::default(); k];
    for c in usize::from(binary)..k {
        let (Some(of_c), Some(out)) = (counts.get(c), scales.get_mut(c)) else { continue };
        let in_c: f32 = of_c.values().sum();
        // Sums of the smoothed counts: with the class, and with the rest.
        let (norm_c, norm_rest) = (in_c + vocabulary, all - in_c + vocabulary);
        for (f, t) in &total {
            let n = of_c.get(f).copied().unwrap_or(0.0);
            let r = ((1.0 + n) / norm_c).ln() - ((1.0 + t - n) / norm_rest).ln();
            out.insert(*f, r.abs());
        }
    }
    scales
}

impl LogReg {
    /// Trains on `(feature ids, class index)` examples; `names` names the
    /// ids (a feature without a name is kept under its id in hex). With
    /// `opts.bags` above 1, the average of that many models, each trained
    /// without a different share of the examples.
    pub fn train(classes: &[&str], data: &[(Vec<u64>, usize)], names: &FeatureNames, opts: TrainOptions) -> Self {
        if opts.bags <= 1 || data.len() < opts.bags {
            return Self::train_one(classes, data, names, opts);
        }
        let k = opts.bags;
        // Example i is left out of bag `share(i)`: each example is missing
        // from exactly one bag, the same one every time.
        let share = |i: usize| ((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize % k;
        let single = TrainOptions { bags: 1, ..opts };
        let models: Vec<Self> = (0..k)
            .map(|b| {
                let part: Vec<(Vec<u64>, usize)> = data.iter().enumerate().filter(|(i, _)| share(*i) != b).map(|(_, e)| e.clone()).collect();
                Self::train_one(classes, &part, names, single)
            })
            .collect();
        Self::average(&models, names)
    }

    /// The model whose scores are the mean of `models`' scores (same
    /// classes): biases and weights averaged.
    fn average(models: &[Self], names: &FeatureNames) -> Self {
        let Some(first) = models.first() else {
            return Self::none();
        };
        let k = first.classes.len().max(2);
        let binary = k == 2;
        let n = models.len() as f32;
        let mut w: ClassWeights = vec![(0.0, FxHashMap::default()); k];
        for m in models {
            let (stride, skip) = (m.stride(), usize::from(binary));
            for (c, b) in m.biases.iter().enumerate() {
                if let Some(cw) = w.get_mut(c) {
                    cw.0 += b / n;
                }
            }
            for (id, row) in &m.index {
                for c in 0..stride {
                    let v = m.rows.get(*row as usize * stride + c).copied().unwrap_or(0.0);
                    if let Some((_, ws)) = w.get_mut(c + skip) {
                        *ws.entry(*id).or_insert(0.0) += v / n;
                    }
                }
            }
        }
        for (_, ws) in &mut w {
            ws.retain(|_, v| v.abs() >= 1e-3);
        }
        Self::from_class_weights(first.classes.clone(), w, names)
    }

    fn train_one(classes: &[&str], data: &[(Vec<u64>, usize)], names: &FeatureNames, opts: TrainOptions) -> Self {
        let k = classes.len().max(2);
        let binary = k == 2;
        let mut w: ClassWeights = vec![(0.0, FxHashMap::default()); k];
        let mut g2: ClassWeights = vec![(1e-6, FxHashMap::default()); k];
        let mut counts = vec![0usize; k];
        for (_, y) in data {
            counts[(*y).min(k - 1)] += 1;
        }
        let weight_of = |y: usize| -> f32 {
            if opts.balance && counts[y] > 0 {
                data.len() as f32 / (k as f32 * counts[y] as f32)
            } else {
                1.0
            }
        };
        // A fixed shuffle (so training is repeatable).
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        let model_classes: Vec<String> = classes.iter().map(|s| s.to_string()).collect();
        let mut seen: FxHashMap<u64, usize> = FxHashMap::default();
        for (x, _) in data {
            for f in x {
                *seen.entry(*f).or_insert(0) += 1;
            }
        }
        let kept: Vec<Vec<u64>> =
            data.iter().map(|(x, _)| x.iter().copied().filter(|f| seen.get(f).copied().unwrap_or(0) >= opts.min_count).collect()).collect();
        let scales = if opts.nb_scale { nb_scales(&kept, data, k, binary) } else { Vec::new() };
        let sc = |c: usize, f: &u64| scales.get(c).and_then(|m| m.get(f)).copied().unwrap_or(1.0);
        // Each example's scales, feature by feature and class by class, looked
        // up once: the passes below read them in order instead of hashing.
        let example_scales: Vec<Vec<f32>> =
            if opts.nb_scale { kept.iter().map(|x| x.iter().flat_map(|f| (0..k).map(move |c| sc(c, f))).collect()).collect() } else { Vec::new() };
        for _ in 0..opts.epochs {
            for &i in &order {
                let (x, y) = (&kept[i], &data[i].1);
                let y = (*y).min(k - 1);
                let scale_of = example_scales.get(i);
                let s = |j: usize, c: usize| scale_of.and_then(|v| v.get(j * k + c)).copied().unwrap_or(1.0);
                let mut p = vec![0.0f32; k];
                for (c, (b, ws)) in w.iter().enumerate() {
                    if binary && c == 0 {
                        continue;
                    }
                    p[c] = *b + x.iter().enumerate().map(|(j, f)| ws.get(f).copied().unwrap_or(0.0) * s(j, c)).sum::<f32>();
                }
                softmax(&mut p);
                let sw = weight_of(y);
                for c in 0..k {
                    if binary && c == 0 {
                        continue;
                    }
                    let grad = sw * (p[c] - if c == y { 1.0 } else { 0.0 });
                    let (b, ws) = &mut w[c];
                    let (gb, gs) = &mut g2[c];
                    *gb += grad * grad;
                    *b -= opts.rate * grad / gb.sqrt();
                    for (j, f) in x.iter().enumerate() {
                        let g = grad * s(j, c);
                        let acc = gs.entry(*f).or_insert(1e-6);
                        *acc += g * g;
                        let wf = ws.entry(*f).or_insert(0.0);
                        *wf -= opts.rate * (g + opts.l2 * *wf) / acc.sqrt();
                    }
                }
            }
        }
        // The scales folded into the weights: the model is an ordinary one.
        if opts.nb_scale {
            for (c, (_, ws)) in w.iter_mut().enumerate() {
                for (f, v) in ws.iter_mut() {
                    *v *= sc(c, f);
                }
            }
        }
        // Tiny weights only cost space.
        for (_, ws) in &mut w {
            ws.retain(|_, v| v.abs() >= 1e-3);
        }
        Self::from_class_weights(model_classes, w, names)
    }

    /// Packs per-class weight maps into the index and rows (rows in id order).
    fn from_class_weights(classes: Vec<String>, w: ClassWeights, names: &FeatureNames) -> Self {
        let binary = classes.len() == 2;
        let stride = if binary { 1 } else { classes.len() };
        let first = usize::from(binary);
        let mut ids: Vec<u64> = w.iter().skip(first).flat_map(|(_, ws)| ws.keys().copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut m = Self { biases: w.iter().map(|(b, _)| *b).collect(), classes, index: FxHashMap::default(), names: Vec::new(), rows: Vec::new() };
        for id in ids {
            let name = names.get(&id).cloned().unwrap_or_else(|| format!("#{id:016x}"));
            let row = m.row_for(id, name);
            for (c, (_, ws)) in w.iter().enumerate().skip(first) {
                m.rows[row * stride + c - first] = ws.get(&id).copied().unwrap_or(0.0);
            }
        }
        m
    }

    /// The row of feature `id`, added (weights 0) when new.
    fn row_for(&mut self, id: u64, name: String) -> usize {
        let stride = self.stride();
        let next = self.names.len() as u32;
        let row = *self.index.entry(id).or_insert(next);
        if row == next {
            self.names.push(name);
            self.rows.extend(std::iter::repeat_n(0.0, stride));
        }
        row as usize
    }

    fn stride(&self) -> usize {
        if self.classes.len() == 2 {
            1
        } else {
            self.classes.len()
        }
    }

    /// The weight of `row`'s feature for `class`, if the model scores that class.
    fn weight(&self, row: u32, class: usize) -> Option<f32> {
        let (stride, first) = (self.stride(), usize::from(self.classes.len() == 2));
        let c = class.checked_sub(first)?;
        (c < stride).then(|| self.rows.get(row as usize * stride + c).copied()).flatten()
    }

    /// The rows of the features (ids) the model knows, one hash lookup
    /// each: score them with [`Self::predict_known`] and name the strongest
    /// with [`Self::top_known`] without looking them up again.
    pub fn known(&self, x: &[u64]) -> Vec<u32> {
        let mut rows = Vec::with_capacity(x.len());
        rows.extend(x.iter().filter_map(|f| self.index.get(f).copied()));
        rows
    }

    /// Class probabilities for the features (ids).
    pub fn predict(&self, x: &[u64]) -> Vec<f32> {
        self.predict_known(&self.known(x))
    }

    /// Class probabilities for the known features' rows ([`Self::known`]).
    pub fn predict_known(&self, rows: &[u32]) -> Vec<f32> {
        let binary = self.classes.len() == 2;
        let (stride, first) = (self.stride(), usize::from(binary));
        let mut p: Vec<f32> = self.biases.clone();
        if binary {
            p[0] = 0.0;
        }
        for &row in rows {
            let start = row as usize * stride;
            if let Some(ws) = self.rows.get(start..start + stride) {
                for (score, w) in p[first..].iter_mut().zip(ws) {
                    *score += w;
                }
            }
        }
        softmax(&mut p);
        p
    }

    /// Probability of the positive class of a binary model.
    pub fn probability(&self, x: &[u64]) -> f32 {
        self.probability_known(&self.known(x))
    }

    /// [`Self::probability`] of the known features' rows ([`Self::known`]).
    pub fn probability_known(&self, rows: &[u32]) -> f32 {
        self.predict_known(rows).get(1).copied().unwrap_or(0.0)
    }

    /// The features that pushed towards `class` most, strongest first.
    pub fn top_features(&self, x: &[u64], class: usize, n: usize) -> Vec<(String, f32)> {
        self.top_known(&self.known(x), class, n)
    }

    /// [`Self::top_features`] of the known features' rows ([`Self::known`]).
    pub fn top_known(&self, rows: &[u32], class: usize, n: usize) -> Vec<(String, f32)> {
        // Rows while choosing; only the few kept are named (this runs on
        // every turn for `why`). Equal weights are common (five decimals in
        // the file): the name breaks the tie, so the choice is stable.
        let mut v: Vec<(u32, f32)> = rows.iter().filter_map(|&r| self.weight(r, class).map(|w| (r, w))).filter(|(_, w)| *w > 0.0).collect();
        v.sort_unstable_by_key(|(r, _)| *r);
        v.dedup_by_key(|(r, _)| *r);
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then_with(|| self.name(a.0).cmp(self.name(b.0)));
        if v.len() > n && n > 0 {
            v.select_nth_unstable_by(n - 1, order);
        }
        v.truncate(n);
        v.sort_unstable_by(order);
        v.into_iter().map(|(r, w)| (self.name(r).to_string(), w)).collect()
    }

    fn name(&self, row: u32) -> &str {
        self.names.get(row as usize).map_or("", String::as_str)
    }

    /// The model as text: `#classes` line, then `class<TAB>feature<TAB>weight`
    /// (the bias as feature `<bias>`), sorted for stable diffs.
    pub fn to_text(&self) -> String {
        let mut out = format!("#classes\t{}\n", self.classes.join("\t"));
        let mut names: Vec<(&str, u32)> = self.names.iter().enumerate().map(|(r, n)| (n.as_str(), r as u32)).collect();
        names.sort_unstable();
        for (c, b) in self.biases.iter().enumerate() {
            if self.classes.len() == 2 && c == 0 {
                continue;
            }
            out.push_str(&format!("{}\t<bias>\t{b:.5}\n", self.classes[c]));
            for (f, row) in &names {
                if let Some(w) = self.weight(*row, c).filter(|w| *w != 0.0) {
                    out.push_str(&format!("{}\t{f}\t{w:.5}\n", self.classes[c]));
                }
            }
        }
        out
    }

    /// A model without weights: the analysis keeps the rules' decisions.
    pub fn none() -> Self {
        Self { classes: vec!["no".into(), "yes".into()], biases: vec![0.0; 2], index: FxHashMap::default(), names: Vec::new(), rows: Vec::new() }
    }

    /// Reads [`LogReg::to_text`] output; `path` is only for messages. An
    /// empty file is a model without weights (the rules decide alone).
    pub fn from_text(text: &str, path: &Path) -> Result<Self, ModelFileError> {
        let err = |line: usize, message: String| ModelFileError { path: path.display().to_string(), line, message };
        if text.trim().is_empty() {
            return Ok(Self::none());
        }
        let mut lines = text.lines().enumerate();
        let (_, head) = lines.next().ok_or_else(|| err(1, "empty model file".into()))?;
        let classes: Vec<String> =
            head.strip_prefix("#classes\t").ok_or_else(|| err(1, "the first line must be `#classes<TAB>…`".into()))?.split('\t').map(str::to_string).collect();
        if classes.len() < 2 {
            return Err(err(1, "a model needs at least two classes".into()));
        }
        let binary = classes.len() == 2;
        let first = usize::from(binary);
        let mut m = Self { biases: vec![0.0; classes.len()], classes, index: FxHashMap::default(), names: Vec::new(), rows: Vec::new() };
        let stride = m.stride();
        for (i, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let mut f = line.splitn(3, '\t');
            let (Some(class), Some(feature), Some(w)) = (f.next(), f.next(), f.next()) else {
                return Err(err(i + 1, "expected class<TAB>feature<TAB>weight".into()));
            };
            let c = m.classes.iter().position(|x| x == class).ok_or_else(|| err(i + 1, format!("unknown class {class:?}")))?;
            let w: f32 = w.trim().parse().ok().filter(|v: &f32| v.is_finite()).ok_or_else(|| err(i + 1, format!("weight {w:?} is not a number")))?;
            if feature == "<bias>" {
                m.biases[c] = w;
            } else if c >= first {
                // A binary model's class 0 has no weights of its own.
                let row = m.row_for(super::features::id(feature), feature.to_string());
                m.rows[row * stride + c - first] = w;
            }
        }
        Ok(m)
    }

    /// Adds `delta` to a class's bias (moves a binary model's 0.5 point).
    pub fn shift_bias(&mut self, class: usize, delta: f32) {
        if let Some(b) = self.biases.get_mut(class) {
            *b += delta;
        }
    }

    /// Features with a weight.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True for a model without weights.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::analysis::learned::features::id;

    /// The ids of `v`, their names noted in `names`.
    fn f(v: &[&str], names: &mut FeatureNames) -> Vec<u64> {
        v.iter()
            .map(|s| {
                names.insert(id(s), s.to_string());
                id(s)
            })
            .collect()
    }

    #[test]
    fn a_bagged_model_scores_the_mean_of_its_models_and_is_repeatable() {
        let mut names = FeatureNames::default();
        let data: Vec<(Vec<u64>, usize)> = (0..40)
            .map(|i| {
                let y = i % 2;
                let words: &[&str] = if y == 1 { &["走", "换"] } else { &["修", "问"] };
                (f(&[words[i % 4 / 2], if i % 3 == 0 { "也" } else { "还" }], &mut names), y)
            })
            .collect();
        let opts = TrainOptions { bags: 4, ..TrainOptions::default() };
        let a = LogReg::train(&["no", "yes"], &data, &names, opts);
        assert_eq!(a, LogReg::train(&["no", "yes"], &data, &names, opts), "same data, same model");
        let one = LogReg::train(&["no", "yes"], &data, &names, TrainOptions::default());
        assert_ne!(a, one);
        assert!(a.probability(&f(&["走"], &mut names)) > 0.5 && a.probability(&f(&["修"], &mut names)) < 0.5);
        // Averaging two models: the logit of the average is the mean logit.
        let other = LogReg::train(&["no", "yes"], &data[..20], &names, TrainOptions::default());
        let avg = LogReg::average(&[one.clone(), other.clone()], &names);
        let logit = |p: f32| (p / (1.0 - p)).ln();
        for x in [f(&["走", "也"], &mut names), f(&["问"], &mut names), vec![]] {
            let want = (logit(one.probability(&x)) + logit(other.probability(&x))) / 2.0;
            assert!((logit(avg.probability(&x)) - want).abs() < 0.01, "{x:?}");
        }
    }

    #[test]
    fn a_binary_model_learns_and_round_trips_through_text() {
        let n = &mut FeatureNames::default();
        let data = vec![(f(&["leave", "now"], n), 1), (f(&["leave", "soon"], n), 1), (f(&["stay", "now"], n), 0), (f(&["ask"], n), 0)];
        let m = LogReg::train(&["no", "yes"], &data, n, TrainOptions::default());
        assert!(m.probability(&f(&["leave"], n)) > 0.7);
        assert!(m.probability(&f(&["stay"], n)) < 0.3);
        let text = m.to_text();
        assert!(text.contains("yes\tleave\t"), "{text}");
        let back = LogReg::from_text(&text, Path::new("m.tsv")).unwrap();
        assert!((back.probability(&f(&["leave", "x"], n)) - m.probability(&f(&["leave", "x"], n))).abs() < 1e-3);
        assert_eq!(m.top_features(&f(&["leave", "now"], n), 1, 1)[0].0, "leave");
        assert_eq!(back.top_features(&f(&["leave", "now"], n), 1, 1)[0].0, "leave");
    }

    #[test]
    fn the_strongest_features_are_chosen_by_weight_then_name_from_rows_looked_up_once() {
        // Weights as a model file has them: five decimals, so ties happen.
        let text = "#classes\tno\tyes\nyes\t<bias>\t0.1\nyes\tb\t0.5\nyes\ta\t0.5\nyes\tc\t0.9\nyes\td\t0.2\nyes\te\t-0.7\n";
        let m = LogReg::from_text(text, Path::new("m.tsv")).unwrap();
        let n = &mut FeatureNames::default();
        let x = f(&["e", "d", "b", "unknown", "c", "a"], n);
        let known = m.known(&x);
        assert_eq!(known.len(), 5, "the unknown feature has no row");
        assert_eq!(m.predict_known(&known), m.predict(&x));
        assert_eq!(m.probability_known(&known), m.probability(&x));
        let names = |top: Vec<(String, f32)>| top.into_iter().map(|(name, _)| name).collect::<Vec<_>>();
        // The tie between a and b goes to the name; e pushes the other way.
        assert_eq!(names(m.top_known(&known, 1, 3)), ["c", "a", "b"]);
        assert_eq!(names(m.top_known(&known, 1, 9)), ["c", "a", "b", "d"]);
        assert_eq!(names(m.top_features(&x, 1, 2)), ["c", "a"]);
        assert!(m.top_known(&known, 1, 0).is_empty());
    }

    #[test]
    fn a_multinomial_model_picks_the_class() {
        let n = &mut FeatureNames::default();
        let data = vec![(f(&["signal"], n), 1), (f(&["bill"], n), 2), (f(&["hello"], n), 0), (f(&["signal", "slow"], n), 1)];
        let m = LogReg::train(&["none", "network", "billing"], &data, n, TrainOptions::default());
        let p = m.predict(&f(&["signal"], n));
        assert!(p[1] > p[0] && p[1] > p[2], "{p:?}");
    }

    #[test]
    fn naive_bayes_scaling_weighs_what_tells_the_classes_apart() {
        let n = &mut FeatureNames::default();
        // 走 only with leaving, 的 on both sides as often, 问 only with staying.
        let data: Vec<(Vec<u64>, usize)> = (0..40)
            .map(|i| {
                let y = i % 2;
                let word = if y == 1 { "走" } else { "问" };
                (f(&[word, "的"], n), y)
            })
            .collect();
        let kept: Vec<Vec<u64>> = data.iter().map(|(x, _)| x.clone()).collect();
        let s = nb_scales(&kept, &data, 2, true);
        let scale = |w: &str| s[1].get(&id(w)).copied().unwrap_or(f32::NAN);
        assert!(scale("走") > 1.0 && scale("问") > 1.0, "{s:?}");
        assert!(scale("的") < 0.01, "{s:?}");
        assert!(s[0].is_empty(), "a binary model scales its positive class only");
        // Three classes: one table per class, each against the rest.
        let data3 = vec![(f(&["signal"], n), 1), (f(&["bill"], n), 2), (f(&["hello"], n), 0)];
        let kept3: Vec<Vec<u64>> = data3.iter().map(|(x, _)| x.clone()).collect();
        let s3 = nb_scales(&kept3, &data3, 3, false);
        assert!(s3.iter().all(|m| m.len() == 3), "{s3:?}");
        // For network: its own word weighs more than another class's word.
        assert!(s3[1][&id("signal")] > s3[1][&id("hello")], "{s3:?}");
        assert!(s3[2][&id("bill")] > s3[2][&id("signal")], "{s3:?}");
        // Trained with the scales, the model is an ordinary one: the scales
        // are in its weights, it decides, and it reads back the same.
        let opts = TrainOptions { nb_scale: true, ..TrainOptions::default() };
        let m = LogReg::train(&["no", "yes"], &data, n, opts);
        assert_eq!(m, LogReg::train(&["no", "yes"], &data, n, opts), "same data, same model");
        assert!(m.probability(&f(&["走", "的"], n)) > 0.8 && m.probability(&f(&["问", "的"], n)) < 0.2);
        let back = LogReg::from_text(&m.to_text(), Path::new("m.tsv")).unwrap();
        assert!((back.probability(&f(&["走"], n)) - m.probability(&f(&["走"], n))).abs() < 1e-3);
        let r = LogReg::train(&["none", "network", "billing"], &data3, n, TrainOptions { nb_scale: true, ..TrainOptions::default() });
        let p = r.predict(&f(&["signal"], n));
        assert!(p[1] > p[0] && p[1] > p[2], "{p:?}");
    }

    #[test]
    fn a_broken_model_file_names_its_line() {
        let e = LogReg::from_text("#classes\tno\tyes\nyes\tx\tnot-a-number\n", Path::new("m.tsv")).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("m.tsv:2:"));
    }
}
