//! A call's summary, built from the events of the call alone: what it came
//! to (retained, left), the four steps reached and missed, the agent's
//! phrasing, the cards and what the agent made of them, and a compliance
//! score with its parts. The pipeline builds it as the call runs; anyone
//! holding a call's events (the board) gets the same summary.

use crate::analysis::AnalysisConfig;
use crate::events::{CallProgress, CallSummary, CardAction, CardShown, Compliance, CompliancePart, Event, Level, Outcome, PhraseSaid, Speaker, StepState};

/// Collects a call's events into its summary.
#[derive(Debug, Clone, Default)]
pub struct SummaryBuilder {
    progress: CallProgress,
    outcome: Option<Outcome>,
    churn_intent: bool,
    churn_score_max: f32,
    anger_peak: f32,
    choice_offered: bool,
    inflaming: Vec<PhraseSaid>,
    cards: Vec<CardShown>,
    notes: u32,
    agent_talk_s: f64,
    customer_talk_s: f64,
    talk_over_s: f64,
    complaint_open_max_s: Option<f64>,
    last_t: f64,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl SummaryBuilder {
    /// An empty call.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one event of the call into account (`t`: its call time).
    pub fn observe(&mut self, t: f64, event: &Event) {
        self.last_t = self.last_t.max(t);
        match event {
            // A second-pass revision re-words talk already counted.
            Event::Segment(s) if s.is_final && s.revision == 0 => {
                let len = (s.end - s.start).max(0.0);
                match s.speaker {
                    Speaker::Agent => {
                        self.agent_talk_s += len;
                        self.talk_over_s += s.features.as_ref().map_or(0.0, |f| f.overlap_s as f64);
                    }
                    Speaker::Customer => self.customer_talk_s += len,
                }
            }
            Event::Analysis(a) if a.is_final => {
                let p = &a.call;
                if let Some(c) = a.churn {
                    self.churn_intent |= c.intent;
                    self.churn_score_max = self.churn_score_max.max(c.score);
                }
                if let Some(e) = a.emotion {
                    self.anger_peak = self.anger_peak.max(e.anger);
                }
                if let Some(ag) = &a.agent {
                    self.inflaming.extend(ag.inflaming.iter().map(|phrase| PhraseSaid { t: a.end, phrase: phrase.clone() }));
                    if ag.offers_choice && p.agent_proposed {
                        self.choice_offered = true;
                    }
                }
                // The last signal decides: an acceptance, or insisting on leaving.
                if p.customer_accepted && !self.progress.customer_accepted {
                    self.outcome = Some(Outcome::Retained);
                }
                if p.customer_insists && !self.progress.customer_insists {
                    self.outcome = Some(Outcome::Left);
                }
                if let Some(open) = p.complaint_open_s {
                    self.complaint_open_max_s = Some(self.complaint_open_max_s.map_or(open, |m: f64| m.max(open)));
                }
                self.progress = p.clone();
            }
            Event::Card(c) if c.action == CardAction::Shown => self.cards.push(CardShown { id: c.id.clone(), t, verdict: None }),
            Event::CardFeedback(f) => {
                if let Some(c) = self.cards.iter_mut().rev().find(|c| c.id == f.card_id) {
                    c.verdict = Some(f.verdict);
                }
            }
            Event::Note(_) => self.notes += 1,
            _ => {}
        }
    }

    /// The summary of a call that lasted `duration_s`.
    pub fn finish(&self, duration_s: f64, cfg: &AnalysisConfig) -> CallSummary {
        let p = &self.progress;
        let mut steps = p.steps;
        let end = round1(duration_s);
        let upset_ever = Level::of(self.anger_peak) >= Level::Annoyed;
        let retention = self.churn_intent || p.reason.is_some();
        if retention {
            steps.listen.miss(end);
        }
        if upset_ever || self.churn_intent {
            steps.empathize.miss(end);
        }
        if self.churn_intent {
            steps.propose.miss(end);
        }
        if p.customer_accepted {
            steps.confirm.miss(end);
        }
        let proposed = steps.propose.state == StepState::Done;
        let empathy_before_offer =
            proposed.then(|| steps.empathize.state == StepState::Done && steps.empathize.at_s.unwrap_or(f64::MAX) <= steps.propose.at_s.unwrap_or(0.0));
        let choice_offered = proposed.then_some(self.choice_offered);
        let confirmed = p.customer_accepted.then_some(steps.confirm.state == StepState::Done);

        let mut parts = Vec::new();
        let mut part = |name: &str, points: u32, max: u32, detail: String| {
            parts.push(CompliancePart { name: name.into(), points, max, detail });
        };
        if proposed || upset_ever || self.churn_intent {
            let ok = match empathy_before_offer {
                Some(v) => v,
                None => steps.empathize.state == StepState::Done,
            };
            part("empathy_before_offer", if ok { 25 } else { 0 }, 25, if ok { "先共情，后方案".into() } else { "未先安抚情绪".into() });
        }
        if retention || proposed {
            let ok = steps.listen.state == StepState::Done;
            part("root_cause", if ok { 15 } else { 0 }, 15, if ok { "问清了原因".into() } else { "没有问清原因就给方案".into() });
        }
        if proposed || self.churn_intent {
            let ok = choice_offered == Some(true);
            let detail = match choice_offered {
                Some(true) => "给了客户选择".into(),
                Some(false) => "方案没有给选择".into(),
                None => "客户要走，没有提出方案".into(),
            };
            part("choice_offered", if ok { 20 } else { 0 }, 20, detail);
        }
        if let Some(ok) = confirmed {
            part("confirmed", if ok { 15 } else { 0 }, 15, if ok { "确认了办理内容".into() } else { "客户接受后没有确认".into() });
        }
        let n = self.inflaming.len() as u32;
        part("no_inflaming", 15u32.saturating_sub(5 * n), 15, if n == 0 { "没有激化用语".into() } else { format!("激化用语 {n} 次") });
        if let Some(rate) = p.agent_rate_cpm {
            let lo = cfg.rate_min_cpm * (1.0 - cfg.rate_tolerance);
            let hi = cfg.rate_max_cpm * (1.0 + cfg.rate_tolerance);
            let ok = (lo..=hi).contains(&rate);
            part("speaking_rate", if ok { 10 } else { 0 }, 10, format!("语速 {rate:.0} 字/分钟（目标 {:.0}-{:.0}）", cfg.rate_min_cpm, cfg.rate_max_cpm));
        }
        let (earned, possible) = parts.iter().fold((0, 0), |(e, m), p| (e + p.points, m + p.max));
        let score = if possible == 0 { 100 } else { ((earned as f64 / possible as f64) * 100.0).round() as u32 };

        CallSummary {
            outcome: self.outcome.unwrap_or(Outcome::Unknown),
            churn_intent: self.churn_intent,
            churn_score_max: self.churn_score_max,
            reason: p.reason,
            anger_peak: self.anger_peak,
            anger_peak_level: Level::of(self.anger_peak),
            steps,
            empathy_before_offer,
            choice_offered,
            confirmed,
            inflaming: self.inflaming.clone(),
            cards: self.cards.clone(),
            notes: self.notes,
            compliance: Compliance { score, parts },
            duration_s: end,
            agent_talk_s: round1(self.agent_talk_s),
            customer_talk_s: round1(self.customer_talk_s),
            talk_over_s: round1(self.talk_over_s),
            complaint_open_max_s: self.complaint_open_max_s,
            agent_rate_cpm: p.agent_rate_cpm,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::analysis::{CallAnalysis, Lexicons, Turn};
    use crate::events::{CardEvent, CardFeedback, Reason, StepState, Verdict};

    /// Runs a dialogue through the real analysis and collects the summary.
    fn summarise(lines: &[(Speaker, &str)]) -> CallSummary {
        let mut call = CallAnalysis::new(Arc::new(Lexicons::embedded().unwrap()), AnalysisConfig::default());
        let mut b = SummaryBuilder::new();
        let mut t = 0.0;
        for (speaker, text) in lines {
            let end = t + 3.0;
            let a = call.turn(&Turn { speaker: *speaker, text, start: t, end, duration_known: false, is_final: true, features: None });
            b.observe(end, &Event::Analysis(Box::new(a)));
            t = end + 0.5;
        }
        b.finish(t, &AnalysisConfig::default())
    }

    #[test]
    fn an_offer_before_empathy_to_an_angry_customer_is_a_missed_step() {
        let s = summarise(&[
            (Speaker::Customer, "你们乱扣我话费，都第三次了，我要销户！"),
            (Speaker::Agent, "你别激动，这是我们的规定。"),
            (Speaker::Agent, "我给您申请一个话费补偿。"),
            (Speaker::Customer, "那好吧。"),
        ]);
        assert_eq!(s.reason, Some(Reason::Billing));
        assert!(s.churn_intent);
        assert_eq!(s.steps.empathize.state, StepState::Missed, "{:?}", s.steps);
        assert_eq!(s.empathy_before_offer, Some(false));
        assert_eq!(s.choice_offered, Some(false));
        assert!(s.inflaming.len() >= 2, "{:?}", s.inflaming);
        let names: Vec<&str> = s.compliance.parts.iter().filter(|p| p.points < p.max).map(|p| p.name.as_str()).collect();
        for want in ["empathy_before_offer", "choice_offered", "no_inflaming"] {
            assert!(names.contains(&want), "{want} should cost points: {:?}", s.compliance);
        }
        assert!(s.compliance.score < 50, "{:?}", s.compliance);
    }

    #[test]
    fn a_call_that_follows_the_method_scores_full_and_is_retained() {
        let s = summarise(&[
            (Speaker::Customer, "我要销户，这个号码不想用了。"),
            (Speaker::Agent, "您好，非常理解您的心情，请问是什么原因让您想要销户呢？"),
            (Speaker::Customer, "你们的网络信号太差了，在家里经常打不通电话。"),
            (Speaker::Agent, "非常抱歉给您带来不便，换成是我也会很着急。"),
            (Speaker::Agent, "我马上为您安排网络优化，另外您看是送半年流量包，还是每月减免二十元话费？"),
            (Speaker::Customer, "那就要流量包吧。"),
            (Speaker::Agent, "好的，我再跟您确认一下，工程师两天内联系您，流量包今天开通，我的工号是一零八六。"),
        ]);
        assert_eq!(s.outcome, Outcome::Retained);
        assert_eq!(s.reason, Some(Reason::Network));
        for (name, m) in s.steps.named() {
            assert_eq!(m.state, StepState::Done, "{name}: {:?}", s.steps);
        }
        assert_eq!((s.empathy_before_offer, s.choice_offered, s.confirmed), (Some(true), Some(true), Some(true)));
        assert_eq!(s.compliance.score, 100, "{:?}", s.compliance);
    }

    #[test]
    fn insisting_on_leaving_is_the_outcome_and_feedback_lands_on_its_card() {
        let mut s = summarise(&[
            (Speaker::Customer, "我要携号转网。"),
            (Speaker::Agent, "我给您申请一个流量包补偿，您看是要流量包还是话费减免？"),
            (Speaker::Customer, "不用了，我就是要转网，说什么都没用。"),
        ]);
        assert_eq!(s.outcome, Outcome::Left);
        assert_eq!(s.confirmed, None, "nothing was accepted, so nothing to confirm");
        let mut b = SummaryBuilder::new();
        let shown = |id: &str| {
            Event::Card(CardEvent {
                action: crate::events::CardAction::Shown,
                id: id.into(),
                stage: crate::events::Stage::Listen,
                title: String::new(),
                say: vec![],
                do_: vec![],
                dont: vec![],
                why: vec![],
                show_s: None,
            })
        };
        b.observe(1.0, &shown("listen.find_reason"));
        b.observe(2.0, &Event::CardFeedback(CardFeedback { card_id: "listen.find_reason".into(), verdict: Verdict::Used }));
        s = b.finish(3.0, &AnalysisConfig::default());
        assert_eq!(s.cards.len(), 1);
        assert_eq!(s.cards[0].verdict, Some(Verdict::Used));
        assert_eq!(s.outcome, Outcome::Unknown, "no accept or insist signal");
    }
}
