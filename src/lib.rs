//! callcoach: a live coaching assistant for telecom retention calls.
//!
//! Pipeline: `audio` -> `vad` -> `asr` -> analysis -> coach -> overlay /
//! board. Each stage talks to the next through the typed events of
//! [`events`]. The command-line front end is in [`cli`] and [`commands`].

#![warn(missing_docs)]

pub mod analysis;
pub mod asr;
pub mod audio;
pub mod cli;
pub mod coach;
pub mod commands;
pub mod config;
pub mod events;
pub mod pipeline;
pub mod sysinfo;
pub mod text;
pub mod transcribe;
pub mod vad;
