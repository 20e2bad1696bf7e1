//! The inflaming clause model decides which of the rules' phrases stand.

use std::path::Path;
use std::sync::Arc;

use super::learned::{LearnedModels, LogReg};
use super::{AnalysisConfig, CallAnalysis, Lexicons, Turn};
use crate::events::Speaker;

/// The built-in playbook with agent models whose only weight is their bias:
/// every clause gets the same inflaming probability, from `bias`.
fn with_inflaming_bias(bias: f32) -> Arc<Lexicons> {
    let lex = Lexicons::embedded().expect("the built-in playbook loads");
    let model = |b: f32| LogReg::from_text(&format!("#classes\tno\tyes\nyes\t<bias>\t{b}\nyes\tc:unused\t0.1\n"), Path::new("test")).expect("a valid model");
    let models = LearnedModels::from_vec(vec![LogReg::none(), LogReg::none(), LogReg::none(), model(-9.0), model(-9.0), model(bias)]);
    Arc::new(Lexicons { models, ..lex })
}

fn inflaming(lex: Arc<Lexicons>, text: &str) -> (Vec<String>, Vec<String>) {
    let mut call = CallAnalysis::new(lex, AnalysisConfig::default());
    let a = call.turn(&Turn { speaker: Speaker::Agent, text, start: 0.0, end: 3.0, duration_known: false, is_final: true, features: None });
    (a.agent.unwrap_or_default().inflaming, a.why)
}

#[test]
fn a_rule_phrase_stands_only_where_the_model_flags_its_clause() {
    let text = "这是公司规定，我也没有办法";
    let rules = Arc::new(Lexicons { models: LearnedModels::none(), ..Lexicons::embedded().expect("the built-in playbook loads") });
    let (by_rules, _) = inflaming(rules, text);
    assert!(!by_rules.is_empty(), "the rules know this refusal: {by_rules:?}");

    // The model clears both clauses: the rules' phrases go, and why says so.
    let (cleared, why) = inflaming(with_inflaming_bias(-9.0), text);
    assert!(cleared.is_empty(), "{cleared:?}");
    assert!(why.iter().any(|w| w.contains("clears")), "{why:?}");

    // The model flags both: a clause keeps the rules' exact phrase, and a
    // clause without one is its own phrase.
    let (flagged, _) = inflaming(with_inflaming_bias(9.0), text);
    for p in &by_rules {
        assert!(flagged.contains(p), "{p} in {flagged:?}");
    }
    assert_eq!(flagged.len(), 2, "one phrase per clause: {flagged:?}");
}
