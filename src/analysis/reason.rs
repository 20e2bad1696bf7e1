//! The reason behind churn, from the customer's words: weighted cue words
//! per reason; a competitor's name with price talk makes it "competitor"; a
//! cue followed by "fine" in its clause (网络没问题) does not count.

use std::collections::BTreeMap;

use super::churn::ChurnDetail;
use super::lexicon::Hit;
use super::Reason;
use crate::text::Normalized;

/// Evidence below this is not a reason: one weak cue word is not enough.
pub const MIN_REASON_SCORE: f32 = 0.5;

/// Scores per reason for one turn, and the explanation. Cues inside an
/// action word (停机不用) or in a clause about someone else, the past or
/// porting in do not count.
pub fn reason_scores(text: &Normalized, hits: &[Hit], churn: &ChurnDetail) -> (BTreeMap<Reason, f32>, Vec<String>) {
    let mut scores: BTreeMap<Reason, f32> = BTreeMap::new();
    let mut why = Vec::new();
    let fine: Vec<&Hit> = hits.iter().filter(|h| h.group == "fine").collect();
    let mut competitor_named = false;
    // A competitor named inside the action (换联通) still is the reason.
    let ignored = |h: &Hit| {
        churn.excluded_clauses.contains(&text.clause[h.start])
            || (h.group != "competitor_name" && churn.action_spans.iter().any(|&(a, b)| h.start < b && a < h.end))
    };
    for h in hits {
        if ignored(h) {
            continue;
        }
        if h.group == "competitor_name" {
            competitor_named = true;
            continue;
        }
        let Some(r) = Reason::from_group(&h.group) else { continue };
        let cancelled = fine.iter().any(|f| f.start >= h.end && f.start <= h.end + 3 && text.clause[f.start] == text.clause[h.start]);
        if cancelled {
            why.push(format!("fine:{}", h.heard));
            continue;
        }
        // Cue words of one reason add up with diminishing returns.
        let s = scores.entry(r).or_insert(0.0);
        *s = 1.0 - (1.0 - *s) * (1.0 - h.weight.min(0.99));
        if h.weight >= 0.4 {
            why.push(h.explain());
        }
    }
    // A money amount (30元, 100块) is talk about charges.
    if has_money_amount(text) {
        let s = scores.entry(Reason::Billing).or_insert(0.0);
        *s = 1.0 - (1.0 - *s) * 0.6;
        why.push("billing:amount".into());
    }
    if competitor_named {
        let price = scores.remove(&Reason::Price).unwrap_or(0.0);
        let c = scores.entry(Reason::Competitor).or_insert(0.0);
        *c = (*c).max(0.7).max(price + 0.2).min(1.0);
        why.push("competitor_named".into());
    }
    (scores, why)
}

fn has_money_amount(text: &Normalized) -> bool {
    (1..text.len()).any(|i| matches!(text.chars[i], '元' | '块') && text.chars[i - 1].is_ascii_digit())
}

/// The best-supported reason, if any reaches [`MIN_REASON_SCORE`].
pub fn best_reason(scores: &BTreeMap<Reason, f32>) -> Option<Reason> {
    scores.iter().filter(|(_, s)| **s >= MIN_REASON_SCORE).max_by(|a, b| a.1.total_cmp(b.1)).map(|(r, _)| *r)
}
