//! Context across turns: what a customer's words mean can depend on the
//! turn before. Four cases are handled:
//!
//! - **A statement completed in the next turn.** The recogniser cuts
//!   speech at pauses, so "如果下个月还这样，" and "我就换别家了" can arrive
//!   as two finals. When a customer turn follows the same speaker's
//!   previous final closely and that one was left open (no 。！？ at its
//!   end), the two are also judged as one; a churn the joined words show
//!   and the turn alone does not is the turn's.
//! - **Following through after push-back.** "那我就走了" or "那算了" means
//!   leaving only in context: the customer said earlier in the call that
//!   they want to go and the agent's last turn was an offer or a refusal.
//!   Then the turn counts as churn intent (`why`: `context:…`).
//! - **Taking up an offer.** "那你帮我办理吧" right after the agent offered
//!   something, from a customer who has not said in this call that they
//!   want to go, accepts the offer, whatever the churn model makes of 办理
//!   (a word it mostly saw next to 销户). It applies only when the turn
//!   holds an acceptance word and no leaving cue the rules know of
//!   (`why`: `context:takes_up_offer:…`).
//! - **Naming an offered option.** "好的，那就换月租低的吧" after the agent
//!   offered "月租低一点的还是流量多一点的" takes up that option, even from
//!   a customer who said earlier that they want to go: the turn holds an
//!   acceptance word, no leaving cue the rules know of, no refusal, and
//!   repeats [`OFFER_ECHO_CHARS`] characters of the agent's last offer
//!   (`why`: `context:picks_offer:…`). 换 alone reads as leaving (那就换联通吧).

use crate::text::is_han;

/// A customer final at most this long after the previous one (seconds of
/// call time, end to start) may complete it.
pub const JOIN_GAP_S: f64 = 6.0;

/// The previous final is joined only when it is at most this long
/// (characters): a long turn said what it had to say.
pub const JOIN_MAX_CHARS: usize = 60;

/// A customer turn names an offered option when it repeats this many Han
/// characters in a row of the agent's last offer (月租低, 五十八, 流量多).
pub const OFFER_ECHO_CHARS: usize = 3;

/// What the analysis remembers of the turns before.
#[derive(Debug, Clone, Default)]
pub struct TurnContext {
    /// The customer's last final turn, when it did not show churn: its text
    /// and end time.
    last_customer: Option<(String, f64)>,
    /// The agent's last final turn offered something or refused.
    agent_pushed_back: bool,
    /// The agent's last final turn offered something.
    agent_offered: bool,
    /// The Han characters of the agent's last offer in this call.
    last_offer: Vec<char>,
}

impl TurnContext {
    /// The previous customer final that a turn starting at `start_s` may
    /// complete.
    pub fn joinable(&self, start_s: f64) -> Option<&str> {
        let (text, end) = self.last_customer.as_ref()?;
        (start_s - end <= JOIN_GAP_S && start_s + 0.5 >= *end).then_some(text.as_str())
    }

    /// True when the agent's last final turn was an offer or a refusal.
    pub fn agent_pushed_back(&self) -> bool {
        self.agent_pushed_back
    }

    /// True when the agent's last final turn offered something.
    pub fn agent_offered(&self) -> bool {
        self.agent_offered
    }

    /// A customer final was analysed. Only one the recogniser left open
    /// (no 。！？ at its end) can be completed by the next, and only when it
    /// did not settle the question itself (`settled`: it showed churn, or
    /// nothing in it came near leaving).
    pub fn customer_final(&mut self, text: &str, end_s: f64, settled: bool) {
        let trimmed = text.trim_end();
        let open = !trimmed.ends_with(|c: char| "。！？.!?".contains(c));
        let short = trimmed.chars().count() <= JOIN_MAX_CHARS;
        self.last_customer = (!settled && short && open).then(|| (trimmed.to_string(), end_s));
    }

    /// An agent final was analysed (`text`: its normalised characters): an
    /// offer or an inflaming phrase (a refusal, a rule) counts as push-back,
    /// and an offer is remembered for [`Self::echoes_offer`].
    pub fn agent_final(&mut self, text: &[char], proposal: bool, inflaming: bool) {
        self.agent_pushed_back = proposal || inflaming;
        self.agent_offered = proposal;
        if proposal {
            self.last_offer = text.iter().copied().filter(|c| is_han(*c)).collect();
        }
    }

    /// The first [`OFFER_ECHO_CHARS`] Han characters in a row that `text`
    /// (a customer's words) shares with the agent's last offer in this
    /// call, if any.
    pub fn echoes_offer(&self, text: &[char]) -> Option<String> {
        let han: Vec<char> = text.iter().copied().filter(|c| is_han(*c)).collect();
        han.windows(OFFER_ECHO_CHARS).find(|w| self.last_offer.windows(OFFER_ECHO_CHARS).any(|o| o == *w)).map(|w| w.iter().collect())
    }
}

/// The previous turn and this one as one utterance: run together when the
/// recogniser left the first open (no punctuation at its end: the pause cut
/// a clause), else kept as the sentences they were.
pub fn joined(previous: &str, current: &str) -> String {
    format!("{}{}", previous.trim_end(), current.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_short_turn_is_joinable_a_late_or_long_one_is_not() {
        let mut c = TurnContext::default();
        c.customer_final("如果下个月还这样", 10.0, false);
        assert_eq!(c.joinable(12.0), Some("如果下个月还这样"));
        assert_eq!(c.joinable(10.0 + JOIN_GAP_S + 0.1), None);
        c.customer_final("我要销户", 20.0, true);
        assert_eq!(c.joinable(21.0), None, "a churn turn needs no completion");
        c.customer_final(&"网".repeat(JOIN_MAX_CHARS + 1), 30.0, false);
        assert_eq!(c.joinable(31.0), None);
        c.customer_final("我朋友转网了。", 40.0, false);
        assert_eq!(c.joinable(41.0), None, "a closed sentence is complete");
        c.customer_final("我朋友转网了，", 50.0, false);
        assert_eq!(c.joinable(51.0), Some("我朋友转网了，"));
    }

    #[test]
    fn joined_runs_an_open_clause_on_and_keeps_punctuation() {
        assert_eq!(joined("宽带我要", "拆了"), "宽带我要拆了");
        assert_eq!(joined("如果再断网，", " 我就换了"), "如果再断网，我就换了");
    }

    #[test]
    fn an_offered_option_is_named_by_three_characters_of_it() {
        let chars = |t: &str| t.chars().collect::<Vec<char>>();
        let mut c = TurnContext::default();
        assert_eq!(c.echoes_offer(&chars("那就换月租低的吧")), None, "no offer yet");
        c.agent_final(&chars("我帮你申请一个老用户专享套餐，你看是月租低一点的还是流量多一点的？"), true, false);
        assert_eq!(c.echoes_offer(&chars("好的，那就换月租低的吧")).as_deref(), Some("月租低"));
        assert_eq!(c.echoes_offer(&chars("流量多的那个吧")).as_deref(), Some("流量多"));
        assert_eq!(c.echoes_offer(&chars("那就换联通吧")), None);
        // A later turn that offers nothing keeps the offer in mind.
        c.agent_final(&chars("请问你主要考虑的是哪一点？"), false, false);
        assert_eq!(c.echoes_offer(&chars("那就月租低的")).as_deref(), Some("月租低"));
    }

    #[test]
    fn push_back_is_the_last_agent_turn_only() {
        let mut c = TurnContext::default();
        c.agent_final(&[], true, false);
        assert!(c.agent_pushed_back());
        c.agent_final(&[], false, false);
        assert!(!c.agent_pushed_back());
        c.agent_final(&[], false, true);
        assert!(c.agent_pushed_back());
    }
}

#[cfg(test)]
mod in_a_call {
    use std::sync::Arc;

    use crate::analysis::learned::LearnedModels;
    use crate::analysis::{AnalysisConfig, CallAnalysis, Lexicons, Turn};
    use crate::events::Speaker;

    fn rules_only() -> Arc<Lexicons> {
        let lex = Lexicons::embedded().expect("the built-in playbook loads");
        Arc::new(Lexicons { models: LearnedModels::none(), ..lex })
    }

    fn customer<'a>(text: &'a str, start: f64, end: f64) -> Turn<'a> {
        Turn { speaker: Speaker::Customer, text, start, end, duration_known: true, is_final: true, features: None }
    }

    #[test]
    fn a_statement_cut_in_two_by_a_pause_is_judged_whole() {
        let lex = rules_only();
        let judge = |first: &str, second: &str, gap_s: f64| {
            let mut call = CallAnalysis::new(lex.clone(), AnalysisConfig::default());
            let a = call.turn(&customer(first, 0.0, 1.5));
            assert_eq!(a.churn.map(|c| c.intent), Some(false), "{first}: {:?}", a.why);
            call.turn(&customer(second, 1.5 + gap_s, 3.5 + gap_s))
        };
        let alone = CallAnalysis::new(lex.clone(), AnalysisConfig::default()).turn(&customer("我也想转", 0.0, 2.0));
        assert_eq!(alone.churn.map(|c| c.intent), Some(false), "{:?}", alone.why);
        let b = judge("我朋友转网了", "我也想转", 0.5);
        assert_eq!(b.churn.map(|c| c.intent), Some(true), "{:?}", b.why);
        assert!(b.why.iter().any(|w| w.starts_with("context:completes")), "{:?}", b.why);
        // Too long after, or words that do not complete it: each on its own.
        assert_eq!(judge("我朋友转网了", "我也想转", super::JOIN_GAP_S + 1.0).churn.map(|c| c.intent), Some(false));
        for second in ["他说挺好", "我觉得没必要"] {
            let b = judge("我朋友转网了", second, 0.5);
            assert_eq!(b.churn.map(|c| c.intent), Some(false), "{second}: {:?}", b.why);
        }
    }
}
