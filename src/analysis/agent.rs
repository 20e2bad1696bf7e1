//! The agent's own words (empathy, offering a choice, phrases that inflame,
//! vague words, the method's steps) and the customer's replies to a proposal.

use super::lexicon::Hit;
use super::{AgentTurn, CustomerTurn};
use crate::text::{is_han, Normalized};

fn unique_terms<'a>(hits: impl Iterator<Item = &'a Hit>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for h in hits {
        if !v.contains(&h.term) {
            v.push(h.term.clone());
        }
    }
    v
}

/// Overlapping hits are one phrase: 你先听我说 + 听我说完 -> 你先听我说完.
fn merged_phrases<'a>(text: &Normalized, hits: impl Iterator<Item = &'a Hit>) -> Vec<String> {
    let mut spans: Vec<(usize, usize)> = hits.map(|h| (h.start, h.end)).collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a < last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let mut out: Vec<String> = Vec::new();
    for (a, b) in merged {
        let p = text.slice(a, b);
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// "X还是Y" put as options: 还是 with at least two Han characters of
/// content on both sides within its clause, not 我还是/还是不 and the like.
fn has_either_or(text: &Normalized, hits: &[Hit]) -> bool {
    let blocked = |i: usize| hits.iter().any(|h| h.group == "not_choice" && h.start <= i && h.end >= i + 2);
    (0..text.len().saturating_sub(1)).any(|i| {
        if text.chars[i] != '还' || text.chars[i + 1] != '是' || blocked(i) {
            return false;
        }
        let clause = text.clause[i];
        let before = (0..i).filter(|k| text.clause[*k] == clause && is_han(text.chars[*k])).count();
        let after = (i + 2..text.len()).filter(|k| text.clause[*k] == clause && is_han(text.chars[*k])).count();
        // An option list often spans a comma: 送流量包，还是减免话费.
        let before_prev = (0..i).filter(|k| text.clause[*k] + 1 == clause && is_han(text.chars[*k])).count();
        (before >= 2 || (before == 0 && before_prev >= 2)) && after >= 2
    })
}

/// Two offers joined by 或者/也可以 in a turn that proposes something.
fn has_alternatives(text: &Normalized, hits: &[Hit]) -> bool {
    let proposals = hits.iter().filter(|h| h.group == "proposal").count();
    let s: String = text.chars.iter().collect();
    proposals >= 1 && (s.contains("或者") || s.matches("也可以").count() >= 1 && s.contains("可以"))
}

/// Scores an agent turn.
pub fn agent_turn(text: &Normalized, hits: &[Hit]) -> (AgentTurn, Vec<String>) {
    let mut why = Vec::new();
    fn of<'a>(hits: &'a [Hit], g: &'a str) -> impl Iterator<Item = &'a Hit> {
        hits.iter().filter(move |h| h.group == g)
    }
    let empathy = of(hits, "empathy").next().is_some();
    let choice_words = of(hits, "choice").next().is_some();
    let offers_choice = choice_words || has_either_or(text, hits) || has_alternatives(text, hits);
    let inflaming = merged_phrases(text, of(hits, "inflaming"));
    // 可能 in 不可能, 应该 in 你本来应该: part of a worse phrase, or negated.
    let vague = unique_terms(of(hits, "vague").filter(|v| {
        let in_inflaming = of(hits, "inflaming").any(|i| i.start <= v.start && i.end >= v.end);
        let negated = v.start > 0 && text.chars[v.start - 1] == '不';
        !in_inflaming && !negated
    }));
    for h in hits.iter().filter(|h| matches!(h.group.as_str(), "empathy" | "choice" | "inflaming")) {
        why.push(h.explain());
    }
    if offers_choice && !choice_words {
        why.push("choice:还是/或者".into());
    }
    let turn = AgentTurn {
        empathy,
        offers_choice,
        inflaming,
        vague,
        proposal: of(hits, "proposal").next().is_some(),
        probe: of(hits, "probe").next().is_some(),
        confirm: of(hits, "confirm").next().is_some(),
        restate: of(hits, "restate").next().is_some(),
    };
    (turn, why)
}

/// What a customer turn's words say about a proposal (the caller withdraws
/// an acceptance when the same words say leaving).
pub fn customer_turn(hits: &[Hit]) -> CustomerTurn {
    let any = |g: &str| hits.iter().any(|h| h.group == g);
    let insist = any("insist");
    // "还是给我办了" holds 给我办 but follows through on leaving: not an acceptance.
    let accept = any("accept") && !insist && !any("follow_through");
    CustomerTurn { accept, insist, think_it_over: any("think_it_over") }
}
