//! The agent's overlay: a small always-on-top window that shows the one
//! card to say now, the customer's emotion and churn risk, the four steps,
//! the agent's own warnings, the last lines of the call, and between calls
//! the last call's summary. It renders a [`crate::view::CallView`] fed from
//! its own queue and never holds the pipeline up.
//!
//! [`ui`] draws (pure, tested with egui_kittest); [`app`] is the window;
//! [`fonts`] finds a font with Chinese glyphs.

#[cfg(feature = "engine")]
pub mod app;
pub mod fonts;
pub mod ui;

pub use ui::{panel_frame, show, style, Action, OverlayState};
