//! The broker path for a large centre: agents publish their events to NATS
//! JetStream (one subject per site and agent), the stream keeps them while
//! no board is up, and any number of boards consume them, each through its
//! own durable consumer (each board the full picture, or one site's calls).
//! Every message carries `Nats-Msg-Id: CALL_ID:SEQ`; boards store by
//! `call_id` + `seq`, so a redelivery or a resend is stored once.
//!
//! Subjects: `callcoach.events.SITE.AGENT` (agent -> boards) and
//! `callcoach.notes.SITE.AGENT` (boards -> agent). Site and agent names are
//! written as subject-safe tokens (see [`token`]).

use std::time::Duration;

use async_nats::jetstream::{self, stream};

/// The JetStream stream that holds the events.
pub const STREAM: &str = "CALLCOACH";
/// Prefix of the event subjects.
pub const EVENTS: &str = "callcoach.events";
/// Prefix of the note subjects.
pub const NOTES: &str = "callcoach.notes";

/// A name as a subject token: ASCII letters, digits, `-` and `_` stay; any
/// other character (Chinese names, dots, spaces) becomes `~` and its UTF-8
/// bytes in hex, so the token is unambiguous and reversible. Names are not
/// empty (the configuration refuses an empty agent name or site).
pub fn token(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("~{b:02x}"));
            }
        }
    }
    out
}

/// The name a [`token`] came from.
pub fn untoken(t: &str) -> Option<String> {
    let mut bytes = Vec::new();
    let mut it = t.bytes();
    while let Some(b) = it.next() {
        if b == b'~' {
            let hex = [it.next()?, it.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

/// Where an agent publishes.
pub fn events_subject(site: &str, agent: &str) -> String {
    format!("{EVENTS}.{}.{}", token(site), token(agent))
}

/// Where an agent hears supervisors' notes.
pub fn notes_subject(site: &str, agent: &str) -> String {
    format!("{NOTES}.{}.{}", token(site), token(agent))
}

/// Site and agent of an event subject.
pub fn parse_events_subject(subject: &str) -> Option<(String, String)> {
    let rest = subject.strip_prefix(EVENTS)?.strip_prefix('.')?;
    let (site, agent) = rest.split_once('.')?;
    if agent.contains('.') {
        return None;
    }
    Some((untoken(site)?, untoken(agent)?))
}

/// The stream's settings, the same for agents and boards (whoever comes
/// first creates it): file storage, events kept 14 days, duplicates
/// recognised for 10 minutes.
pub fn stream_config() -> stream::Config {
    stream::Config {
        name: STREAM.into(),
        subjects: vec![format!("{EVENTS}.>")],
        storage: stream::StorageType::File,
        max_age: Duration::from_secs(14 * 24 * 3600),
        duplicate_window: Duration::from_secs(600),
        ..Default::default()
    }
}

/// Connects and makes sure the stream exists.
pub async fn connect(url: &str) -> Result<(async_nats::Client, jetstream::Context), String> {
    let client = async_nats::ConnectOptions::new().connection_timeout(Duration::from_secs(5)).connect(url).await.map_err(|e| format!("NATS at {url}: {e}"))?;
    let js = jetstream::new(client.clone());
    js.get_or_create_stream(stream_config()).await.map_err(|e| format!("NATS at {url}: the {STREAM} stream: {e}"))?;
    Ok((client, js))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_make_reversible_subject_tokens() {
        for name in ["王丽", "wang.li", "a b", "agent-7_x", "~", "~41"] {
            let t = token(name);
            assert!(!t.contains('.') && !t.contains(' ') && !t.contains('*') && !t.contains('>'), "{t}");
            assert_eq!(untoken(&t).as_deref(), Some(name));
        }
        let s = events_subject("北京一部", "王丽");
        assert_eq!(parse_events_subject(&s), Some(("北京一部".into(), "王丽".into())));
        assert_eq!(parse_events_subject("callcoach.events.a.b.c"), None);
    }
}
