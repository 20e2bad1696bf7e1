//! The window: an always-on-top, borderless eframe app that renders the
//! overlay from its own event queue. A small thread applies events to the
//! shared state and asks for a repaint, so the window repaints on events
//! only (plus once a second for the call timer while a call is on).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eframe::egui::{self, ViewportBuilder, ViewportCommand, X11WindowType};

use super::fonts::{self, FontError};
use super::ui::{self, Action, OverlayState};
use crate::config::OverlaySection;
use crate::events::{Event, StatusKind};
use crate::pipeline::{Controls, Subscription};
use crate::session::Stopper;

/// Errors opening the window.
#[derive(Debug, thiserror::Error)]
pub enum OverlayError {
    /// No Chinese font.
    #[error(transparent)]
    Font(#[from] FontError),
    /// The window could not be opened.
    #[error("cannot open the overlay window: {0}")]
    Window(String),
}

/// How the window was used, for `--stats` and the README.
#[derive(Debug, Clone, Default)]
pub struct OverlayReport {
    /// Frames painted.
    pub frames: u64,
    /// Time from an event reaching the window to the frame that shows it, ms.
    pub event_to_frame_ms: Vec<f64>,
}

/// What the window needs besides its events.
pub struct OverlayParts {
    /// `[overlay]` settings.
    pub cfg: OverlaySection,
    /// What runs ("回放 FILE", "实时").
    pub source_label: String,
    /// The pipeline's controls (end call, card feedback).
    pub controls: Controls,
    /// Stops the session when the window is closed.
    pub stopper: Stopper,
}

#[derive(Default)]
struct Shared {
    state: OverlayState,
    /// When the current call started, by the wall clock.
    call_started_at: Option<Instant>,
    /// The oldest event applied since the last frame.
    unpainted_since: Option<Instant>,
    ended: bool,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while holding the lock leaves the state usable.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// Applies events as they come and wakes the window.
fn spawn_feeder(events: Subscription, shared: Arc<Mutex<Shared>>, ctx: egui::Context) -> std::io::Result<()> {
    std::thread::Builder::new().name("overlay events".into()).spawn(move || {
        while let Some(ev) = events.recv() {
            {
                let mut s = lock(&shared);
                if let Event::CallStarted(_) = ev.event {
                    s.call_started_at = Instant::now().checked_sub(Duration::from_secs_f64(ev.t.max(0.0)));
                    s.state.verdicts.clear();
                    s.state.why_open = false;
                }
                if let Event::Status(st) = &ev.event {
                    match st.kind {
                        StatusKind::BoardUnreachable => s.state.board_line = Some((false, st.message.clone())),
                        StatusKind::BoardConnected => s.state.board_line = Some((true, "看板已连接".into())),
                        _ => {}
                    }
                }
                s.state.view.apply(&ev);
                if s.state.view.live.is_none() {
                    s.call_started_at = None;
                }
                s.unpainted_since.get_or_insert_with(Instant::now);
            }
            ctx.request_repaint();
        }
        lock(&shared).ended = true;
        ctx.request_repaint();
    })?;
    Ok(())
}

struct OverlayApp {
    shared: Arc<Mutex<Shared>>,
    parts: OverlayParts,
    report: Arc<Mutex<OverlayReport>>,
    expanded_size: egui::Vec2,
}

impl eframe::App for OverlayApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let mut s = lock(&self.shared);
        {
            let mut r = self.report.lock().unwrap_or_else(|p| p.into_inner());
            r.frames += 1;
            if let Some(at) = s.unpainted_since.take() {
                r.event_to_frame_ms.push(at.elapsed().as_secs_f64() * 1000.0);
            }
        }
        s.state.call_clock_s = s.call_started_at.map(|t| t.elapsed().as_secs_f64());
        s.state.session_ended = s.ended;
        let frame = ui::panel_frame(ui.visuals(), self.parts.cfg.opacity);
        let actions = egui::CentralPanel::default().frame(frame).show(ui, |ui| ui::show(ui, &mut s.state)).inner;
        let live = s.state.view.live.is_some();
        let ended = s.ended;
        for a in actions {
            match a {
                Action::CardFeedback(f) => {
                    s.state.verdicts.push((f.card_id.clone(), f.verdict));
                    self.parts.controls.card_feedback(f);
                }
                Action::EndCall => self.parts.controls.end_call(),
                Action::SetCollapsed(c) => {
                    s.state.collapsed = c;
                    if c {
                        self.expanded_size = ctx.content_rect().size();
                        ctx.send_viewport_cmd(ViewportCommand::InnerSize(egui::vec2(self.expanded_size.x, ui::COLLAPSED_HEIGHT)));
                    } else {
                        ctx.send_viewport_cmd(ViewportCommand::InnerSize(self.expanded_size));
                    }
                }
                Action::StartDrag => ctx.send_viewport_cmd(ViewportCommand::StartDrag),
            }
        }
        drop(s);
        if live {
            // The call timer.
            ctx.request_repaint_after(Duration::from_secs(1));
        }
        if ended && self.parts.stopper.stopping() {
            ctx.send_viewport_cmd(ViewportCommand::Close);
        }
        if ctx.input(|i| i.viewport().close_requested()) {
            self.parts.stopper.stop();
        }
    }

    fn clear_color(&self, _visuals: &egui::Visuals) -> [f32; 4] {
        if self.parts.cfg.opacity < 1.0 {
            [0.0; 4]
        } else {
            egui::Color32::from_gray(27).to_normalized_gamma_f32()
        }
    }
}

/// Loads the Chinese font named by the settings (or found on the system).
pub fn load_font(cfg: &OverlaySection) -> Result<egui::FontData, FontError> {
    let choice = fonts::find(cfg.font.as_deref(), cfg.font_index)?;
    tracing::info!(font = %choice.path.display(), index = choice.index, "overlay font");
    fonts::load(&choice)
}

/// Opens the window and runs it until it is closed. Must be called on the
/// main thread (windowing systems require it). `font` comes from
/// [`load_font`], called first so a missing font is reported before anything starts.
pub fn run(events: Subscription, parts: OverlayParts, font: egui::FontData) -> Result<OverlayReport, OverlayError> {
    let cfg = parts.cfg.clone();
    let size = cfg.size.unwrap_or([380.0, 280.0]);
    let mut viewport = ViewportBuilder::default()
        .with_title("callcoach")
        .with_app_id("callcoach-overlay")
        .with_inner_size(size)
        .with_min_inner_size([300.0, ui::COLLAPSED_HEIGHT])
        .with_decorations(false)
        .with_resizable(true)
        .with_transparent(cfg.opacity < 1.0)
        .with_taskbar(false)
        // Never take keyboard focus from the softphone or the CRM.
        .with_active(false)
        .with_window_type(X11WindowType::Utility);
    if cfg.always_on_top {
        viewport = viewport.with_always_on_top();
    }
    if let Some(p) = cfg.position {
        viewport = viewport.with_position(p);
    }
    let options = eframe::NativeOptions { viewport, persist_window: cfg.position.is_none() && cfg.size.is_none(), ..Default::default() };
    let shared = Arc::new(Mutex::new(Shared { state: OverlayState::new(cfg.transcript_lines), ..Default::default() }));
    {
        let mut s = lock(&shared);
        s.state.collapsed = cfg.start_collapsed;
        s.state.source_label = parts.source_label.clone();
    }
    let report = Arc::new(Mutex::new(OverlayReport::default()));
    let app_report = report.clone();
    let mut events = Some(events);
    eframe::run_native(
        "callcoach-overlay",
        options,
        Box::new(move |cc| {
            fonts::install(&cc.egui_ctx, font);
            ui::style(&cc.egui_ctx, &cfg.theme);
            if let Some(events) = events.take() {
                spawn_feeder(events, shared.clone(), cc.egui_ctx.clone())?;
            }
            let ctx = cc.egui_ctx.clone();
            parts.stopper.on_stop(move || ctx.request_repaint());
            Ok(Box::new(OverlayApp { shared, parts, report: app_report, expanded_size: egui::vec2(size[0], size[1]) }))
        }),
    )
    .map_err(|e| OverlayError::Window(e.to_string()))?;
    let r = report.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(r)
}
