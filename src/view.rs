//! `CallView`: what a screen shows of one agent's calls, as a plain value.
//! The terminal timeline, the agent's overlay and the supervisors' board
//! all feed it the same events and render it; none of them interprets the
//! event stream on its own.
//!
//! It depends on [`crate::events`] only.

use std::collections::VecDeque;

use crate::events::{
    AlertEvent, CallEnded, CallId, CallProgress, CallSource, CardAction, CardEvent, Churn, Emotion, Event, Speaker, Stage, StatusEvent, StatusKind,
    SupervisorNote, TimedEvent, Verdict,
};

/// Transcript lines kept per call.
pub const TRANSCRIPT_LINES: usize = 200;
/// Points kept for the anger/churn chart.
pub const CHART_POINTS: usize = 2000;
/// Status lines kept.
pub const STATUS_LINES: usize = 8;

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptLine {
    /// Who spoke.
    pub speaker: Speaker,
    /// What was recognised.
    pub text: String,
    /// Start, call time in seconds.
    pub start: f64,
    /// End, call time in seconds.
    pub end: f64,
    /// False while the speaker is still talking (a partial).
    pub is_final: bool,
}

/// One point of the call's chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartPoint {
    /// Call time, seconds.
    pub t: f64,
    /// Customer anger of that turn, 0..1.
    pub anger: f32,
    /// Churn score of that turn, 0..1.
    pub churn: f32,
}

/// A status line with the call time it came at.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusLine {
    /// Call (or session) time.
    pub t: f64,
    /// The status.
    pub status: StatusEvent,
}

/// A call in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveCall {
    /// Its id.
    pub call_id: CallId,
    /// The agent.
    pub agent: String,
    /// Devices or file.
    pub source: Option<CallSource>,
    /// Wall-clock start, ms since the epoch.
    pub started_at_unix_ms: i64,
    /// Latest call time seen.
    pub t: f64,
    /// Latest `seq` applied.
    pub last_seq: u64,
    /// The step card on screen.
    pub card: Option<CardEvent>,
    /// The alert card on screen (the agent's warning strip), with the call
    /// time it appeared.
    pub alert: Option<(CardEvent, f64)>,
    /// The latest supervisor note, with its call time.
    pub note: Option<(SupervisorNote, f64)>,
    /// The customer's emotion at their latest turn.
    pub emotion: Option<Emotion>,
    /// The churn judgement of the customer's latest turn.
    pub churn: Option<Churn>,
    /// The call so far (reason, smoothed anger, steps, ...).
    pub progress: CallProgress,
    /// Finals and the partials still growing, in call order.
    pub transcript: VecDeque<TranscriptLine>,
    /// Call-level alerts raised, with their call times.
    pub alerts: Vec<(f64, AlertEvent)>,
    /// Anger and churn per customer turn.
    pub chart: Vec<ChartPoint>,
    /// Cards shown, with call time (for chart markers).
    pub cards_shown: Vec<(f64, String)>,
    /// The agent's verdicts on cards.
    pub verdicts: Vec<(String, Verdict)>,
}

impl LiveCall {
    fn new(call_id: CallId) -> Self {
        Self {
            call_id,
            agent: String::new(),
            source: None,
            started_at_unix_ms: 0,
            t: 0.0,
            last_seq: 0,
            card: None,
            alert: None,
            note: None,
            emotion: None,
            churn: None,
            progress: CallProgress::default(),
            transcript: VecDeque::new(),
            alerts: Vec::new(),
            chart: Vec::new(),
            cards_shown: Vec::new(),
            verdicts: Vec::new(),
        }
    }

    /// The step the agent is on (倾听, 共情, 方案, 确认), if any.
    pub fn stage(&self) -> Option<Stage> {
        self.progress.current_stage()
    }

    /// A risk score for sorting calls on the board, 0..1: churn intent,
    /// anger and its trend, inflaming phrases, the complaint limit, time.
    pub fn risk(&self) -> f32 {
        let p = &self.progress;
        let mut r = 0.0f32;
        if p.churn_intent {
            r += 0.4;
        }
        r += 0.15 * p.churn_score.clamp(0.0, 1.0);
        r += 0.25 * p.anger.clamp(0.0, 1.0);
        if p.trend == Some(crate::events::Trend::Rising) {
            r += 0.05;
        }
        if self.alerts.iter().any(|(_, a)| a.kind == crate::events::AlertKind::Inflaming) {
            r += 0.05;
        }
        if p.complaint_over_limit {
            r += 0.05;
        }
        if p.customer_accepted {
            r *= 0.5;
        }
        r += (self.t / 1800.0).min(0.05) as f32;
        r.min(1.0)
    }

    fn apply(&mut self, t: f64, event: &Event, limits: Limits) {
        self.t = self.t.max(t);
        match event {
            Event::CallStarted(s) => {
                self.agent = s.agent.clone();
                self.source = Some(s.source.clone());
                self.started_at_unix_ms = s.started_at_unix_ms;
            }
            Event::Segment(s) => {
                let line = TranscriptLine { speaker: s.speaker, text: s.text.clone(), start: s.start, end: s.end, is_final: s.is_final };
                // A final or a newer partial replaces the partial of the same speaker.
                if let Some(i) = self.transcript.iter().position(|l| !l.is_final && l.speaker == s.speaker) {
                    self.transcript.remove(i);
                }
                // A second-pass revision replaces the finals of the turn it covers.
                self.transcript.retain(|l| !(l.is_final && s.replaces(l.speaker, l.start, l.end)));
                let at = self.transcript.iter().rposition(|l| l.start <= s.start).map_or(0, |i| i + 1);
                self.transcript.insert(at, line);
                while self.transcript.len() > limits.transcript_lines {
                    self.transcript.pop_front();
                }
            }
            Event::Analysis(a) => {
                if a.speaker == Speaker::Customer {
                    if a.churn.is_some() {
                        self.churn = a.churn;
                    }
                    if a.emotion.is_some() {
                        self.emotion = a.emotion;
                    }
                }
                if a.is_final {
                    self.progress = a.call.clone();
                    if a.speaker == Speaker::Customer && self.chart.len() < limits.chart_points {
                        self.chart.push(ChartPoint { t: a.end, anger: a.emotion.map_or(0.0, |e| e.anger), churn: a.churn.map_or(0.0, |c| c.score) });
                    }
                } else if a.churn.is_some_and(|c| c.intent) {
                    // A partial with churn intent already counts on screen.
                    self.progress.churn_intent = true;
                }
            }
            Event::Card(c) => match (c.stage, c.action) {
                (Stage::Alert, CardAction::Shown) => {
                    self.alert = Some((c.clone(), t));
                    self.cards_shown.push((t, c.id.clone()));
                }
                (Stage::Alert, CardAction::Cleared) => {
                    if self.alert.as_ref().is_some_and(|(a, _)| a.id == c.id) {
                        self.alert = None;
                    }
                }
                (_, CardAction::Shown) => {
                    self.card = Some(c.clone());
                    self.cards_shown.push((t, c.id.clone()));
                }
                (_, CardAction::Cleared) => {
                    if self.card.as_ref().is_some_and(|m| m.id == c.id) {
                        self.card = None;
                    }
                }
            },
            Event::Alert(a) => self.alerts.push((t, a.clone())),
            Event::CardFeedback(f) => self.verdicts.push((f.card_id.clone(), f.verdict)),
            Event::Note(n) => self.note = Some((n.clone(), t)),
            Event::Status(_) | Event::CallEnded(_) => {}
        }
    }
}

/// A finished call, shown between calls.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedCall {
    /// Its id.
    pub call_id: CallId,
    /// Call time at the end.
    pub t: f64,
    /// Why and what it came to.
    pub ended: CallEnded,
}

/// How much history a view keeps per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Transcript lines.
    pub transcript_lines: usize,
    /// Chart points.
    pub chart_points: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { transcript_lines: TRANSCRIPT_LINES, chart_points: CHART_POINTS }
    }
}

impl Limits {
    /// No transcript or chart: a row on the board (which reads those from
    /// its database when a call is opened).
    pub const ROW_ONLY: Limits = Limits { transcript_lines: 0, chart_points: 0 };
}

/// Everything a screen shows of one agent: the live call, or the last
/// call's summary between calls, and the pipeline's status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallView {
    /// How much history it keeps.
    pub limits: Limits,
    /// The call in progress.
    pub live: Option<LiveCall>,
    /// The last call that ended (kept until the next one starts).
    pub last_call: Option<EndedCall>,
    /// Recent statuses; a lost device stays until it is back.
    pub statuses: VecDeque<StatusLine>,
    /// Events ignored because their `seq` was already applied (resends).
    pub duplicates: u64,
    /// Events missing before one that arrived (a gap in `seq`).
    pub gaps: u64,
    /// Calls seen start.
    pub calls_started: u64,
}

impl CallView {
    /// An empty view (no call yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one event; returns false when it changed nothing (a
    /// duplicate, or an event of a call that is not this view's).
    pub fn apply(&mut self, ev: &TimedEvent) -> bool {
        let (Some(call_id), Some(seq)) = (ev.call_id, ev.seq) else {
            // Between calls only statuses travel.
            if let Event::Status(s) = &ev.event {
                self.status(ev.t, s);
                return true;
            }
            return false;
        };
        if let Event::CallStarted(_) = ev.event {
            if self.live.as_ref().is_some_and(|l| l.call_id == call_id) {
                self.duplicates += 1;
                return false;
            }
            self.live = Some(LiveCall::new(call_id));
            self.calls_started += 1;
        }
        if self.live.as_ref().is_none_or(|l| l.call_id != call_id) {
            // An event of a call that already ended here, or whose start
            // this view never saw: open it so nothing is hidden.
            if self.last_call.as_ref().is_some_and(|c| c.call_id == call_id) {
                self.duplicates += 1;
                return false;
            }
            self.live = Some(LiveCall::new(call_id));
            self.gaps += seq.saturating_sub(1);
        }
        let Some(live) = self.live.as_mut() else { return false };
        if seq <= live.last_seq {
            self.duplicates += 1;
            return false;
        }
        self.gaps += seq - live.last_seq - 1;
        live.last_seq = seq;
        live.apply(ev.t, &ev.event, self.limits);
        if let Event::Status(s) = &ev.event {
            self.status(ev.t, s);
        }
        if let Event::CallEnded(e) = &ev.event {
            self.last_call = Some(EndedCall { call_id, t: ev.t, ended: (**e).clone() });
            self.live = None;
        }
        true
    }

    fn status(&mut self, t: f64, s: &StatusEvent) {
        // A condition that is over replaces the one it ends.
        let ends = match s.kind {
            StatusKind::DeviceBack => Some(StatusKind::DeviceLost),
            StatusKind::BoardConnected => Some(StatusKind::BoardUnreachable),
            StatusKind::PlaybookReloaded => Some(StatusKind::PlaybookError),
            _ => None,
        };
        if let Some(k) = ends {
            self.statuses.retain(|l| !(l.status.kind == k && l.status.speaker == s.speaker));
        }
        self.statuses.retain(|l| !(l.status.kind == s.kind && l.status.speaker == s.speaker));
        self.statuses.push_back(StatusLine { t, status: s.clone() });
        while self.statuses.len() > STATUS_LINES {
            self.statuses.pop_front();
        }
    }

    /// Statuses that are problems (device lost, lagging, playbook error).
    pub fn problems(&self) -> impl Iterator<Item = &StatusLine> {
        self.statuses.iter().filter(|l| l.status.kind.is_problem())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::*;

    fn ev(call: CallId, seq: u64, t: f64, event: Event) -> TimedEvent {
        TimedEvent::in_call(call, seq, t, event)
    }

    fn segment(speaker: Speaker, start: f64, end: f64, text: &str, is_final: bool) -> Event {
        Event::Segment(SegmentEvent { speaker, start, end, text: text.into(), is_final, latency_ms: None, features: None, dropped: vec![], revision: 0 })
    }

    fn card(id: &str, stage: Stage, action: CardAction) -> Event {
        Event::Card(CardEvent {
            action,
            id: id.into(),
            stage,
            title: format!("{id} title"),
            say: vec!["说".into()],
            do_: vec![],
            dont: vec![],
            why: vec![],
            show_s: None,
        })
    }

    fn customer_analysis(end: f64, anger: f32, trend: Trend, churn: bool, progress: CallProgress) -> Event {
        Event::Analysis(Box::new(Analysis {
            speaker: Speaker::Customer,
            text: "…".into(),
            start: end - 2.0,
            end,
            is_final: true,
            churn: Some(Churn { intent: churn, score: if churn { 0.9 } else { 0.0 } }),
            reason: progress.reason,
            emotion: Some(Emotion { anger, level: Level::of(anger), trend }),
            agent: None,
            customer: None,
            why: vec![],
            call: progress,
        }))
    }

    #[test]
    fn a_second_pass_revision_replaces_the_finals_of_its_turn() {
        let id = CallId::new();
        let mut v = CallView::new();
        let started = CallStarted { agent: "王丽".into(), source: CallSource::File { path: "x.wav".into() }, started_at_unix_ms: 1, input_offset_s: 0.0 };
        let revised = Event::Segment(SegmentEvent {
            speaker: Speaker::Customer,
            start: 0.5,
            end: 4.0,
            text: "我要携号转网，信号太差了".into(),
            is_final: true,
            latency_ms: None,
            features: None,
            dropped: vec![],
            revision: 1,
        });
        let events = [
            ev(id, 1, 0.0, Event::CallStarted(started)),
            ev(id, 2, 2.0, segment(Speaker::Customer, 0.5, 2.0, "我要鞋号转网", true)),
            ev(id, 3, 4.2, segment(Speaker::Customer, 2.4, 4.0, "信号太差了", true)),
            ev(id, 4, 5.0, segment(Speaker::Agent, 4.5, 5.0, "您好", true)),
            ev(id, 5, 5.5, revised),
        ];
        for e in &events {
            assert!(v.apply(e));
        }
        let lines: Vec<(Speaker, &str)> = v.live.as_ref().expect("live").transcript.iter().map(|l| (l.speaker, l.text.as_str())).collect();
        assert_eq!(lines, vec![(Speaker::Customer, "我要携号转网，信号太差了"), (Speaker::Agent, "您好")]);
    }

    #[test]
    fn a_scripted_call_gives_the_expected_view() {
        let id = CallId::new();
        let mut v = CallView::new();
        let started = CallStarted { agent: "王丽".into(), source: CallSource::File { path: "x.wav".into() }, started_at_unix_ms: 1, input_offset_s: 3.0 };
        let mut seq = 0;
        let mut next = |t: f64, e: Event| {
            seq += 1;
            ev(id, seq, t, e)
        };
        let script = vec![
            next(0.0, Event::CallStarted(started)),
            next(1.0, segment(Speaker::Customer, 0.0, 1.0, "我要", false)),
            next(2.0, segment(Speaker::Customer, 0.0, 2.0, "我要销户", false)),
            next(2.5, segment(Speaker::Customer, 0.0, 2.4, "我要销户，信号太差了", true)),
            next(
                2.5,
                customer_analysis(
                    2.4,
                    0.7,
                    Trend::Rising,
                    true,
                    CallProgress {
                        churn_intent: true,
                        churn_score: 0.9,
                        reason: Some(Reason::Network),
                        anger: 0.7,
                        level: Some(Level::Angry),
                        ..Default::default()
                    },
                ),
            ),
            next(2.5, Event::Alert(AlertEvent { kind: AlertKind::ChurnIntent, speaker: Speaker::Customer, text: "我要销户".into() })),
            next(2.5, card("empathize.first", Stage::Empathize, CardAction::Shown)),
            next(4.0, segment(Speaker::Agent, 2.8, 4.0, "你别激动", true)),
            next(4.0, card("alert.inflaming", Stage::Alert, CardAction::Shown)),
            next(5.0, Event::Status(StatusEvent { kind: StatusKind::DeviceLost, speaker: Some(Speaker::Agent), message: "unplugged".into() })),
        ];
        for e in &script {
            assert!(v.apply(e), "{e:?}");
        }
        let live = v.live.as_ref().expect("a call in progress");
        assert_eq!(live.agent, "王丽");
        assert_eq!(live.transcript.len(), 2, "the partials were replaced by the final: {:?}", live.transcript);
        assert_eq!(live.transcript[0].text, "我要销户，信号太差了");
        assert!(live.transcript[0].is_final);
        assert_eq!(live.card.as_ref().map(|c| c.id.as_str()), Some("empathize.first"));
        assert_eq!(live.alert.as_ref().map(|(c, _)| c.id.as_str()), Some("alert.inflaming"));
        assert_eq!(live.emotion.map(|e| (e.level, e.trend)), Some((Level::Angry, Trend::Rising)));
        assert_eq!(live.progress.reason, Some(Reason::Network));
        assert_eq!(live.stage(), Some(Stage::Empathize), "an angry customer and no empathy yet");
        assert_eq!(live.chart.len(), 1);
        assert!(live.risk() > 0.6, "{}", live.risk());
        assert_eq!(v.problems().count(), 1, "the lost headset shows");

        // A resend of an applied event changes nothing; a gap is counted.
        assert!(!v.apply(&script[3]));
        assert_eq!(v.duplicates, 1);
        assert!(v.apply(&ev(id, 13, 6.0, card("alert.inflaming", Stage::Alert, CardAction::Cleared))));
        assert_eq!(v.gaps, 2, "seq 11 and 12 never came");
        assert!(v.live.as_ref().is_some_and(|l| l.alert.is_none()));
        assert!(
            v.apply(&TimedEvent::idle(7.0, Event::Status(StatusEvent { kind: StatusKind::DeviceBack, speaker: Some(Speaker::Agent), message: "back".into() })))
        );
        assert_eq!(v.problems().count(), 0, "device back clears device lost");

        // The end: the summary stays until the next call starts.
        let summary = crate::summary::SummaryBuilder::new().finish(8.0, &crate::analysis::AnalysisConfig::default());
        assert!(v.apply(&ev(id, 14, 8.0, Event::CallEnded(Box::new(CallEnded { reason: EndReason::Silence, summary })))));
        assert!(v.live.is_none());
        assert_eq!(v.last_call.as_ref().map(|c| c.call_id), Some(id));
        let next_call = CallId::new();
        let started = CallStarted { agent: "王丽".into(), source: CallSource::File { path: "x.wav".into() }, started_at_unix_ms: 2, input_offset_s: 60.0 };
        assert!(v.apply(&ev(next_call, 1, 0.0, Event::CallStarted(started))));
        assert_eq!(v.calls_started, 2);
        assert!(v.live.as_ref().is_some_and(|l| l.transcript.is_empty() && l.card.is_none()), "a new call starts empty");
    }
}
