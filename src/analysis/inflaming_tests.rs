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

/// The built-in playbook with an inflaming model that weighs one feature
/// only (and a bias that clears everything else).
fn with_inflaming_feature(feature: &str) -> Arc<Lexicons> {
    let lex = Lexicons::embedded().expect("the built-in playbook loads");
    let model = |text: String| LogReg::from_text(&text, Path::new("test")).expect("a valid model");
    let off = || model("#classes\tno\tyes\nyes\t<bias>\t-9\nyes\tc:unused\t0.1\n".into());
    let inflaming = model(format!("#classes\tno\tyes\nyes\t<bias>\t-9\nyes\t{feature}\t18\n"));
    let models = LearnedModels::from_vec(vec![LogReg::none(), LogReg::none(), LogReg::none(), off(), off(), inflaming]);
    Arc::new(Lexicons { models, ..lex })
}

#[test]
fn a_clause_is_read_in_its_place_in_the_turn() {
    // Punctuation alone is no clause: three worded clauses, the last flagged.
    let (last, why) = inflaming(with_inflaming_feature("cx:last"), "好的，，我帮您查一下，稍等");
    assert_eq!(last, vec!["稍等".to_string()], "{why:?}");
    let (first, _) = inflaming(with_inflaming_feature("cx:first"), "好的，我帮您查一下，稍等");
    assert_eq!(first, vec!["好的".to_string()]);
    // A turn of one clause is neither first nor last of several, but its count.
    let (alone, _) = inflaming(with_inflaming_feature("cx:last"), "稍等");
    assert!(alone.is_empty(), "{alone:?}");
    let (counted, _) = inflaming(with_inflaming_feature("cx:n=1"), "稍等");
    assert_eq!(counted, vec!["稍等".to_string()]);
    let (five, _) = inflaming(with_inflaming_feature("cx:n=5+"), "一，二，三，四，五，六");
    assert_eq!(five.len(), 6, "{five:?}");
}

#[test]
fn training_reads_a_clause_in_the_same_place_as_a_call() {
    let lex = Arc::new(Lexicons { models: LearnedModels::none(), ..Lexicons::embedded().expect("the built-in playbook loads") });
    let call = CallAnalysis::new(lex, AnalysisConfig::default());
    let (_, clauses) = call.agent_features("好的，，我帮您查一下，稍等");
    let names: Vec<(String, Vec<String>)> =
        clauses.iter().map(|(text, f)| (text.clone(), f.names().iter().map(|(_, n)| n.clone()).filter(|n| n.starts_with("cx:")).collect())).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let mut want_first = vec!["cx:first".to_string(), "cx:n=3".to_string()];
    let mut got_first = names[0].1.clone();
    want_first.sort();
    got_first.sort();
    assert_eq!(got_first, want_first, "{names:?}");
    assert_eq!(names[1].1, vec!["cx:n=3".to_string()], "{names:?}");
    assert!(names[2].1.contains(&"cx:last".to_string()), "{names:?}");
}
