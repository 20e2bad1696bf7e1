//! Streaming analysis of a call: per customer turn churn intent, churn
//! reason and emotion; per agent turn empathy, choice, inflaming and vague
//! words; per call the state the coach needs (speaking rate, the 180 s rule).
//!
//! Everything is explainable: each result carries `why`, the cue words or
//! features that drove it. Lexicons are data (`prompts/zh-CN/lexicon/`).

pub mod agent;
pub mod churn;
pub mod context;
pub mod emotion;
pub mod eval;
pub mod learned;
pub mod lexicon;
pub mod lexicons;
pub mod reason;

#[cfg(test)]
mod inflaming_tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use crate::events::analysis::*;
pub use lexicons::Lexicons;

use crate::events::{AcousticFeatures, Speaker};
use crate::text::{spoken_units, Normalized};

/// Analysis settings (`[analysis]` in the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// Lower end of the agent's target speaking rate (seeds: 120).
    pub rate_min_cpm: f32,
    /// Upper end of the target speaking rate (seeds: 150).
    pub rate_max_cpm: f32,
    /// Tolerance around the range before a rate is flagged (0.1 = 10%).
    pub rate_tolerance: f32,
    /// An unresolved complaint this long calls for escalation (seeds: 180 s).
    pub complaint_limit_s: f64,
    /// Window for the anger trend.
    pub trend_window_s: f64,
    /// Half-life of the call-level anger when the customer calms down.
    pub anger_half_life_s: f64,
    /// The churn model's probability from which a turn counts as wanting to
    /// leave (higher: fewer false alarms, more misses).
    pub churn_threshold: f32,
    /// The inflaming-clause model's probability from which a clause is
    /// flagged.
    pub inflaming_threshold: f32,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            rate_min_cpm: 120.0,
            rate_max_cpm: 150.0,
            rate_tolerance: 0.1,
            complaint_limit_s: 180.0,
            trend_window_s: 30.0,
            anger_half_life_s: 20.0,
            churn_threshold: 0.5,
            inflaming_threshold: 0.5,
        }
    }
}

impl AnalysisConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), String> {
        if !(30.0..=600.0).contains(&self.rate_min_cpm) || self.rate_max_cpm <= self.rate_min_cpm {
            return Err("analysis.rate_min_cpm must be 30..600 and below analysis.rate_max_cpm".into());
        }
        if !(0.0..=1.0).contains(&self.rate_tolerance) {
            return Err("analysis.rate_tolerance must be within 0..1".into());
        }
        if self.complaint_limit_s < 10.0 {
            return Err("analysis.complaint_limit_s must be at least 10".into());
        }
        if !(0.05..=0.95).contains(&self.churn_threshold) || !(0.05..=0.95).contains(&self.inflaming_threshold) {
            return Err("analysis.churn_threshold and analysis.inflaming_threshold must be within 0.05..0.95".into());
        }
        if self.trend_window_s < 5.0 || self.anger_half_life_s <= 0.0 {
            return Err("analysis.trend_window_s must be >= 5 and analysis.anger_half_life_s > 0".into());
        }
        Ok(())
    }
}

/// One turn to analyse.
#[derive(Debug, Clone)]
pub struct Turn<'a> {
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said.
    pub text: &'a str,
    /// Start, seconds of call time.
    pub start: f64,
    /// End, seconds of call time.
    pub end: f64,
    /// True when `end` is measured (audio, or a transcript with time ranges);
    /// speaking rate is only computed from measured durations.
    pub duration_known: bool,
    /// False for a partial result (only churn is judged; state is not updated).
    pub is_final: bool,
    /// Acoustic features of the segment, when it came from audio.
    pub features: Option<&'a AcousticFeatures>,
}

/// Turns longer than this are analysed in pieces of at most this many
/// characters, cut at clause ends: every rule looks within a clause or a
/// few characters, so a piece decides as the whole would, and the time
/// grows with the text's length (a 400,000-character line from a broken
/// transcript takes as long per character as a normal turn).
pub const MAX_PIECE_CHARS: usize = 240;

/// Runs `detect` on the text, or on pieces of it when it is long, merging
/// the results.
fn chunked<T>(norm: &Normalized, detect: impl Fn(&Normalized) -> T, merge: impl Fn(T, T) -> T) -> T {
    if norm.len() <= MAX_PIECE_CHARS {
        return detect(norm);
    }
    let mut result: Option<T> = None;
    for piece in norm.pieces(MAX_PIECE_CHARS) {
        let d = detect(&piece);
        result = Some(match result {
            Some(r) => merge(r, d),
            None => d,
        });
    }
    result.unwrap_or_else(|| detect(norm))
}

/// What one piece of a customer's turn says.
struct CustomerDetection {
    churn: Churn,
    churn_why: Vec<String>,
    conditional: bool,
    declined: bool,
    scores: BTreeMap<Reason, f32>,
    reason_why: Vec<String>,
    text_anger: f32,
    anger_why: Vec<String>,
    reply: CustomerTurn,
    threat: bool,
    /// The follow-through phrase (那我就走了) the turn holds, if any.
    follow_through: Option<String>,
    /// The rules' churn cue is a lexicon word as written (see
    /// [`churn::ChurnDetail::firm`]).
    firm: bool,
    /// The rules noted some churn cue (a leaving word, also a negated,
    /// third-party or past one).
    rule_cues: bool,
    /// The acceptance word the turn holds (好，就这么办), if any, when it
    /// neither insists nor follows through: an acceptance unless the turn
    /// means leaving.
    accept_word: Option<String>,
}

/// What the four lexicons found in a customer's words.
struct CustomerHits {
    churn: Vec<lexicon::Hit>,
    reason: Vec<lexicon::Hit>,
    emotion: Vec<lexicon::Hit>,
    agent: Vec<lexicon::Hit>,
}

/// Below this churn probability the model overrules a loose rule cue
/// (chosen on the development set).
const CHURN_VETO: f32 = 0.3;

/// Below this probability a model overrules a word of the lexicon as
/// written: a leaving word (谁说我要转网了, 我销户那是三年前的事了), an
/// empathy word, a choice. Measured in round 13 on the 18 training
/// folders, each predicted by models trained without it: letting the
/// rules' words stand whatever the model said cost churn F1 0.932 ->
/// 0.921, empathy 0.887 -> 0.847 and choice 0.950 -> 0.933, nearly all of
/// it false alarms. Any cut-off from 0.05 to 0.3 gave figures within 0.002
/// of each other; the lowest keeps the trainer's words in charge of all
/// but the turns the model is surest about.
const MODEL_VETO: f32 = 0.05;

/// The clauses of an agent's turn that hold words, each with its text
/// trimmed of punctuation: the clauses the inflaming model reads, in
/// training and in a call alike.
fn worded_clauses(n: &Normalized) -> Vec<(Normalized, String)> {
    n.clauses()
        .into_iter()
        .filter_map(|c| {
            let text: String = c.chars.iter().collect();
            let bare = text.trim_matches(crate::text::is_punctuation).to_string();
            (!bare.is_empty()).then_some((c, bare))
        })
        .collect()
}

/// Whether the rules' finding `found` stands against `model`'s probability
/// (see [`MODEL_VETO`]); `why` says when the model overrules it.
fn rules_stand(found: bool, (model, p): (&str, f32), why: &mut Vec<String>) -> bool {
    let stands = found && p >= MODEL_VETO;
    if found && !stands {
        why.push(format!("model:{model}={p:.2} overrules the {model} words"));
    }
    stands
}

/// Most `why` entries kept from one turn.
const MAX_WHY: usize = 24;

impl CustomerDetection {
    /// Two pieces of one turn: the strongest churn cue decides, reasons add
    /// up, the angriest piece sets the anger, replies and threats count once.
    fn merge(mut self, b: Self) -> Self {
        if b.churn.score > self.churn.score {
            self.churn = b.churn;
        }
        self.churn_why.extend(b.churn_why);
        self.churn_why.truncate(MAX_WHY);
        self.conditional |= b.conditional;
        self.declined = (self.declined || b.declined) && !self.churn.intent;
        for (r, v) in b.scores {
            *self.scores.entry(r).or_insert(0.0) += v;
        }
        self.reason_why.extend(b.reason_why);
        self.reason_why.truncate(MAX_WHY);
        if b.text_anger > self.text_anger {
            self.text_anger = b.text_anger;
            self.anger_why = b.anger_why;
        }
        self.reply.accept |= b.reply.accept;
        self.reply.insist |= b.reply.insist;
        self.reply.think_it_over |= b.reply.think_it_over;
        self.threat |= b.threat;
        self.follow_through = self.follow_through.or(b.follow_through);
        self.rule_cues |= b.rule_cues;
        self.accept_word = self.accept_word.or(b.accept_word);
        self
    }
}

/// Per-call analysis state.
pub struct CallAnalysis {
    lex: Arc<Lexicons>,
    cfg: AnalysisConfig,
    progress: CallProgress,
    reason_totals: BTreeMap<Reason, f32>,
    anger_history: Vec<(f64, f32)>,
    call_anger: f32,
    last_anger_t: f64,
    arousal: [emotion::Arousal; 2],
    agent_rates: Vec<f32>,
    complaint_since: Option<f64>,
    last_level: Level,
    churn_after_proposal: u32,
    context: context::TurnContext,
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

impl CallAnalysis {
    /// A new call.
    pub fn new(lex: Arc<Lexicons>, cfg: AnalysisConfig) -> Self {
        Self {
            lex,
            cfg,
            progress: CallProgress::default(),
            reason_totals: BTreeMap::new(),
            anger_history: Vec::new(),
            call_anger: 0.0,
            last_anger_t: 0.0,
            arousal: Default::default(),
            agent_rates: Vec::new(),
            complaint_since: None,
            last_level: Level::Calm,
            churn_after_proposal: 0,
            context: context::TurnContext::default(),
        }
    }

    /// The call so far, after the latest final turn.
    pub fn progress(&self) -> &CallProgress {
        &self.progress
    }

    /// Swaps in reloaded lexicons (a trainer edited the playbook folder);
    /// the call's state stays.
    pub fn set_lexicons(&mut self, lex: Arc<Lexicons>) {
        self.lex = lex;
    }

    /// The analysis settings in use.
    pub fn config(&self) -> &AnalysisConfig {
        &self.cfg
    }

    /// Items the call's state holds (for checks that it stays bounded over
    /// a long call).
    pub fn state_size(&self) -> usize {
        self.reason_totals.len() + self.anger_history.len() + self.agent_rates.len()
    }

    /// Analyses a turn; final turns update the call state.
    pub fn turn(&mut self, turn: &Turn<'_>) -> Analysis {
        let norm = Normalized::new(turn.text);
        let mut why = Vec::new();
        let mut out = Analysis {
            speaker: turn.speaker,
            text: turn.text.to_string(),
            start: turn.start,
            end: turn.end,
            is_final: turn.is_final,
            churn: None,
            reason: None,
            emotion: None,
            agent: None,
            customer: None,
            why: Vec::new(),
            call: CallProgress::default(),
        };
        match turn.speaker {
            Speaker::Customer => self.customer_turn(turn, &norm, &mut out, &mut why),
            Speaker::Agent => self.agent_turn(turn, &norm, &mut out, &mut why),
        }
        if turn.is_final {
            let p = &mut self.progress;
            p.t = p.t.max(turn.end);
            p.complaint_open_s = self.complaint_since.map(|s| ((turn.end - s).max(0.0) * 10.0).round() / 10.0);
            p.complaint_over_limit = p.complaint_open_s.is_some_and(|v| v >= self.cfg.complaint_limit_s);
        }
        out.why = why;
        out.call = self.progress.clone();
        out
    }

    /// What the four lexicons find in a customer's words, without
    /// sound-alike guesses across common words.
    fn customer_hits(&self, norm: &Normalized) -> CustomerHits {
        let mut h = CustomerHits {
            churn: self.lex.churn.find(norm),
            reason: self.lex.reason.find(norm),
            emotion: self.lex.emotion.find(norm),
            agent: self.lex.agent.find(norm),
        };
        lexicon::drop_cross_word_guesses(norm, &mut [&mut h.churn, &mut h.reason, &mut h.emotion, &mut h.agent]);
        h
    }

    /// What the agent lexicon finds in an agent's words (a turn or a
    /// clause), without sound-alike guesses across common words.
    fn agent_hits(&self, norm: &Normalized) -> Vec<lexicon::Hit> {
        let mut h = self.lex.agent.find(norm);
        lexicon::drop_cross_word_guesses(norm, &mut [&mut h]);
        h
    }

    /// What the rules alone decide about a customer's words, and the hits
    /// they decided on.
    fn customer_rules(&self, norm: &Normalized) -> (CustomerHits, CustomerDetection) {
        let hits = self.customer_hits(norm);
        let (churn_hits, reason_hits, emotion_hits, agent_hits) = (&hits.churn, &hits.reason, &hits.emotion, &hits.agent);
        let detail = churn::churn_intent(norm, churn_hits, reason_hits);
        let (scores, reason_why) = reason::reason_scores(norm, reason_hits, &detail);
        let (text_anger, anger_why) = emotion::text_anger(norm, emotion_hits);
        let declined = detail.declined || (!detail.churn.intent && churn::declined_without_action(churn_hits));
        let rule_cues = !detail.why.is_empty();
        // What the words say about a proposal; an acceptance is withdrawn
        // in `detect_customer` once leaving is decided.
        let reply = agent::customer_turn(agent_hits);
        let accept_word = if reply.accept { agent_hits.iter().find(|h| h.group == "accept").map(|h| h.term.clone()) } else { None };
        let d = CustomerDetection {
            churn: detail.churn,
            churn_why: detail.why,
            conditional: detail.conditional,
            declined,
            scores,
            reason_why,
            text_anger,
            anger_why,
            reply,
            threat: emotion_hits.iter().any(|h| h.group == "threat"),
            follow_through: agent_hits.iter().find(|h| h.group == "follow_through").map(|h| h.term.clone()),
            firm: detail.firm,
            rule_cues,
            accept_word,
        };
        (hits, d)
    }

    /// The learned models' features of a customer's words, added to `f`.
    fn customer_model_features(norm: &Normalized, hits: &CustomerHits, d: &CustomerDetection, f: &mut learned::Features) {
        let rules = learned::RuleView {
            churn: d.churn.intent,
            conditional: d.conditional,
            declined: d.declined,
            reason: reason::best_reason(&d.scores),
            anger: d.text_anger,
        };
        let by_lexicon = [("churn", hits.churn.as_slice()), ("reason", &hits.reason), ("emotion", &hits.emotion), ("agent", &hits.agent)];
        learned::customer_features(norm, by_lexicon, &rules, f);
    }

    /// What the lexicons and the models find in a customer's words (one
    /// chunk of them).
    fn detect_customer(&self, norm: &Normalized) -> CustomerDetection {
        let (hits, mut d) = self.customer_rules(norm);
        if !self.lex.models.churn.is_empty() {
            let mut f = learned::Features::new();
            Self::customer_model_features(norm, &hits, &d, &mut f);
            self.apply_customer_models(f.ids(), &mut d);
        }
        // Leaving said in the same words is no acceptance (还是给我办了).
        d.reply.accept &= !d.churn.intent;
        d
    }

    /// The learned models decide, the rules' findings among their features.
    fn apply_customer_models(&self, f: &[u64], d: &mut CustomerDetection) {
        let m = &self.lex.models;
        // Each model looks each feature up once, for its score and its `why`.
        let known = m.churn.known(f);
        let p = m.churn.probability_known(&known);
        // The model adds what the lexicons miss. A leaving word the rules
        // found (not negated, declined or only conditional) stands unless
        // the model is sure against it: a loose cue (heard by sound,
        // 销户~小伙; words in between, 用联通~用的是联通; a weak word such
        // as 换号) below `CHURN_VETO`, a word as written only below
        // `MODEL_VETO` (a question about others, the past: 最近转网的人多不多).
        let explicit = d.churn.intent && !d.conditional && !d.declined;
        let vetoed = explicit && p < if d.firm { MODEL_VETO } else { CHURN_VETO };
        let intent = (explicit && !vetoed) || p >= self.cfg.churn_threshold;
        d.churn_why.push(format!("model:churn={p:.2} ({})", learned::explain(&m.churn.top_known(&known, 1, 4))));
        if vetoed {
            let cue = if d.firm { "the leaving word" } else { "a loose cue" };
            d.churn_why.push(format!("model:churn={p:.2} overrules {cue}"));
        }
        d.churn = Churn { intent, score: round2(p) };
        if intent {
            d.declined = false;
        }
        if !m.reason.is_empty() {
            let known = m.reason.known(f);
            let pr = m.reason.predict_known(&known);
            let (best, pb) = pr.iter().enumerate().fold((0, 0.0f32), |acc, (i, v)| if *v > acc.1 { (i, *v) } else { acc });
            d.scores.clear();
            if best > 0 && pb >= 0.35 {
                if let Some(r) = learned::REASON_CLASSES.get(best).and_then(|n| Reason::from_group(n)) {
                    d.scores.insert(r, pb);
                    d.reason_why.push(format!("model:reason={}:{pb:.2} ({})", r.as_str(), learned::explain(&m.reason.top_known(&known, best, 3))));
                }
            }
        }
        if !m.emotion.is_empty() {
            let known = m.emotion.known(f);
            let pe = m.emotion.predict_known(&known);
            d.text_anger = (pe[1] * 0.5 + pe[2] * 0.9).clamp(0.0, 1.0);
            let (level, class) = if pe[2] >= pe[1] && pe[2] >= pe[0] {
                ("angry", 2)
            } else if pe[1] >= pe[0] {
                ("annoyed", 1)
            } else {
                ("calm", 0)
            };
            if class > 0 {
                d.anger_why = vec![format!("model:{level}={:.2} ({})", pe[class], learned::explain(&m.emotion.top_known(&known, class, 3)))];
            }
        }
    }

    /// The learned models add empathy and a choice to what the rules found
    /// (and overrule the rules' words when sure against them), and decide
    /// which clauses inflame.
    fn apply_agent_models(&self, n: &Normalized, hits: &[lexicon::Hit], a: &mut AgentTurn, why: &mut Vec<String>) {
        let m = &self.lex.models;
        let mut turn_features = learned::Features::new();
        let turn = learned::agent_features(n, hits, &mut turn_features);
        let f = turn_features.ids();
        // As for churn: the models add to the rules' findings and overrule
        // them only when sure against them (below `MODEL_VETO`); inflaming
        // clauses aside, which the model decides, and kind words leading
        // into a refusal (below).
        let pe = m.empathy.probability(f);
        let pc = m.choice.probability(f);
        why.push(format!("model:empathy={pe:.2} model:choice={pc:.2}"));
        a.empathy = rules_stand(a.empathy, ("empathy", pe), why) || pe >= 0.5;
        // A choice the model finds names its alternatives (the `options` group).
        a.offers_choice = rules_stand(a.offers_choice, ("choice", pc), why) || (pc >= 0.5 && hits.iter().any(|h| h.group == "options"));
        self.add_inflaming_clauses(n, &turn, a, why);
        // Kind words that only lead into a refusal ("非常抱歉，这是规定") are
        // not empathy: when the turn also inflames, the model, which sees
        // both, decides alone.
        if a.empathy && !a.inflaming.is_empty() && pe < 0.5 {
            a.empathy = false;
            why.push(format!("model:empathy={pe:.2} overrides the empathy words: the turn refuses"));
        }
    }

    /// The inflaming model decides each clause. A flagged clause keeps the
    /// rules' exact phrase when it holds one, else the clause itself is the
    /// phrase; a rule phrase in a clause the model clears is dropped, and
    /// `why` says so. On turns the lexicon was not written from, the rules'
    /// phrases were right only about half the time (look-alikes:
    /// 这不是您的问题, 按规定可以免违约金), and deciding by the model alone
    /// lifted precision by 0.04 at the same recall (round 9).
    fn add_inflaming_clauses(&self, n: &Normalized, turn: &learned::agent_frames::TurnKinds, a: &mut AgentTurn, why: &mut Vec<String>) {
        let m = &self.lex.models;
        if m.inflaming.is_empty() {
            return;
        }
        let rule_phrases = std::mem::take(&mut a.inflaming);
        // A rule phrase no single clause holds (it crosses a clause break)
        // is not the model's to judge: it stays.
        let mut judged = vec![false; rule_phrases.len()];
        let mut f = learned::Features::new();
        let clauses = worded_clauses(n);
        for (index, (c, bare)) in clauses.iter().enumerate() {
            let bare = bare.as_str();
            let held: Vec<usize> = (0..rule_phrases.len()).filter(|&i| bare.contains(rule_phrases[i].as_str()) || rule_phrases[i].contains(bare)).collect();
            let h = self.agent_hits(c);
            f.clear();
            learned::agent_clause_features(c, &h, turn, learned::ClausePlace { index, count: clauses.len() }, &mut f);
            let known = m.inflaming.known(f.ids());
            let p = m.inflaming.probability_known(&known);
            for &i in &held {
                judged[i] = true;
            }
            // The clause's phrases: the rules' exact ones, else the clause.
            let phrases = || -> Vec<String> {
                if held.is_empty() {
                    vec![bare.to_string()]
                } else {
                    held.iter().map(|&i| rule_phrases[i].clone()).collect()
                }
            };
            if p < self.cfg.inflaming_threshold {
                if !held.is_empty() {
                    why.push(format!("model:inflaming={p:.2} clears \"{}\"", phrases().join("|")));
                }
                continue;
            }
            let phrases = phrases();
            why.push(format!("model:inflaming={p:.2} \"{}\" ({})", phrases.join("|"), learned::explain(&m.inflaming.top_known(&known, 1, 3))));
            for phrase in phrases {
                if !a.inflaming.contains(&phrase) {
                    a.inflaming.push(phrase);
                }
            }
        }
        for (phrase, judged) in rule_phrases.into_iter().zip(judged) {
            if !judged && !a.inflaming.contains(&phrase) {
                a.inflaming.push(phrase);
            }
        }
    }

    /// The learned models' features of a customer's words, named (for training).
    pub fn customer_features(&self, text: &str) -> learned::Features {
        let norm = Normalized::new(text);
        let (hits, d) = self.customer_rules(&norm);
        let mut f = learned::Features::named();
        Self::customer_model_features(&norm, &hits, &d, &mut f);
        f
    }

    /// The learned models' features of an agent's words, named: the whole
    /// turn and each clause with its text (for training).
    pub fn agent_features(&self, text: &str) -> (learned::Features, Vec<(String, learned::Features)>) {
        let norm = Normalized::new(text);
        let mut f = learned::Features::named();
        let turn = learned::agent_features(&norm, &self.agent_hits(&norm), &mut f);
        let worded = worded_clauses(&norm);
        let count = worded.len();
        let clauses = worded
            .into_iter()
            .enumerate()
            .map(|(index, (c, _))| {
                let mut f = learned::Features::named();
                learned::agent_clause_features(&c, &self.agent_hits(&c), &turn, learned::ClausePlace { index, count }, &mut f);
                (c.chars.iter().collect::<String>(), f)
            })
            .collect();
        (f, clauses)
    }

    fn customer_turn(&mut self, turn: &Turn<'_>, norm: &Normalized, out: &mut Analysis, why: &mut Vec<String>) {
        let mut d = chunked(norm, |n| self.detect_customer(n), CustomerDetection::merge);
        if d.churn.intent {
            self.take_up_offer(norm, &mut d);
        } else {
            self.apply_context(turn, &mut d);
        }
        why.extend(d.churn_why.iter().cloned());
        let churn = d.churn;
        out.churn = Some(churn);
        if !turn.is_final {
            return;
        }
        // Only words that came near leaving (a cue the rules noted, or the
        // model not sure against it) may be completed by the next turn.
        let near_leaving = churn.score >= 0.1 || d.rule_cues;
        self.context.customer_final(turn.text, turn.end, churn.intent || !near_leaving);
        why.extend(d.reason_why.iter().cloned());
        out.reason = reason::best_reason(&d.scores);
        let mut text_anger = d.text_anger;
        why.extend(d.anger_why.iter().cloned());
        if d.conditional {
            // A conditional threat to leave is a threat.
            text_anger = 1.0 - (1.0 - text_anger) * 0.6;
        }
        let (arousal, arousal_why) = match turn.features {
            Some(f) => self.arousal[1].observe(f),
            None => (0.0, Vec::new()),
        };
        why.extend(arousal_why);
        let anger = round2(emotion::combine(text_anger, arousal));
        let trend = self.trend(turn.end, anger);
        self.anger_history.push((turn.end, anger));
        // Only the trend window is ever read back.
        let horizon = turn.end - self.cfg.trend_window_s;
        self.anger_history.retain(|(t, _)| *t >= horizon);
        out.emotion = Some(Emotion { anger, level: Level::of(anger), trend });
        out.customer = Some(d.reply.clone());
        self.update_customer(turn, churn, d.declined, &d.scores, anger, trend, &d.reply, d.threat);
    }

    /// A turn that shows no churn on its own words may in context: the
    /// previous customer turn it completes, or a follow-through after the
    /// agent offered something or refused (see [`context`]).
    fn apply_context(&self, turn: &Turn<'_>, d: &mut CustomerDetection) {
        if let Some(prev) = self.context.joinable(turn.start) {
            let joined = Normalized::new(&context::joined(prev, turn.text));
            let j = chunked(&joined, |n| self.detect_customer(n), CustomerDetection::merge);
            if j.churn.intent {
                d.churn = j.churn;
                d.conditional |= j.conditional;
                d.declined = false;
                d.churn_why.push(format!("context:completes \"{prev}\""));
                d.churn_why.extend(j.churn_why);
                d.churn_why.truncate(MAX_WHY);
                return;
            }
        }
        let said_before = self.progress.churn_turns > 0;
        if let (Some(term), true, false) = (&d.follow_through, said_before && self.context.agent_pushed_back(), d.declined) {
            d.churn = Churn { intent: true, score: d.churn.score.max(self.cfg.churn_threshold) };
            d.churn_why.push(format!("context:follow_through:{term} (after an offer or a refusal, churn said before)"));
        }
    }

    /// A turn the churn model alone reads as leaving that takes up the
    /// agent's offer (an acceptance): an acceptance word, no leaving cue the rules know of,
    /// right after an offer, from a customer who has not said in this call
    /// that they want to go (see [`context`]).
    fn take_up_offer(&self, norm: &Normalized, d: &mut CustomerDetection) {
        let Some(word) = d.accept_word.clone() else {
            return;
        };
        if d.rule_cues || d.declined {
            return;
        }
        let why = if self.progress.churn_turns == 0 && self.context.agent_offered() {
            format!("context:takes_up_offer:{word} (right after an offer, no leaving said before)")
        } else if let Some(option) = self.context.echoes_offer(&norm.chars) {
            format!("context:picks_offer:{word}+{option} (names what the agent offered)")
        } else {
            return;
        };
        // Not leaving: the turn adds no risk to the call (`why` keeps the
        // model's own figure).
        d.churn = Churn { intent: false, score: 0.0 };
        d.reply.accept = true;
        d.churn_why.push(why);
    }

    fn trend(&self, now: f64, anger: f32) -> Trend {
        let window: Vec<f32> = self.anger_history.iter().filter(|(t, _)| now - *t <= self.cfg.trend_window_s).map(|(_, a)| *a).collect();
        if window.is_empty() {
            return Trend::Steady;
        }
        let mean = window.iter().sum::<f32>() / window.len() as f32;
        if anger - mean > 0.15 {
            Trend::Rising
        } else if mean - anger > 0.15 {
            Trend::Falling
        } else {
            Trend::Steady
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn update_customer(
        &mut self,
        turn: &Turn<'_>,
        churn: Churn,
        declined: bool,
        scores: &BTreeMap<Reason, f32>,
        anger: f32,
        trend: Trend,
        reply: &CustomerTurn,
        threat: bool,
    ) {
        let s = &mut self.progress;
        if churn.intent {
            s.churn_intent = true;
            s.churn_turns += 1;
            // Saying it again once after a proposal is still negotiating;
            // twice, or in so many words (说什么都, 就是要), is insisting.
            if s.agent_proposed {
                self.churn_after_proposal += 1;
                if self.churn_after_proposal >= 2 {
                    s.customer_insists = true;
                }
            }
        } else if declined {
            s.churn_intent = false;
        }
        s.churn_score = s.churn_score.max(churn.score);
        for (r, v) in scores {
            *self.reason_totals.entry(*r).or_insert(0.0) += *v;
        }
        s.reason = reason::best_reason(&self.reason_totals);

        let dt = (turn.end - self.last_anger_t).max(0.0);
        let decayed = self.call_anger * 0.5f32.powf((dt / self.cfg.anger_half_life_s) as f32);
        self.call_anger = anger.max(decayed);
        self.last_anger_t = turn.end;
        s.anger = round2(self.call_anger);
        let level = Level::of(self.call_anger);
        // A new upset (level goes up, or anger rising) asks for empathy again.
        if level > self.last_level || (trend == Trend::Rising && level >= Level::Annoyed) {
            s.agent_empathized = false;
        }
        self.last_level = level;
        s.level = Some(level);
        s.trend = Some(trend);

        if reply.insist && s.agent_proposed {
            s.customer_insists = true;
        }
        if reply.accept && s.agent_proposed {
            s.customer_accepted = true;
            s.customer_insists = false;
            self.churn_after_proposal = 0;
            s.churn_intent = false;
            self.complaint_since = None;
        }
        let complaint_reason = matches!(reason::best_reason(scores), Some(Reason::Billing | Reason::Service | Reason::Network));
        let complaining = Level::of(anger) >= Level::Annoyed || threat || complaint_reason || churn.intent;
        if complaining && !s.customer_accepted && self.complaint_since.is_none() {
            self.complaint_since = Some(turn.start);
        }
    }

    fn agent_turn(&mut self, turn: &Turn<'_>, norm: &Normalized, out: &mut Analysis, why: &mut Vec<String>) {
        let (a, a_why) = chunked(
            norm,
            |n| {
                let hits = self.agent_hits(n);
                let (mut a, mut w) = agent::agent_turn(n, &hits);
                if !self.lex.models.empathy.is_empty() {
                    self.apply_agent_models(n, &hits, &mut a, &mut w);
                }
                (a, w)
            },
            |(mut a, mut w), (b, bw)| {
                a.merge(b);
                w.extend(bw);
                (a, w)
            },
        );
        why.extend(a_why);
        out.agent = Some(a.clone());
        if !turn.is_final {
            return;
        }
        self.context.agent_final(&norm.chars, a.proposal, !a.inflaming.is_empty());
        if let Some(f) = turn.features {
            let _ = self.arousal[0].observe(f);
        }
        let s = &mut self.progress;
        let t = turn.end;
        s.agent_probed |= a.probe;
        s.agent_restated |= a.restate;
        if a.probe || a.restate {
            s.steps.listen.done(t);
        }
        if a.empathy {
            s.agent_empathized = true;
            s.steps.empathize.done(t);
        }
        // Only an offer makes a proposal; options offered with it, or after
        // it, make it a choice. A probe listing reasons is not a proposal.
        if a.proposal {
            // An offer to an upset customer before any empathy skips step 2;
            // an offer before the reason is known skips step 1.
            if s.level.is_some_and(|l| l >= Level::Annoyed) && !s.agent_empathized {
                s.steps.empathize.miss(t);
            }
            if s.reason.is_some() {
                s.steps.listen.done(t);
            } else {
                s.steps.listen.miss(t);
            }
            s.agent_proposed = true;
            s.offered_choice = a.offers_choice;
            s.steps.propose.done(t);
        } else if a.offers_choice && s.agent_proposed {
            s.offered_choice = true;
        }
        if a.confirm && s.customer_accepted {
            s.agent_confirmed = true;
            s.steps.confirm.done(t);
        }
        // Speaking rate: from the audio when there is some, else text / time.
        let rate = turn.features.and_then(|f| f.chars_per_min).or_else(|| {
            let secs = turn.end - turn.start;
            let units = spoken_units(turn.text);
            (turn.duration_known && secs >= 1.0 && units >= 6).then(|| (units as f64 / secs * 60.0) as f32)
        });
        if let Some(r) = rate {
            self.agent_rates.push(r);
            if self.agent_rates.len() > 3 {
                self.agent_rates.remove(0);
            }
            let mut v = self.agent_rates.clone();
            v.sort_by(f32::total_cmp);
            let median = v[v.len() / 2];
            s.agent_rate_cpm = Some(median.round());
            let hi = self.cfg.rate_max_cpm * (1.0 + self.cfg.rate_tolerance);
            let lo = self.cfg.rate_min_cpm * (1.0 - self.cfg.rate_tolerance);
            s.agent_rate_flag = if v.len() >= 2 && median > hi {
                Some(RateFlag::TooFast)
            } else if v.len() >= 2 && median < lo {
                Some(RateFlag::TooSlow)
            } else {
                None
            };
        }
    }
}
