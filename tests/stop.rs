//! Stopping gracefully: SIGTERM during a real-time replay keeps the words
//! in progress, closes the call with its summary and exits 0; SIGUSR1 ends
//! the call in progress.

mod util;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::*;

fn signal(pid: u32, sig: &str) {
    sh("kill", &[&format!("-{sig}"), &pid.to_string()]);
}

/// Runs `replay --realtime --json` on the bundled call, sends `sig` after
/// `after`, and returns the exit status and the events.
fn replay_with_signal(sig: &str, after: Duration) -> (std::process::ExitStatus, Vec<serde_json::Value>, String) {
    let mut child = Command::new(bin())
        .args(["replay", repo("samples/retention_call.wav").to_str().unwrap(), "--realtime", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start callcoach");
    std::thread::sleep(after);
    signal(child.id(), sig);
    // A hang guard only (the README gives the measured stop time).
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("callcoach did not stop after {sig}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let events = json_lines(&out);
    (out.status, events, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn sigterm_mid_sentence_keeps_the_words_and_closes_the_call() {
    require_model();
    // The customer says 喂，你好，我要销户，这个号码我不想用了 from 0.6 s to 4.7 s.
    let (status, events, stderr) = replay_with_signal("TERM", Duration::from_millis(3800));
    assert!(status.success(), "exit status {status}: {stderr}");
    let finals: Vec<&serde_json::Value> = events.iter().filter(|e| is_live_final(e)).collect();
    let heard: String = finals.iter().filter(|e| e["speaker"] == "customer").map(|e| e["text"].as_str().unwrap()).collect();
    assert!(heard.contains("销户") || heard.contains("消户"), "the words in progress were transcribed: {heard:?}\n{stderr}");
    assert!(events.iter().any(|e| e["type"] == "analysis" && e["churn"]["intent"] == true), "and analysed");
    let ended: Vec<&serde_json::Value> = events.iter().filter(|e| e["type"] == "call_ended").collect();
    assert_eq!(ended.len(), 1, "{events:?}");
    assert_eq!(ended[0]["reason"], "shutdown");
    assert_eq!(ended[0]["summary"]["churn_intent"], true);
    assert!(events.iter().any(|e| e["type"] == "status" && e["kind"] == "stopping"));
    // Nothing of the rest of the call was played.
    assert!(finals.len() <= 2, "{finals:?}");
}

#[test]
fn sigusr1_ends_the_call_in_progress_and_the_next_speech_starts_another() {
    require_model();
    let (status, events, stderr) = replay_with_signal("USR1", Duration::from_millis(12_000));
    assert!(status.success(), "{stderr}");
    let ends: Vec<&str> = events.iter().filter(|e| e["type"] == "call_ended").map(|e| e["reason"].as_str().unwrap()).collect();
    assert_eq!(ends, vec!["requested", "input_ended"], "{events:?}");
    let ids: std::collections::BTreeSet<&str> = events.iter().filter_map(|e| e["call_id"].as_str()).collect();
    assert_eq!(ids.len(), 2);
}
