//! Churn intent of a customer turn: an action word (销户, 携号转网, 拆机,
//! switching to a named competitor) that is not negated, not about someone
//! else, not in the past, not porting *in*, and not declined; conditional
//! threats (再不解决我就转网) count.

use super::lexicon::Hit;
use super::Churn;
use crate::text::Normalized;

/// Characters that may stand between a negation and the action it negates
/// (不是要销户, 没打算转网, 不会去拆机).
const NEG_FILLERS: &str = "是要想会打算准备去再急着给我把帮就真的还这个说";

/// 是不是, 要不要, 有没有: a question, not a negation.
pub fn is_question_form(text: &Normalized, n: &Hit) -> bool {
    n.start >= 1 && n.end - n.start == 1 && n.end < text.len() && text.chars[n.start - 1] == text.chars[n.end]
}

/// The churn decision with what the rest of the analysis needs from it.
#[derive(Debug, Clone)]
pub struct ChurnDetail {
    /// The decision.
    pub churn: Churn,
    /// Cue words behind it.
    pub why: Vec<String>,
    /// Spans of action words that counted (reason cues inside them do not count).
    pub action_spans: Vec<(usize, usize)>,
    /// Clauses about someone else, the past or porting in (their reason cues do not count).
    pub excluded_clauses: Vec<usize>,
    /// A conditional threat (再不解决我就转网).
    pub conditional: bool,
    /// Explicitly declined (只是问问, 暂时不销).
    pub declined: bool,
    /// The deciding cue is a leaving word of the lexicon as written (not
    /// heard by sound, not with words in between, not a weak one).
    pub firm: bool,
}

impl ChurnDetail {
    fn none(why: Vec<String>, excluded_clauses: Vec<usize>) -> Self {
        Self { churn: Churn { intent: false, score: 0.0 }, why, action_spans: Vec::new(), excluded_clauses, conditional: false, declined: false, firm: false }
    }
}

/// Decides churn intent from the turn's hits.
pub fn churn_intent(text: &Normalized, churn: &[Hit], reason: &[Hit]) -> ChurnDetail {
    let mut why = Vec::new();
    let mut excluded = Vec::new();
    let in_group = |hits: &'_ [Hit], g: &str| -> Vec<Hit> { hits.iter().filter(|h| h.group == g).cloned().collect() };
    let negations = in_group(churn, "negation");
    let third = in_group(churn, "third_party");
    let act_for = in_group(churn, "act_for");
    let past = in_group(churn, "past");
    let port_in = in_group(churn, "port_in");
    let desire = in_group(churn, "desire");
    let competitors = in_group(reason, "competitor_name");

    // Candidate actions: lexicon actions plus "switch verb + competitor".
    let mut actions: Vec<Hit> = churn.iter().filter(|h| h.group == "action" || h.group == "action_weak").cloned().collect();
    for v in churn.iter().filter(|h| h.group == "switch_verb") {
        if let Some(c) = competitors.iter().find(|c| c.start >= v.end && c.start <= v.end + 3 && text.clause[c.start] == text.clause[v.start]) {
            actions.push(Hit {
                group: "switch_carrier".into(),
                term: format!("{}{}", v.term, c.term),
                heard: text.slice(v.start, c.end),
                weight: v.weight,
                start: v.start,
                end: c.end,
                kind: v.kind.max(c.kind),
            });
        }
    }
    if actions.is_empty() {
        // A port-in phrase alone still marks its clause as not about leaving.
        for p in &port_in {
            excluded.push(text.clause[p.start]);
        }
        return ChurnDetail::none(why, excluded);
    }

    let same_clause = |a: usize, b: usize| text.clause[a.min(text.len() - 1)] == text.clause[b.min(text.len() - 1)];
    let mut valid: Vec<(Hit, f32)> = Vec::new();
    for a in &actions {
        // Negation right before the action.
        let negated = negations.iter().any(|n| {
            !is_question_form(text, n)
                && n.end <= a.start
                && a.start - n.end <= 3
                && same_clause(n.start, a.start)
                && text.chars[n.end..a.start].iter().all(|c| NEG_FILLERS.contains(*c))
                // 不想用了 is itself an action: a negation inside it does not count.
                && !(n.start >= a.start && n.end <= a.end)
        });
        if negated {
            why.push(format!("negated:{}", a.heard));
            continue;
        }
        let clause_text: String = text.chars.iter().enumerate().filter(|(i, _)| same_clause(*i, a.start)).map(|(_, c)| *c).collect();
        let includes_me = ["我和", "我跟", "我们", "我也", "我要", "我想"].iter().any(|p| clause_text.contains(p));
        let someone_else = third.iter().any(|t| {
            t.end <= a.start
                && same_clause(t.start, a.start)
                && !act_for.iter().any(|f| f.start < a.start && f.end <= t.end + 2 && same_clause(f.start, a.start))
        });
        if someone_else && !includes_me {
            why.push(format!("third_party:{}", a.heard));
            excluded.push(text.clause[a.start]);
            continue;
        }
        let in_past =
            past.iter().any(|p| p.end <= a.start && same_clause(p.start, a.start) && !text.chars[p.end..a.start].iter().any(|c| "想要打算准备".contains(*c)));
        if in_past {
            why.push(format!("past:{}", a.heard));
            excluded.push(text.clause[a.start]);
            continue;
        }
        let from_competitor = competitors.iter().any(|c| c.start >= 1 && text.chars[c.start - 1] == '从' && c.end <= a.start && same_clause(c.start, a.start));
        let porting_in = from_competitor || port_in.iter().any(|p| same_clause(p.start, a.start) && p.end + 4 >= a.start);
        if porting_in {
            why.push(format!("port_in:{}", a.heard));
            excluded.push(text.clause[a.start]);
            continue;
        }
        valid.push((a.clone(), a.weight));
    }
    if valid.is_empty() {
        return ChurnDetail::none(why, excluded);
    }
    let (best, mut score) = valid.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|(h, s)| (h.clone(), *s)).unwrap_or((actions[0].clone(), 0.0));
    why.push(format!("churn:{}", best.explain().trim_start_matches("action:").trim_start_matches("action_weak:")));

    let conditional = churn.iter().any(|h| h.group == "conditional" && h.start < best.start);
    if conditional {
        score = score.max(0.85);
        why.push("conditional_threat".into());
    }
    let boost = (desire.len() as f32 * 0.05 + churn.iter().filter(|h| h.group == "ask_how").count() as f32 * 0.05).min(0.1);
    score = (score + boost).min(0.99);
    if !conditional && churn.iter().any(|h| h.group == "just_asking") {
        score *= 0.5;
        why.push("just_asking".into());
    }
    // Declined after the last real action word: 只是问问,暂时不销.
    let last_action = valid.iter().map(|(h, _)| h.start).max().unwrap_or(0);
    let mut declined = false;
    if let Some(d) = churn.iter().find(|h| h.group == "decline" && h.start > last_action) {
        score = score.min(0.2);
        why.push(format!("declined:{}", d.heard));
        declined = true;
    }
    let score = (score * 100.0).round() / 100.0;
    ChurnDetail {
        churn: Churn { intent: score >= 0.5, score },
        why,
        action_spans: valid.iter().map(|(h, _)| (h.start, h.end)).collect(),
        excluded_clauses: excluded,
        conditional,
        declined,
        firm: best.group == "action" && best.heard == best.term,
    }
}

/// Explicit decline with no action word at all: 先不办了, 暂时不考虑.
pub fn declined_without_action(churn: &[Hit]) -> bool {
    churn.iter().any(|h| h.group == "decline")
}
