//! What the agent sees: the overlay drawn from a [`CallView`]. Pure UI: it
//! takes the state, draws it, and returns what the agent clicked; it never
//! touches the pipeline. Tested with egui_kittest (queries and snapshots).

use eframe::egui::{self, Align, Color32, CornerRadius, Frame, Layout, Margin, RichText, Sense, Stroke, Ui, Vec2};

use crate::events::{CallSummary, CardEvent, CardFeedback, Level, StatusKind, StepMark, StepState, Steps, Trend, Verdict};
use crate::timefmt::clock_short;
use crate::view::{CallView, LiveCall};

/// Colours that carry meaning (and only those are loud).
pub mod palette {
    use eframe::egui::Color32;
    /// Calm customer, done step.
    pub const GREEN: Color32 = Color32::from_rgb(0x3f, 0xb9, 0x50);
    /// Annoyed customer, medium risk, warnings.
    pub const AMBER: Color32 = Color32::from_rgb(0xe0, 0x9b, 0x1a);
    /// Angry customer, high risk, missed step, inflaming phrase.
    pub const RED: Color32 = Color32::from_rgb(0xe5, 0x48, 0x4d);
    /// The step being worked on, a supervisor's note.
    pub const ACCENT: Color32 = Color32::from_rgb(0x4c, 0x9a, 0xff);
    /// Quiet text.
    pub const MUTED: Color32 = Color32::from_gray(140);
    /// The lines to read aloud.
    pub const SAY: Color32 = Color32::from_gray(245);
}
use palette::*;

/// Height of the collapsed one-line bar, in points.
pub const COLLAPSED_HEIGHT: f32 = 40.0;

/// What the agent did on the overlay this frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Marked the card used or dismissed.
    CardFeedback(CardFeedback),
    /// Pressed "end call".
    EndCall,
    /// Collapsed to the thin bar (true) or expanded (false).
    SetCollapsed(bool),
    /// Started dragging the (borderless) window.
    StartDrag,
}

/// The overlay's state: the view of the calls plus what is the overlay's own.
#[derive(Debug, Clone, Default)]
pub struct OverlayState {
    /// The calls, as every screen sees them.
    pub view: CallView,
    /// Shown as the thin one-line bar.
    pub collapsed: bool,
    /// The card's `why` is open.
    pub why_open: bool,
    /// Transcript lines shown.
    pub transcript_lines: usize,
    /// Call time now, from the wall clock (None: the latest event's time).
    pub call_clock_s: Option<f64>,
    /// Verdicts given here, shown at once (they also travel as events).
    pub verdicts: Vec<(String, Verdict)>,
    /// What runs: "回放 FILE" or "实时".
    pub source_label: String,
    /// The input has ended (a replay is over).
    pub session_ended: bool,
    /// The board link's state, if there is one.
    pub board_line: Option<(bool, String)>,
}

impl OverlayState {
    /// A state for a fresh window.
    pub fn new(transcript_lines: usize) -> Self {
        Self { transcript_lines, ..Default::default() }
    }
}

fn anger_colour(anger: f32) -> Color32 {
    match Level::of(anger) {
        Level::Calm => GREEN,
        Level::Annoyed => AMBER,
        Level::Angry => RED,
    }
}

/// Risk of losing the customer as a word and a colour.
fn churn_risk(live: &LiveCall) -> (&'static str, Color32) {
    let p = &live.progress;
    if p.customer_accepted {
        ("低", GREEN)
    } else if p.churn_intent {
        ("高", RED)
    } else if p.churn_score >= 0.3 || p.upset() {
        ("中", AMBER)
    } else {
        ("低", MUTED)
    }
}

/// Five blocks filled by anger (0..1), in the anger's colour.
fn anger_meter(ui: &mut Ui, anger: f32) {
    let filled = ((anger.clamp(0.0, 1.0) * 5.0).ceil() as usize).max(usize::from(anger > 0.0));
    let colour = anger_colour(anger);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(5.0 * 8.0, 12.0), Sense::hover());
    for i in 0..5 {
        let x = rect.left() + i as f32 * 8.0;
        let r = egui::Rect::from_min_size(egui::pos2(x, rect.top()), Vec2::new(6.0, 12.0));
        let fill = if i < filled { colour } else { Color32::from_gray(70) };
        ui.painter().rect_filled(r, 1.0, fill);
    }
}

fn chip(ui: &mut Ui, text: &str, colour: Color32) {
    Frame::new()
        .fill(colour.gamma_multiply(0.25))
        .stroke(Stroke::new(1.0, colour))
        .corner_radius(CornerRadius::same(6))
        .inner_margin(Margin::symmetric(5, 1))
        .show(ui, |ui| {
            ui.label(RichText::new(text).color(colour).size(12.0));
        });
}

fn step_mark(ui: &mut Ui, name: &str, mark: StepMark, current: bool) {
    let (sym, colour) = match mark.state {
        StepState::Done => ("✓", GREEN),
        StepState::Missed => ("×", RED),
        StepState::Pending if current => ("●", ACCENT),
        StepState::Pending => ("○", MUTED),
    };
    let mut text = RichText::new(format!("{name} {sym}")).color(if current { ACCENT } else { colour }).size(13.0);
    if current {
        text = text.strong();
    }
    ui.label(text);
}

fn steps_row(ui: &mut Ui, steps: &Steps, current: Option<crate::events::Stage>) {
    use crate::events::Stage;
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        let stages = [Stage::Listen, Stage::Empathize, Stage::Propose, Stage::Confirm];
        for (i, ((name, mark), stage)) in steps.named().into_iter().zip(stages).enumerate() {
            if i > 0 {
                ui.label(RichText::new("─").color(MUTED));
            }
            step_mark(ui, name, mark, current == Some(stage) && mark.state != StepState::Done);
        }
    });
}

fn call_time(state: &OverlayState, live: &LiveCall) -> String {
    clock_short(state.call_clock_s.unwrap_or(live.t).max(live.t))
}

/// The status row: call time, anger meter with trend, churn risk with reason.
fn status_row(ui: &mut Ui, state: &OverlayState, live: &LiveCall) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 6.0;
        ui.label(RichText::new("●").color(GREEN).size(11.0));
        ui.label(RichText::new(call_time(state, live)).strong()).on_hover_text(format!("通话时长 · {}", state.source_label));
        ui.separator();
        let anger = live.progress.anger;
        anger_meter(ui, anger);
        let level = live.progress.level.unwrap_or(Level::Calm);
        let trend = live.progress.trend.unwrap_or(Trend::Steady);
        ui.label(RichText::new(format!("{} {}", level.label_zh(), trend.arrow())).color(anger_colour(anger)).size(13.0)).on_hover_text("客户情绪");
        ui.separator();
        let (risk, colour) = churn_risk(live);
        let reason = live.progress.reason.map(|r| format!(" · {}", r.label_zh())).unwrap_or_default();
        chip(ui, &format!("流失 {risk}{reason}"), colour);
        drag_handle(ui, &mut actions);
    });
    actions
}

/// The four steps, and the window's buttons at the right.
fn steps_and_buttons(ui: &mut Ui, live: &LiveCall) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        steps_row(ui, &live.progress.steps, live.stage());
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if ui.small_button("▁").on_hover_text("收起为一行").clicked() {
                actions.push(Action::SetCollapsed(true));
            }
            if ui.small_button("结束").on_hover_text("结束这通电话").clicked() {
                actions.push(Action::EndCall);
            }
        });
    });
    actions
}

/// The rest of a row is the handle to move the borderless window.
fn drag_handle(ui: &mut Ui, actions: &mut Vec<Action>) {
    let handle = ui.interact(ui.available_rect_before_wrap(), ui.scope_id().with("drag"), Sense::drag());
    if handle.drag_started() {
        actions.push(Action::StartDrag);
    }
}

fn card_frame(accent: Color32) -> Frame {
    Frame::new()
        .fill(Color32::from_rgba_unmultiplied(255, 255, 255, 10))
        .stroke(Stroke::new(1.0, accent.gamma_multiply(0.6)))
        .corner_radius(CornerRadius::same(6))
        .inner_margin(Margin::symmetric(8, 6))
}

/// The step card: title, the lines to say, one do/don't, the buttons.
fn step_card(ui: &mut Ui, state: &mut OverlayState, card: &CardEvent) -> Vec<Action> {
    let mut actions = Vec::new();
    card_frame(ACCENT).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(RichText::new(&card.title).size(15.0).strong().color(ACCENT));
        for line in &card.say {
            ui.label(RichText::new(format!("“{line}”")).size(16.0).color(SAY));
        }
        if let Some(d) = card.dont.first() {
            ui.label(RichText::new(format!("别说：{d}")).size(12.5).color(RED.gamma_multiply(0.9)));
        } else if let Some(d) = card.do_.first() {
            ui.label(RichText::new(format!("要：{d}")).size(12.5).color(GREEN));
        }
        let verdict = state.verdicts.iter().rev().find(|(id, _)| *id == card.id).map(|(_, v)| *v);
        ui.horizontal(|ui| {
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                let why = if state.why_open { "收起" } else { "为什么?" };
                if ui.small_button(why).clicked() {
                    state.why_open = !state.why_open;
                }
                let mut give = |ui: &mut Ui, label: &str, v: Verdict| {
                    let text = if verdict == Some(v) { RichText::new(label).strong().color(ACCENT) } else { RichText::new(label) };
                    if ui.add_enabled(verdict.is_none(), egui::Button::new(text).small()).clicked() {
                        actions.push(Action::CardFeedback(CardFeedback { card_id: card.id.clone(), verdict: v }));
                    }
                };
                give(ui, "不合适 ×", Verdict::Dismissed);
                give(ui, "用了 ✓", Verdict::Used);
            });
        });
        if state.why_open {
            for w in &card.why {
                ui.label(RichText::new(w).size(11.0).color(MUTED));
            }
        }
    });
    actions
}

/// The agent's own warning (inflaming phrase, too fast, 180 s): a strip that stands out.
fn alert_strip(ui: &mut Ui, card: &CardEvent) {
    let colour = if card.id.contains("inflam") { RED } else { AMBER };
    Frame::new().fill(colour.gamma_multiply(0.85)).corner_radius(CornerRadius::same(4)).inner_margin(Margin::symmetric(8, 4)).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(RichText::new(format!("⚠ {}", card.title)).strong().color(Color32::BLACK));
        if let Some(line) = card.say.first() {
            ui.label(RichText::new(line).size(13.0).color(Color32::BLACK));
        }
    });
}

fn note_card(ui: &mut Ui, from: &str, text: &str) {
    Frame::new()
        .fill(ACCENT.gamma_multiply(0.25))
        .stroke(Stroke::new(1.0, ACCENT))
        .corner_radius(CornerRadius::same(6))
        .inner_margin(Margin::symmetric(8, 4))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(format!("主管 {from} 提示")).size(12.0).color(ACCENT));
            ui.label(RichText::new(text).size(15.0).color(SAY));
        });
}

/// The last lines of the call in the room that is left, newest at the bottom.
fn transcript(ui: &mut Ui, live: &LiveCall, lines: usize) {
    let start = live.transcript.len().saturating_sub(lines);
    egui::ScrollArea::vertical()
        .stick_to_bottom(true)
        .max_height(ui.available_height())
        .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysHidden)
        .show(ui, |ui| transcript_lines(ui, live, start));
}

fn transcript_lines(ui: &mut Ui, live: &LiveCall, start: usize) {
    for l in live.transcript.iter().skip(start) {
        let who = RichText::new(l.speaker.label_zh()).color(if l.speaker == crate::events::Speaker::Customer { AMBER } else { ACCENT }).strong();
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 4.0;
            ui.label(who);
            let text = if l.is_final { RichText::new(&l.text).size(13.0) } else { RichText::new(format!("{}…", l.text)).size(13.0).italics().color(MUTED) };
            ui.label(text);
        });
    }
}

/// Device, pipeline and board problems as one small line (never a dialog);
/// nothing when all is well.
fn problems_line(ui: &mut Ui, state: &OverlayState) {
    let mut problems: Vec<String> = state.view.problems().map(|l| status_text(l.status.kind, &l.status.message)).collect();
    if let Some((false, text)) = &state.board_line {
        problems.push(text.clone());
    }
    if !problems.is_empty() {
        ui.label(RichText::new(format!("⚠ {}", problems.join(" · "))).size(11.5).color(AMBER));
    }
}

/// A short Chinese line for a status (the message itself is for the log).
fn status_text(kind: StatusKind, message: &str) -> String {
    let what = match kind {
        StatusKind::DeviceLost => "耳机/设备断开",
        StatusKind::Overrun => "音频丢失",
        StatusKind::Lagging => "识别延迟",
        StatusKind::PlaybookError => "话术库有错误，仍用旧版",
        StatusKind::AsrError => "识别出错",
        StatusKind::BadAudio => "音频异常",
        StatusKind::BoardUnreachable => "看板连不上",
        StatusKind::TruncatedInput => "录音文件不完整",
        _ => return message.to_string(),
    };
    what.to_string()
}

/// Between calls: what the last call came to.
fn last_call(ui: &mut Ui, s: &CallSummary) {
    ui.label(RichText::new(format!("上一通电话 · {} · 合规 {} 分", s.outcome.label_zh(), s.compliance.score)).size(15.0).strong());
    steps_row(ui, &s.steps, None);
    let reason = s.reason.map_or("未提", |r| r.label_zh());
    ui.label(RichText::new(format!("原因 {reason} · 情绪峰值 {} · 时长 {}", s.anger_peak_level.label_zh(), clock_short(s.duration_s))).size(13.0).color(MUTED));
    for p in s.compliance.parts.iter().filter(|p| p.points < p.max) {
        ui.label(RichText::new(format!("× {}（-{}）", p.detail, p.max - p.points)).size(13.0).color(AMBER));
    }
    if s.compliance.parts.iter().all(|p| p.points == p.max) {
        ui.label(RichText::new("✓ 四步都做到了").size(13.0).color(GREEN));
    }
}

/// The collapsed bar: time, anger, churn, the card's title.
fn collapsed_bar(ui: &mut Ui, state: &OverlayState) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 6.0;
        match &state.view.live {
            Some(live) => {
                ui.label(RichText::new("●").color(GREEN).size(11.0));
                ui.label(RichText::new(call_time(state, live)).strong());
                anger_meter(ui, live.progress.anger);
                let (risk, colour) = churn_risk(live);
                let reason = live.progress.reason.map(|r| format!("·{}", r.label_zh())).unwrap_or_default();
                chip(ui, &format!("{risk}{reason}"), colour);
                let title = live.alert.as_ref().map(|(c, _)| c.title.as_str()).or(live.card.as_ref().map(|c| c.title.as_str())).unwrap_or("");
                ui.label(RichText::new(title).color(SAY));
            }
            None => {
                ui.label(RichText::new("○ 等待通话").color(MUTED));
            }
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if ui.small_button("▢").on_hover_text("展开").clicked() {
                actions.push(Action::SetCollapsed(false));
            }
            drag_handle(ui, &mut actions);
        });
    });
    actions
}

/// The window's look: the theme and text sizes for reading mid-call.
pub fn style(ctx: &egui::Context, theme: &str) {
    ctx.set_theme(if theme == "light" { egui::Theme::Light } else { egui::Theme::Dark });
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        style.text_styles = [
            (TextStyle::Heading, FontId::new(17.0, FontFamily::Proportional)),
            (TextStyle::Body, FontId::new(14.0, FontFamily::Proportional)),
            (TextStyle::Button, FontId::new(13.0, FontFamily::Proportional)),
            (TextStyle::Small, FontId::new(11.0, FontFamily::Proportional)),
            (TextStyle::Monospace, FontId::new(13.0, FontFamily::Monospace)),
        ]
        .into();
    });
}

/// The window's background: the theme's panel colour at `opacity`, with a
/// small margin.
pub fn panel_frame(visuals: &egui::Visuals, opacity: f32) -> Frame {
    let fill = visuals.panel_fill;
    let alpha = (opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
    Frame::new().fill(Color32::from_rgba_unmultiplied(fill.r(), fill.g(), fill.b(), alpha)).inner_margin(Margin::symmetric(8, 6))
}

/// Draws the whole overlay and returns what the agent did.
pub fn show(ui: &mut Ui, state: &mut OverlayState) -> Vec<Action> {
    if state.collapsed {
        return collapsed_bar(ui, state);
    }
    let mut actions = Vec::new();
    ui.spacing_mut().item_spacing.y = 5.0;
    let live = state.view.live.clone();
    match live {
        Some(live) => {
            actions.extend(status_row(ui, state, &live));
            actions.extend(steps_and_buttons(ui, &live));
            problems_line(ui, state);
            if let Some((note, at)) = &live.note {
                if live.t - at < 90.0 {
                    note_card(ui, &note.from, &note.text);
                }
            }
            match &live.card {
                Some(card) => actions.extend(step_card(ui, state, card)),
                None => {
                    card_frame(MUTED).show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        ui.label(RichText::new("认真倾听，让客户把话说完").size(14.0).color(MUTED));
                    });
                }
            }
            if let Some((alert, _)) = &live.alert {
                alert_strip(ui, alert);
            }
            transcript(ui, &live, state.transcript_lines);
        }
        None => {
            ui.horizontal(|ui| {
                ui.label(RichText::new("○").color(MUTED));
                let waiting = if state.session_ended { "回放结束" } else { "等待下一通电话…" };
                ui.label(RichText::new(waiting).color(MUTED)).on_hover_text(&state.source_label);
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    if ui.small_button("▁").on_hover_text("收起为一行").clicked() {
                        actions.push(Action::SetCollapsed(true));
                    }
                    drag_handle(ui, &mut actions);
                });
            });
            problems_line(ui, state);
            if let Some(c) = state.view.last_call.clone() {
                last_call(ui, &c.ended.summary);
            } else {
                ui.label(RichText::new("通话开始后，这里会提示下一步该说什么。").size(13.0).color(MUTED));
            }
        }
    }
    actions
}
