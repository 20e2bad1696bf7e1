//! The board's picture of the calls in progress: one [`CallView`] per live
//! call, fed by the stored events, and the rows the page shows.

use std::collections::HashMap;

use serde::Serialize;

use crate::events::{AlertEvent, CallId, Event, Level, Reason, Stage, StepState, Steps, TimedEvent, Trend};
use crate::view::{CallView, LiveCall};

/// A live call as one row of the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveRow {
    /// The call.
    pub call_id: CallId,
    /// The agent.
    pub agent: String,
    /// Wall-clock start, ms.
    pub started_at_unix_ms: i64,
    /// Call time of the latest event, seconds.
    pub t: f64,
    /// Risk of losing the customer, 0..1 (the page sorts by it).
    pub risk: f32,
    /// The customer said they want to leave.
    pub churn_intent: bool,
    /// Highest churn score so far.
    pub churn_score: f32,
    /// Smoothed anger 0..1.
    pub anger: f32,
    /// Its level.
    pub level: Option<Level>,
    /// Its trend.
    pub trend: Option<Trend>,
    /// Churn reason so far.
    pub reason: Option<Reason>,
    /// The step the agent is on.
    pub stage: Option<Stage>,
    /// The steps, done and missed.
    pub steps: Steps,
    /// Steps missed so far (Chinese names).
    pub missed: Vec<String>,
    /// The step card on the agent's screen.
    pub card: Option<String>,
    /// The alert card on the agent's screen.
    pub alert_card: Option<String>,
    /// The latest call-level alert.
    pub last_alert: Option<AlertEvent>,
    /// Inflaming phrases so far.
    pub inflaming: usize,
    /// The unresolved complaint has run past the limit.
    pub complaint_over_limit: bool,
}

impl LiveRow {
    /// The row of a live call.
    pub fn of(agent: &str, live: &LiveCall) -> Self {
        let p = &live.progress;
        Self {
            call_id: live.call_id,
            agent: agent.into(),
            started_at_unix_ms: live.started_at_unix_ms,
            t: live.t,
            risk: (live.risk() * 100.0).round() / 100.0,
            churn_intent: p.churn_intent,
            churn_score: p.churn_score,
            anger: p.anger,
            level: p.level,
            trend: p.trend,
            reason: p.reason,
            stage: live.stage(),
            steps: p.steps,
            missed: p.steps.named().iter().filter(|(_, m)| m.state == StepState::Missed).map(|(n, _)| n.to_string()).collect(),
            card: live.card.as_ref().map(|c| c.title.clone()),
            alert_card: live.alert.as_ref().map(|(c, _)| c.title.clone()),
            last_alert: live.alerts.last().map(|(_, a)| a.clone()),
            inflaming: live.alerts.iter().filter(|(_, a)| a.kind == crate::events::AlertKind::Inflaming).count(),
            complaint_over_limit: p.complaint_over_limit,
        }
    }
}

/// The calls in progress.
#[derive(Debug, Default)]
pub struct Live {
    calls: HashMap<CallId, (String, CallView)>,
}

/// What changed by an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The live call's row is now this.
    Row(Box<LiveRow>),
    /// The call ended.
    Ended(CallId),
    /// Nothing a page shows.
    None,
}

impl Live {
    /// Nothing live.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a stored event of `agent`'s call.
    pub fn apply(&mut self, agent: &str, ev: &TimedEvent) -> Change {
        let Some(call_id) = ev.call_id else { return Change::None };
        let entry = self.calls.entry(call_id).or_insert_with(|| (agent.to_string(), CallView { limits: crate::view::Limits::ROW_ONLY, ..CallView::new() }));
        entry.1.apply(ev);
        if let Event::CallEnded(_) = ev.event {
            self.calls.remove(&call_id);
            return Change::Ended(call_id);
        }
        match entry.1.live.as_ref() {
            Some(l) => Change::Row(Box::new(LiveRow::of(&entry.0, l))),
            None => Change::None,
        }
    }

    /// Rows of every live call, riskiest first.
    pub fn rows(&self) -> Vec<LiveRow> {
        let mut rows: Vec<LiveRow> = self.calls.values().filter_map(|(agent, v)| v.live.as_ref().map(|l| LiveRow::of(agent, l))).collect();
        rows.sort_by(|a, b| b.risk.total_cmp(&a.risk).then(a.started_at_unix_ms.cmp(&b.started_at_unix_ms)));
        rows
    }

    /// The row of one live call.
    pub fn row(&self, call_id: CallId) -> Option<LiveRow> {
        self.calls.get(&call_id).and_then(|(agent, v)| v.live.as_ref().map(|l| LiveRow::of(agent, l)))
    }

    /// True when the call is in progress.
    pub fn is_live(&self, call_id: CallId) -> bool {
        self.calls.contains_key(&call_id)
    }

    /// Live calls.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no call is live.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}
