//! callcoach: a live coaching assistant for telecom retention calls.
//!
//! Pipeline: `audio` -> `vad` -> `asr` -> `analysis` -> `coach` -> overlay /
//! board. Each stage talks to the next through the typed events of
//! [`events`], a leaf module that depends on nothing of the pipeline.
//! [`view::CallView`] is the one reducer every screen renders;
//! [`session`] turns a validated [`config::Config`] into running parts.
//!
//! The parts that need whisper.cpp, cmake/clang and ALSA (the recogniser,
//! live capture and the pipeline built on them) sit behind the default
//! `engine` feature, so the supervisors' board builds without them.
//! The command line lives in the binary, not here.

#![warn(missing_docs)]

pub mod analysis;
pub mod asr;
pub mod audio;
#[cfg(feature = "board")]
pub mod board;
#[cfg(feature = "board")]
pub mod broker;
pub mod call;
pub mod coach;
pub mod config;
pub mod events;
pub mod fuzzing;
#[cfg(feature = "overlay")]
pub mod overlay;
pub mod pii;
#[cfg(feature = "engine")]
pub mod pipeline;
pub mod score;
#[cfg(feature = "engine")]
pub mod session;
pub mod summary;
pub mod sysinfo;
pub mod text;
pub mod timefmt;
#[cfg(feature = "engine")]
pub mod transcribe;
pub mod transcript;
#[cfg(all(feature = "board", feature = "engine"))]
pub mod uplink;
pub mod vad;
pub mod view;
pub mod wire;
