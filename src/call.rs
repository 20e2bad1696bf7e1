//! One call as a unit: its id, its gap-free `seq`, fresh analysis, coach
//! and summary. Turns in, stamped events out. The pipeline's call thread
//! drives one per call from recognised speech; `analyze --events` and the
//! tests drive one from a written transcript.

use std::sync::Arc;

use crate::analysis::{AnalysisConfig, CallAnalysis, Lexicons, Turn};
use crate::coach::{Coach, CoachEvent, Playbook};
use crate::events::{round_ms, AcousticFeatures, CallEnded, CallId, CallStarted, EndReason, Event, SegmentEvent, Speaker, TimedEvent};
use crate::summary::SummaryBuilder;

/// A recognised (or written) turn.
#[derive(Debug, Clone)]
pub struct TurnIn<'a> {
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said.
    pub text: &'a str,
    /// Start, call time in seconds.
    pub start: f64,
    /// End, call time in seconds.
    pub end: f64,
    /// True when `end` is measured (audio, or a transcript with ranges).
    pub duration_known: bool,
    /// False for a partial.
    pub is_final: bool,
    /// Real-time latency of the text, if measured.
    pub latency_ms: Option<f64>,
    /// Acoustic features (final segments from audio).
    pub features: Option<AcousticFeatures>,
    /// What the recogniser's filters removed.
    pub dropped: Vec<String>,
    /// 0 live; 1 the second pass over a finished turn, replacing the final
    /// segments of this speaker from `start` to `end`.
    pub revision: u32,
}

/// A call in progress.
pub struct Call {
    id: CallId,
    seq: u64,
    analysis: CallAnalysis,
    coach: Coach,
    summary: SummaryBuilder,
}

impl Call {
    /// Opens a call: returns it and its `call_started` event (seq 1, t 0).
    pub fn start(lexicons: Arc<Lexicons>, analysis: AnalysisConfig, playbook: Arc<Playbook>, started: CallStarted) -> (Self, TimedEvent) {
        let mut call =
            Self { id: CallId::new(), seq: 0, analysis: CallAnalysis::new(lexicons, analysis), coach: Coach::new(playbook), summary: SummaryBuilder::new() };
        let ev = call.stamp(0.0, Event::CallStarted(started));
        (call, ev)
    }

    /// Its id.
    pub fn id(&self) -> CallId {
        self.id
    }

    /// Wraps an event of this call in its envelope (next `seq`) and takes
    /// it into the summary.
    pub fn stamp(&mut self, t: f64, event: Event) -> TimedEvent {
        self.seq += 1;
        self.summary.observe(t, &event);
        TimedEvent::in_call(self.id, self.seq, t, event)
    }

    /// A turn: its segment, its analysis (finals, and partials that carry
    /// churn intent), and the cards and alerts it brings, all at call time `t`.
    pub fn turn(&mut self, t: f64, turn: TurnIn<'_>) -> Vec<TimedEvent> {
        let a = self.analysis.turn(&Turn {
            speaker: turn.speaker,
            text: turn.text,
            start: turn.start,
            end: turn.end,
            duration_known: turn.duration_known,
            is_final: turn.is_final,
            features: turn.features.as_ref(),
        });
        let coach_events = self.coach.on_analysis(&a);
        let mut out = vec![self.stamp(
            t,
            Event::Segment(SegmentEvent {
                speaker: turn.speaker,
                start: round_ms(turn.start),
                end: round_ms(turn.end),
                text: turn.text.to_string(),
                is_final: turn.is_final,
                latency_ms: turn.latency_ms,
                features: turn.features,
                dropped: turn.dropped,
                revision: turn.revision,
            }),
        )];
        // Partials only matter when they carry churn intent.
        if a.is_final || a.churn.is_some_and(|c| c.intent) {
            out.push(self.stamp(t, Event::Analysis(Box::new(a))));
        }
        out.extend(self.coach_events(t, coach_events));
        out
    }

    /// Stamps what the coach said.
    pub fn coach_events(&mut self, t: f64, events: Vec<CoachEvent>) -> Vec<TimedEvent> {
        events
            .into_iter()
            .map(|e| {
                self.stamp(
                    t,
                    match e {
                        CoachEvent::Card(c) => Event::Card(c),
                        CoachEvent::Alert(a) => Event::Alert(a),
                    },
                )
            })
            .collect()
    }

    /// Alerts whose time is up, at call time `t`.
    pub fn tick(&mut self, t: f64) -> Vec<TimedEvent> {
        let expired = self.coach.tick(t);
        self.coach_events(t, expired)
    }

    /// A trainer's edit of the playbook: the new cards and lexicons apply
    /// from now on; a card on screen that is gone is cleared.
    pub fn reload(&mut self, t: f64, playbook: Arc<Playbook>, lexicons: Arc<Lexicons>) -> Vec<TimedEvent> {
        self.analysis.set_lexicons(lexicons);
        let cleared = self.coach.set_playbook(playbook);
        self.coach_events(t, cleared)
    }

    /// Ends the call after `duration_s`: its `call_ended` with the summary.
    pub fn end(mut self, t: f64, duration_s: f64, reason: EndReason) -> TimedEvent {
        let summary = self.summary.finish(duration_s, self.analysis.config());
        self.stamp(t, Event::CallEnded(Box::new(CallEnded { reason, summary })))
    }
}

/// A written call (`C:`/`A:` turns with times) run through a [`Call`] from
/// start to end: every event a screen would have seen. For tests, demos and
/// `analyze --events`.
pub fn script(lexicons: Arc<Lexicons>, analysis: AnalysisConfig, playbook: Arc<Playbook>, agent: &str, turns: &[(Speaker, f64, f64, &str)]) -> Vec<TimedEvent> {
    let started =
        CallStarted { agent: agent.into(), source: crate::events::CallSource::File { path: "script".into() }, started_at_unix_ms: 0, input_offset_s: 0.0 };
    let (mut call, first) = Call::start(lexicons, analysis, playbook, started);
    let mut out = vec![first];
    let mut end = 0.0f64;
    for (speaker, start, stop, text) in turns {
        out.extend(call.turn(
            *stop,
            TurnIn {
                speaker: *speaker,
                text,
                start: *start,
                end: *stop,
                duration_known: true,
                is_final: true,
                latency_ms: None,
                features: None,
                dropped: Vec::new(),
                revision: 0,
            },
        ));
        end = end.max(*stop);
    }
    out.push(call.end(end, end, EndReason::InputEnded));
    out
}
