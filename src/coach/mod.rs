//! Coaching: the playbook (cards as data), the four-step tracker, and the
//! choice of the one card the agent should see now, with why.

pub mod playbook;
pub mod tracker;
pub mod watch;

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use crate::events::{AlertEvent, AlertKind, CardAction, CardEvent};
pub use playbook::{Card, Playbook, PlaybookError, PlaybookErrors, Stage};

use crate::analysis::{Analysis, CallProgress, Level, RateFlag, Reason, Trend};
use crate::events::Speaker;
use crate::text::Normalized;

/// What the coach emits after a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum CoachEvent {
    /// A card appears or goes away.
    Card(CardEvent),
    /// An alert.
    Alert(AlertEvent),
}

/// The card reference added to `analyze` output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardRef {
    /// Card id.
    pub id: String,
    /// Step.
    pub stage: Stage,
    /// Title.
    pub title: String,
    /// Why it was chosen.
    pub why: Vec<String>,
}

struct Active {
    id: String,
    since: f64,
    agent_turns: u32,
}

/// Per-call coach.
pub struct Coach {
    playbook: Arc<Playbook>,
    main: Option<Active>,
    alert: Option<Active>,
    last_shown: HashMap<String, f64>,
    raised: HashMap<AlertKind, f64>,
    last_customer_text: String,
}

/// Chinese label of a reason for `{reason}` in card text.
pub fn reason_label(r: Option<Reason>) -> &'static str {
    match r {
        Some(Reason::Network) => "网络信号",
        Some(Reason::Price) => "资费",
        Some(Reason::Competitor) => "其他运营商的优惠",
        Some(Reason::Service) => "服务",
        Some(Reason::Billing) => "扣费",
        Some(Reason::Plan) => "套餐不合适",
        Some(Reason::Relocation) => "搬迁",
        None => "这件事",
    }
}

/// The folded form (simplified, 您 -> 你, half-width) words are compared in.
fn folded(text: &str) -> String {
    Normalized::new(text).chars.iter().collect()
}

/// Does the (already folded) turn contain one of the words?
fn says_any(folded_turn: &str, words: &[String]) -> bool {
    words.iter().any(|w| {
        let w = folded(w);
        !w.is_empty() && folded_turn.contains(&w)
    })
}

impl Coach {
    /// A coach for one call.
    pub fn new(playbook: Arc<Playbook>) -> Self {
        Self { playbook, main: None, alert: None, last_shown: HashMap::new(), raised: HashMap::new(), last_customer_text: String::new() }
    }

    /// Swaps in a reloaded playbook. A card on screen that the new playbook
    /// no longer has (removed or renamed) is cleared, so no screen keeps
    /// showing it; the others stay.
    pub fn set_playbook(&mut self, pb: Arc<Playbook>) -> Vec<CoachEvent> {
        let old = std::mem::replace(&mut self.playbook, pb);
        let mut out = Vec::new();
        for slot in [&mut self.main, &mut self.alert] {
            let gone = slot.as_ref().is_some_and(|a| self.playbook.card(&a.id).is_none());
            if gone {
                if let Some(a) = slot.take() {
                    let (stage, title) = old.card(&a.id).map_or((Stage::Alert, String::new()), |c| (c.stage, c.title.clone()));
                    out.push(CoachEvent::Card(CardEvent {
                        action: CardAction::Cleared,
                        id: a.id,
                        stage,
                        title,
                        say: Vec::new(),
                        do_: Vec::new(),
                        dont: Vec::new(),
                        why: vec!["the reloaded playbook no longer has this card".into()],
                        show_s: None,
                    }));
                }
            }
        }
        out
    }

    /// Items the coach's state holds (bounded by the playbook, not the call).
    pub fn state_size(&self) -> usize {
        self.last_shown.len() + self.raised.len()
    }

    /// Ids of the cards on screen now (main, alert).
    pub fn active_ids(&self) -> (Option<&str>, Option<&str>) {
        (self.main.as_ref().map(|a| a.id.as_str()), self.alert.as_ref().map(|a| a.id.as_str()))
    }

    /// Checks a card's state conditions against the call.
    fn state_holds(c: &Card, s: &CallProgress) -> Result<Vec<String>, ()> {
        let w = &c.when;
        let mut why = Vec::new();
        let mut check_bool = |name: &str, want: Option<bool>, got: bool| -> Result<(), ()> {
            match want {
                Some(v) if v != got => Err(()),
                Some(v) => {
                    why.push(format!("{name}={v}"));
                    Ok(())
                }
                None => Ok(()),
            }
        };
        check_bool("churn_intent", w.churn_intent, s.churn_intent)?;
        check_bool("agent_probed", w.agent_probed, s.agent_probed)?;
        check_bool("agent_restated", w.agent_restated, s.agent_restated)?;
        check_bool("agent_empathized", w.agent_empathized, s.agent_empathized)?;
        check_bool("agent_proposed", w.agent_proposed, s.agent_proposed)?;
        check_bool("offered_choice", w.offered_choice, s.offered_choice)?;
        check_bool("customer_accepted", w.customer_accepted, s.customer_accepted)?;
        check_bool("agent_confirmed", w.agent_confirmed, s.agent_confirmed)?;
        check_bool("customer_insists", w.customer_insists, s.customer_insists)?;
        let level = s.level.unwrap_or(Level::Calm);
        if let Some(l) = w.anger_at_least {
            if level < l {
                return Err(());
            }
            why.push(format!("anger={}", level.as_str()));
        }
        if let Some(l) = w.anger_below {
            if level >= l {
                return Err(());
            }
        }
        if let Some(t) = w.trend {
            if s.trend != Some(t) {
                return Err(());
            }
            why.push(format!("trend={t:?}").to_lowercase());
        }
        if let Some(r) = &w.reason {
            if !r.matches(s.reason) {
                return Err(());
            }
            why.push(format!("reason={}", s.reason.map_or("none", |r| r.as_str())));
        }
        if let Some(st) = w.stage {
            if tracker::current_stage(s) != Some(st) {
                return Err(());
            }
            why.push(format!("stage={}", st.as_str()));
        }
        if let Some(n) = w.churn_turns_at_least {
            if s.churn_turns < n {
                return Err(());
            }
        }
        if let Some(want) = w.complaint_over_limit {
            if s.complaint_over_limit != want {
                return Err(());
            }
            if want {
                why.push(format!("complaint_open_s={:.0} over the limit", s.complaint_open_s.unwrap_or(0.0)));
            }
        }
        if let Some(limit) = w.complaint_open_s_at_least {
            match s.complaint_open_s {
                Some(open) if open >= limit => why.push(format!("complaint_open_s={open:.0}")),
                _ => return Err(()),
            }
        }
        if w.elapsed_s_at_least.is_some_and(|v| s.t < v) || w.elapsed_s_below.is_some_and(|v| s.t >= v) {
            return Err(());
        }
        if let Some(rate) = w.agent_rate {
            if s.agent_rate_flag != Some(rate) {
                return Err(());
            }
            why.push(format!("agent_rate={} ({} cpm)", rate.as_str(), s.agent_rate_cpm.unwrap_or(0.0)));
        }
        if c.stage == Stage::Propose && tracker::proposal_blocked(s) {
            return Err(());
        }
        Ok(why)
    }

    /// Checks a card's trigger conditions against the turn just analysed.
    fn trigger_holds(c: &Card, a: &Analysis, folded_turn: &str) -> Result<Vec<String>, ()> {
        let w = &c.when;
        let mut why = Vec::new();
        if let Some(v) = w.think_it_over {
            let got = a.speaker == Speaker::Customer && a.customer.as_ref().is_some_and(|t| t.think_it_over);
            if got != v {
                return Err(());
            }
            why.push("think_it_over".into());
        }
        if let Some(v) = w.inflaming {
            let got = a.agent.as_ref().is_some_and(|t| !t.inflaming.is_empty());
            if got != v {
                return Err(());
            }
            if let Some(t) = &a.agent {
                why.push(format!("inflaming={}", t.inflaming.join("|")));
            }
        }
        if let Some(words) = &w.customer_says {
            if a.speaker != Speaker::Customer || !says_any(folded_turn, words) {
                return Err(());
            }
            why.push("customer_says".into());
        }
        if let Some(words) = &w.agent_says {
            if a.speaker != Speaker::Agent || !says_any(folded_turn, words) {
                return Err(());
            }
            why.push("agent_says".into());
        }
        Ok(why)
    }

    fn render(&self, c: &Card, a: &Analysis, action: CardAction, why: Vec<String>) -> CardEvent {
        let inflaming = a.agent.as_ref().map(|t| t.inflaming.join("、")).unwrap_or_default();
        let fill = |s: &String| s.replace("{reason}", reason_label(a.call.reason)).replace("{inflaming}", &inflaming);
        let shown = action == CardAction::Shown;
        CardEvent {
            action,
            id: c.id.clone(),
            stage: c.stage,
            title: fill(&c.title),
            say: if shown { c.say.iter().map(fill).collect() } else { Vec::new() },
            do_: if shown { c.do_.clone() } else { Vec::new() },
            dont: if shown { c.dont.clone() } else { Vec::new() },
            why,
            show_s: (c.stage == Stage::Alert).then_some(c.show_s),
        }
    }

    fn cleared(&self, id: &str, why: &str) -> Option<CoachEvent> {
        let c = self.playbook.card(id)?;
        Some(CoachEvent::Card(CardEvent {
            action: CardAction::Cleared,
            id: c.id.clone(),
            stage: c.stage,
            title: c.title.clone(),
            say: Vec::new(),
            do_: Vec::new(),
            dont: Vec::new(),
            why: vec![why.to_string()],
            show_s: None,
        }))
    }

    /// Expires alerts whose time is up. Call with the current call time.
    pub fn tick(&mut self, t: f64) -> Vec<CoachEvent> {
        let mut out = Vec::new();
        if let Some(al) = &self.alert {
            let show_s = self.playbook.card(&al.id).map_or(0.0, |c| c.show_s);
            if t - al.since >= show_s {
                let id = al.id.clone();
                self.alert = None;
                out.extend(self.cleared(&id, "expired"));
            }
        }
        out
    }

    /// Handles one analysed turn: at most one main card and one alert card
    /// change; call-level alerts are raised once each.
    pub fn on_analysis(&mut self, a: &Analysis) -> Vec<CoachEvent> {
        let t = a.end;
        let mut out = self.tick(t);
        // A partial customer turn with churn intent may bring the listen card
        // up before the sentence ends; other partials change nothing.
        let mut summary = a.call.clone();
        if !a.is_final {
            match a.churn {
                Some(c) if c.intent && a.speaker == Speaker::Customer => summary.churn_intent = true,
                _ => return out,
            }
        }
        if a.speaker == Speaker::Customer && a.is_final {
            self.last_customer_text = a.text.clone();
        }
        out.extend(self.raise_alerts(a, &summary));
        let turn_why = format!("turn: {}@{:.1}s {:?}", a.speaker, a.start, a.text);
        // Folded once per turn, not once per card.
        let folded_turn = folded(&a.text);

        // Alert slot.
        let mut best_alert: Option<(&Card, Vec<String>)> = None;
        for c in self.playbook.cards.iter().filter(|c| c.stage == Stage::Alert) {
            if self.in_cooldown(c, t) {
                continue;
            }
            let (Ok(mut w1), Ok(w2)) = (Self::state_holds(c, &summary), Self::trigger_holds(c, a, &folded_turn)) else { continue };
            w1.extend(w2);
            if best_alert.as_ref().is_none_or(|(b, _)| c.priority > b.priority) {
                best_alert = Some((c, w1));
            }
        }
        if let Some((c, mut why)) = best_alert {
            let replace = self.alert.as_ref().is_none_or(|cur| cur.id != c.id);
            if replace {
                if let Some(prev) = self.alert.take() {
                    out.extend(self.cleared(&prev.id, "replaced"));
                }
                why.insert(0, turn_why.clone());
                let ev = self.render(c, a, CardAction::Shown, why);
                self.alert = Some(Active { id: c.id.clone(), since: t, agent_turns: 0 });
                self.last_shown.insert(c.id.clone(), t);
                out.push(CoachEvent::Card(ev));
            }
        }

        // Main slot: keep the current card while its state holds and
        // nothing of higher priority applies.
        if a.speaker == Speaker::Agent && a.is_final {
            if let Some(m) = self.main.as_mut() {
                m.agent_turns += 1;
            }
        }
        let current = self.main.as_ref().and_then(|m| self.playbook.card(&m.id).map(|c| (c.clone(), m.agent_turns)));
        let current_holds =
            current.as_ref().is_some_and(|(c, turns)| Self::state_holds(c, &summary).is_ok() && c.clear_after_agent_turns.is_none_or(|n| *turns < n));
        let mut best: Option<(&Card, Vec<String>)> = None;
        for c in self.playbook.cards.iter().filter(|c| c.stage != Stage::Alert) {
            if current.as_ref().is_some_and(|(cur, _)| cur.id == c.id) || self.in_cooldown(c, t) {
                continue;
            }
            let (Ok(mut w1), Ok(w2)) = (Self::state_holds(c, &summary), Self::trigger_holds(c, a, &folded_turn)) else { continue };
            w1.extend(w2);
            if best.as_ref().is_none_or(|(b, _)| c.priority > b.priority) {
                best = Some((c, w1));
            }
        }
        let switch_to = match (&current, current_holds, best) {
            (Some((cur, _)), true, Some((c, why))) if c.priority > cur.priority => Some((c.clone(), why)),
            (Some(_), true, _) => None,
            (_, _, Some((c, why))) => Some((c.clone(), why)),
            (Some((cur, _)), false, None) => {
                let id = cur.id.clone();
                self.main = None;
                out.extend(self.cleared(&id, "condition no longer holds"));
                None
            }
            (None, _, None) => None,
        };
        if let Some((c, mut why)) = switch_to {
            if let Some(prev) = self.main.take() {
                out.extend(self.cleared(&prev.id, &format!("replaced by {}", c.id)));
            }
            why.insert(0, turn_why);
            let ev = self.render(&c, a, CardAction::Shown, why);
            self.main = Some(Active { id: c.id.clone(), since: t, agent_turns: 0 });
            self.last_shown.insert(c.id.clone(), t);
            out.push(CoachEvent::Card(ev));
        }
        out
    }

    fn in_cooldown(&self, c: &Card, t: f64) -> bool {
        self.last_shown.get(&c.id).is_some_and(|at| t - at < c.cooldown_s)
    }

    fn raise_alerts(&mut self, a: &Analysis, s: &CallProgress) -> Vec<CoachEvent> {
        let mut out = Vec::new();
        let t = a.end;
        let mut raise = |kind: AlertKind, speaker: Speaker, text: String, repeat_after_s: f64, raised: &mut HashMap<AlertKind, f64>| {
            if raised.get(&kind).is_some_and(|at| t - at < repeat_after_s) {
                return;
            }
            raised.insert(kind, t);
            out.push(CoachEvent::Alert(AlertEvent { kind, speaker, text }));
        };
        let raised = &mut self.raised;
        if a.speaker == Speaker::Customer && a.churn.is_some_and(|c| c.intent) {
            raise(AlertKind::ChurnIntent, Speaker::Customer, a.text.clone(), f64::INFINITY, raised);
        }
        if a.is_final && a.emotion.is_some_and(|e| e.level == Level::Angry) {
            raise(AlertKind::Angry, Speaker::Customer, a.text.clone(), 60.0, raised);
        } else if a.is_final && a.emotion.is_some_and(|e| e.trend == Trend::Rising && e.level >= Level::Annoyed) {
            raise(AlertKind::AngerRising, Speaker::Customer, a.text.clone(), 60.0, raised);
        }
        if let Some(ag) = &a.agent {
            if !ag.inflaming.is_empty() {
                raise(AlertKind::Inflaming, Speaker::Agent, ag.inflaming.join("、"), 0.0, raised);
            }
        }
        if a.is_final && s.complaint_over_limit && !s.customer_accepted {
            raise(
                AlertKind::ComplaintLimit,
                Speaker::Customer,
                format!("未解决的投诉已持续 {:.0} 秒", s.complaint_open_s.unwrap_or(0.0)),
                f64::INFINITY,
                raised,
            );
        }
        if a.speaker == Speaker::Agent && s.agent_rate_flag == Some(RateFlag::TooFast) {
            raise(AlertKind::SpeakingRate, Speaker::Agent, format!("语速 {:.0} 字/分钟", s.agent_rate_cpm.unwrap_or(0.0)), 120.0, raised);
        }
        out
    }

    /// The card this turn brought up, for `analyze` output: the first card
    /// shown among `events` (an alert card before a main one).
    pub fn shown_ref(events: &[CoachEvent]) -> Option<CardRef> {
        let shown: Vec<&CardEvent> = events
            .iter()
            .filter_map(|e| match e {
                CoachEvent::Card(c) if c.action == CardAction::Shown => Some(c),
                _ => None,
            })
            .collect();
        shown.iter().find(|c| c.stage == Stage::Alert).or_else(|| shown.first()).map(|c| CardRef {
            id: c.id.clone(),
            stage: c.stage,
            title: c.title.clone(),
            why: c.why.clone(),
        })
    }
}
