//! The terminal timeline: one line per event a person cares about, at its
//! call time, rendered from the same [`CallView`] every screen uses; or
//! JSON Lines, one event per line. Also what `--stats` prints.

use anyhow::Result;
use callcoach::events::{CallEnded, CardAction, Event, StepState, TimedEvent};
use callcoach::pipeline::{QueueReport, Subscription};
use callcoach::session::SessionReport;
use callcoach::timefmt::clock;
use callcoach::view::CallView;

use super::out_line;

/// Collected while events stream by, printed by `--stats`.
#[derive(Debug, Default)]
pub(crate) struct RunStats {
    pub final_latency_ms: Vec<f64>,
    pub partial_latency_ms: Vec<f64>,
    pub finals: usize,
    pub revisions: usize,
    pub partials: usize,
    pub cards: usize,
    pub alerts: usize,
    pub statuses: usize,
    pub calls: usize,
    pub rss_samples_mib: Vec<(f64, f64)>,
    last_rss_at: Option<std::time::Instant>,
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * p).round() as usize]
}

impl RunStats {
    pub fn observe(&mut self, ev: &TimedEvent, started: std::time::Instant) {
        match &ev.event {
            Event::Segment(s) if s.revision > 0 => self.revisions += 1,
            Event::Segment(s) if s.is_final => {
                self.finals += 1;
                self.final_latency_ms.extend(s.latency_ms);
            }
            Event::Segment(s) => {
                self.partials += 1;
                self.partial_latency_ms.extend(s.latency_ms);
            }
            Event::Card(c) if c.action == CardAction::Shown => self.cards += 1,
            Event::Alert(_) => self.alerts += 1,
            Event::Status(_) => self.statuses += 1,
            Event::CallStarted(_) => self.calls += 1,
            _ => {}
        }
        if self.last_rss_at.is_none_or(|t| t.elapsed().as_secs() >= 10) {
            self.last_rss_at = Some(std::time::Instant::now());
            if let Some(rss) = callcoach::sysinfo::rss_mib() {
                self.rss_samples_mib.push((started.elapsed().as_secs_f64(), rss));
            }
        }
    }

    pub fn print(&self, report: &SessionReport, realtime: bool, output: &QueueReport) {
        let q = &report.queue;
        eprintln!(
            "calls: {} finals: {} revised by the second pass: {} partials: {} (skipped under load: {})",
            self.calls, self.finals, self.revisions, self.partials, q.partials_skipped
        );
        if realtime {
            let l = &self.final_latency_ms;
            eprintln!("final_latency_ms p50: {:.0} p95: {:.0} max: {:.0}", pct(l, 0.5), pct(l, 0.95), pct(l, 1.0));
            let p = &self.partial_latency_ms;
            eprintln!("partial_latency_ms p50: {:.0} p95: {:.0}", pct(p, 0.5), pct(p, 0.95));
        } else {
            eprintln!("latency: not measured (audio was not fed in real time; use --realtime)");
        }
        eprintln!("cards: {} alerts: {} status: {}", self.cards, self.alerts, self.statuses);
        match report.input_s {
            Some(audio_s) => {
                eprintln!("audio_s: {audio_s:.1} wall_s: {:.1}", report.wall_s);
                if !realtime && audio_s > 0.0 {
                    eprintln!("real_time_factor: {:.3}", report.wall_s / audio_s);
                }
            }
            None => eprintln!("wall_s: {:.1}", report.wall_s),
        }
        if let Some(cpu_s) = callcoach::sysinfo::cpu_time_s().filter(|_| report.wall_s > 0.0) {
            eprintln!("cpu_s: {cpu_s:.1} (average {:.2} cores)", cpu_s / report.wall_s);
        }
        eprintln!("queue: max_waiting {} max_lag_ms {:.0} producer_wait_ms {:.0}", q.max_finals_waiting, q.max_lag_ms, q.producer_wait_ms);
        eprintln!("output queue: events {} dropped {} max_queued {} max_wait_ms {:.1}", output.sent, output.dropped, output.max_len, output.max_wait_ms);
        if let (Some(first), Some(last)) = (self.rss_samples_mib.first(), self.rss_samples_mib.last()) {
            let max = self.rss_samples_mib.iter().map(|(_, r)| *r).fold(0.0, f64::max);
            eprintln!("rss_mib at {:.0}s: {:.0}, at {:.0}s: {:.0}, max: {:.0}", first.0, first.1, last.0, last.1, max);
        }
        if let Some(rss) = callcoach::sysinfo::peak_rss_mib() {
            eprintln!("peak_rss_mib: {rss:.0}");
        }
    }
}

/// The summary of a call as a few human lines.
pub(crate) fn summary_lines(e: &CallEnded) -> Vec<String> {
    let s = &e.summary;
    let steps: Vec<String> = s
        .steps
        .named()
        .iter()
        .map(|(name, m)| {
            let mark = match m.state {
                StepState::Done => "✓",
                StepState::Missed => "✗",
                StepState::Pending => "·",
            };
            format!("{name}{mark}")
        })
        .collect();
    let mut lines = vec![format!(
        "  outcome {} | reason {} | anger peak {:.2} ({}) | steps {} | compliance {}/100",
        s.outcome.as_str(),
        s.reason.map_or("-", |r| r.as_str()),
        s.anger_peak,
        s.anger_peak_level.as_str(),
        steps.join(" "),
        s.compliance.score
    )];
    lines.push(format!(
        "  talk agent {:.0}s customer {:.0}s over {:.1}s | cards {} | inflaming {}",
        s.agent_talk_s,
        s.customer_talk_s,
        s.talk_over_s,
        s.cards.len(),
        if s.inflaming.is_empty() { "-".to_string() } else { s.inflaming.iter().map(|p| p.phrase.as_str()).collect::<Vec<_>>().join("、") }
    ));
    for p in s.compliance.parts.iter().filter(|p| p.points < p.max) {
        lines.push(format!("  - {} {}/{}: {}", p.name, p.points, p.max, p.detail));
    }
    lines
}

/// Human lines for an event, after it was applied to `view`.
pub(crate) fn human(ev: &TimedEvent, view: &CallView) -> Vec<String> {
    let t = clock(ev.t);
    match &ev.event {
        Event::CallStarted(s) => vec![format!(
            "── call {} started ({}, at {} of the input) ──",
            view.calls_started,
            ev.call_id.map(|c| c.to_string()).unwrap_or_default(),
            clock(s.input_offset_s)
        )],
        Event::Segment(s) => vec![format!(
            "[{}] {:<8} {}{}{}",
            clock(s.start),
            s.speaker.as_str(),
            match (s.is_final, s.revision) {
                (false, _) => "… ",
                (true, 0) => "",
                (true, _) => "(second pass) ",
            },
            s.text,
            s.latency_ms.map(|l| format!("   ({l:.0} ms)")).unwrap_or_default()
        )],
        Event::Analysis(_) => Vec::new(),
        Event::Card(c) if c.action == CardAction::Shown => vec![format!("[{t}] CARD  {} {} | {}", c.stage.as_str(), c.title, c.say.join(" / "))],
        Event::Card(c) => vec![format!("[{t}] card cleared: {}", c.id)],
        Event::Alert(a) => vec![format!("[{t}] ALERT {} ({}): {}", a.kind.as_str(), a.speaker.as_str(), a.text)],
        Event::CardFeedback(f) => vec![format!("[{t}] card {} marked {:?}", f.card_id, f.verdict)],
        Event::Note(n) => vec![format!("[{t}] NOTE from {}: {}", n.from, n.text)],
        Event::Status(s) => vec![format!("[{t}] status {}: {}", s.kind.as_str(), s.message)],
        Event::CallEnded(e) => {
            let mut v = vec![format!("── call ended at {t} ({:?}) ──", e.reason).to_lowercase()];
            v.extend(summary_lines(e));
            v
        }
    }
}

/// Prints every event of a subscription until the session ends (JSON
/// Lines, or human lines at their call times) and returns the numbers.
pub(crate) fn print_timeline(sub: &Subscription, json: bool) -> Result<RunStats> {
    let started = std::time::Instant::now();
    let mut stats = RunStats::default();
    let mut view = CallView::new();
    for ev in sub.iter() {
        stats.observe(&ev, started);
        view.apply(&ev);
        if json {
            out_line(&serde_json::to_string(&ev)?)?;
        } else {
            for line in human(&ev, &view) {
                out_line(&line)?;
            }
        }
    }
    Ok(stats)
}
