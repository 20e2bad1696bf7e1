//! Calls as units: call ids, gap-free `seq`, call end after silence, the
//! summary, call-time stamps, and a display that never reads not slowing
//! the pipeline down.

mod util;

use std::collections::BTreeMap;

use callcoach::audio::layout::channel_map;
use callcoach::audio::replay::spawn_replay;
use callcoach::audio::wav::read_wav;
use callcoach::config::AudioSection;
use callcoach::events::{Event, StatusKind};
use callcoach::pipeline::{Delivery, Fanout, Pipeline};
use util::*;

/// The bundled call, `gap_s` of silence, and the bundled call again.
fn two_calls(dir: &std::path::Path, gap_s: f64) -> std::path::PathBuf {
    let mut r = hound::WavReader::open(repo("samples/retention_call.wav")).unwrap();
    let spec = r.spec();
    let samples: Vec<f32> = r.samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect();
    let ch = spec.channels as usize;
    let mut chans: Vec<Vec<f32>> = (0..ch).map(|c| samples.iter().skip(c).step_by(ch).copied().collect()).collect();
    let gap = (gap_s * spec.sample_rate as f64) as usize;
    for c in &mut chans {
        let once = c.clone();
        c.extend(std::iter::repeat_n(0.0, gap));
        c.extend(once);
    }
    let path = dir.join("two_calls.wav");
    write_wav(&path, spec.sample_rate, &chans);
    path
}

#[test]
fn a_recording_with_two_calls_gives_two_calls_each_with_its_summary() {
    require_model();
    let dir = tempfile::tempdir().unwrap();
    let wav = two_calls(dir.path(), 45.0);
    let out = run_ok(&["replay", wav.to_str().unwrap(), "--json"]);
    let events = json_lines(&out);
    let mut by_call: BTreeMap<String, Vec<&serde_json::Value>> = BTreeMap::new();
    for e in &events {
        assert_eq!(e["v"], 2, "every event carries the schema version: {e}");
        match e["call_id"].as_str() {
            Some(id) => by_call.entry(id.to_string()).or_default().push(e),
            None => assert_eq!(e["type"], "status", "only statuses fall between calls: {e}"),
        }
    }
    assert_eq!(by_call.len(), 2, "two distinct call ids: {:?}", by_call.keys());
    let mut offsets = Vec::new();
    for (id, evs) in &by_call {
        let seqs: Vec<u64> = evs.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (1..=evs.len() as u64).collect::<Vec<_>>(), "seq of {id} is 1..n without gaps");
        assert_eq!(evs[0]["type"], "call_started", "{id} opens with call_started");
        offsets.push(evs[0]["input_offset_s"].as_f64().unwrap());
        let ended: Vec<&&serde_json::Value> = evs.iter().filter(|e| e["type"] == "call_ended").collect();
        assert_eq!(ended.len(), 1, "one call_ended for {id}");
        assert_eq!(evs.last().unwrap()["type"], "call_ended", "call_ended is the last event of {id}");
        let s = &ended[0]["summary"];
        assert_eq!(s["reason"], "network", "{s}");
        assert_eq!(s["outcome"], "retained", "the customer took the data pack: {s}");
        assert!(s["churn_intent"] == true && s["anger_peak"].as_f64().unwrap() > 0.3, "{s}");
        for step in ["listen", "empathize", "propose", "confirm"] {
            assert_eq!(s["steps"][step]["state"], "done", "{step}: {s}");
        }
        let score = s["compliance"]["score"].as_u64().unwrap();
        let parts = s["compliance"]["parts"].as_array().unwrap();
        assert!(score <= 100 && !parts.is_empty(), "{s}");
        let (earned, max) = parts.iter().fold((0, 0), |(e, m), p| (e + p["points"].as_u64().unwrap(), m + p["max"].as_u64().unwrap()));
        assert_eq!(score, (earned as f64 * 100.0 / max as f64).round() as u64, "the score is its parts: {s}");
        assert!(s["agent_talk_s"].as_f64().unwrap() > 10.0 && s["customer_talk_s"].as_f64().unwrap() > 5.0, "{s}");
        assert!(!s["cards"].as_array().unwrap().is_empty(), "{s}");
        // Times are call times: the call's first words are near 0, its last
        // within its own length.
        let starts: Vec<f64> = evs.iter().filter(|e| e["type"] == "segment").map(|e| e["start"].as_f64().unwrap()).collect();
        assert!(starts.iter().all(|t| (0.0..45.0).contains(t)), "{id}: {starts:?}");
        assert_eq!(ended[0]["reason"], if offsets.len() == 1 { "silence" } else { "input_ended" });
    }
    // The second call starts after the first, its length and the gap in.
    assert!(offsets[1] - offsets[0] > 80.0, "{offsets:?}");

    // The human timeline prints each line at its own call time.
    let human = stdout(&run_ok(&["replay", wav.to_str().unwrap()]));
    let headers: Vec<&str> = human.lines().filter(|l| l.starts_with("── call") && l.contains("started")).collect();
    assert_eq!(headers.len(), 2, "{human}");
    let first_lines: Vec<&str> = human.lines().skip_while(|l| !l.starts_with("── call 2")).filter(|l| l.contains(" customer ")).take(1).collect();
    assert!(first_lines[0].starts_with("[00:00."), "the second call's first line at its own call time: {human}");
    // (a second-pass line is printed at the time its turn was said, again)
    let times: Vec<&str> = human.lines().filter(|l| l.contains(" agent ") && !l.contains("(second pass)")).map(|l| &l[..10]).collect();
    let distinct: std::collections::BTreeSet<&&str> = times.iter().collect();
    assert!(distinct.len() > times.len() / 2, "lines are at the time they were said, not printed: {times:?}");
    assert!(human.contains("outcome retained") && human.contains("compliance"), "{human}");
}

#[test]
fn a_display_that_never_reads_does_not_hold_up_the_pipeline() {
    require_model();
    let path = repo("samples/retention_call.wav");
    let wav = read_wav(&path).unwrap();
    let map = channel_map(&wav, &AudioSection::default(), &path).unwrap();
    let parts = test_pipeline_parts("retention_call.wav");
    let mut fanout = Fanout::new();
    // A window that has frozen: subscribed, never read.
    let stuck = fanout.subscribe("overlay", Delivery::DropOldest(4));
    let record = fanout.subscribe("json", Delivery::Lossless);
    let (tx, rx) = crossbeam_channel::bounded(64);
    let pipeline = Pipeline::start(rx, tx.clone(), parts, fanout).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let replay = spawn_replay(wav, map, None, tx, stop).unwrap();
    let events: Vec<_> = record.iter().collect();
    // The stream ended: the pipeline finished although one consumer never read.
    pipeline.join();
    replay.join().unwrap();
    let last_of_call = events.iter().rev().find(|e| e.call_id.is_some()).map(|e| &e.event);
    assert!(matches!(last_of_call, Some(Event::CallEnded(_))), "the whole call came through: {last_of_call:?}");
    let finals = events.iter().filter(|e| matches!(&e.event, Event::Segment(s) if s.is_final)).count();
    assert!(finals >= 8, "recognition went on: {finals} finals");
    let m = stuck.meter().report();
    assert_eq!(stuck.len(), 4, "the stuck queue holds its capacity");
    assert_eq!(m.dropped, m.sent - 4, "every other event was dropped and counted: {m:?}");
    let behind: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Status(s) if s.kind == StatusKind::ConsumerBehind => Some(s.message.as_str()),
            _ => None,
        })
        .collect();
    assert!(behind.iter().any(|m| m.contains("overlay")), "the drops are reported in a status: {behind:?}");
    assert_eq!(record.meter().report().dropped, 0, "the lossless record lost nothing");
}
