//! Broken and hostile input through the real binary: every bad file gets
//! a clear error naming it, and nothing that can be used is thrown away.

mod util;

use util::*;

#[test]
fn a_transcript_with_lines_that_are_not_utf8_reports_them_and_analyses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mixed.txt");
    let mut bytes = "C: 我要销户\n".as_bytes().to_vec();
    bytes.extend_from_slice(b"A: \xff\xfe broken\n");
    bytes.extend_from_slice("A: 您好，请问是什么原因呢？\n".as_bytes());
    std::fs::write(&p, bytes).unwrap();
    let out = run_env(&["analyze", p.to_str().unwrap()], &[]);
    assert!(!out.status.success(), "a bad line makes the exit status non-zero");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mixed.txt:2") && err.contains("UTF-8"), "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "the good lines are analysed: {lines:?}");
    assert_eq!(lines[1]["speaker"], "agent");
}

#[test]
fn an_empty_or_tiny_wav_says_what_is_wrong_once() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("empty.wav", &b""[..]), ("tiny.wav", &b"RIFF\x04\x00\x00\x00WAVE"[..])] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let err = run_fail(&["transcribe", p.to_str().unwrap()]);
        let line = err.lines().find(|l| l.starts_with("error:")).unwrap_or(&err).to_string();
        assert!(line.contains(name), "{err}");
        assert!(line.contains("bytes"), "says the file is too short: {err}");
        let words: Vec<&str> = line.split(": ").collect();
        let mut seen = std::collections::HashSet::new();
        assert!(words.iter().all(|w| seen.insert(*w)), "no cause said twice: {line}");
    }
}

#[test]
fn a_wav_with_eight_channels_says_which_two_are_used() {
    require_model();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("eight.wav");
    let (rate, speech) = read_mono(&fixture("zh/c_cancel.wav"));
    let mut chans = vec![vec![0.0f32; speech.len()]; 8];
    chans[1] = speech;
    write_wav(&p, rate, &chans);
    let out = run_ok(&["replay", p.to_str().unwrap(), "--json"]);
    let events = json_lines(&out);
    let note = events.iter().find(|e| e["type"] == "status" && e["kind"] == "extra_channels").unwrap_or_else(|| panic!("{events:?}"));
    let m = note["message"].as_str().unwrap();
    assert!(m.contains("8 channels") && m.contains("channel 0") && m.contains("channel 1"), "{m}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("8 channels"), "and on the terminal");
    assert!(events.iter().any(|e| e["type"] == "segment" && e["speaker"] == "customer"), "channel 1 is the customer");
}

#[test]
fn a_turn_of_400000_characters_is_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("long.txt");
    let unit = "你们的信号太差了，在家里打不通电话，";
    let text: String = unit.chars().cycle().take(400_000).collect();
    std::fs::write(&p, format!("C: {text}我要销户\nA: 好的\n")).unwrap();
    let out = run_ok(&["analyze", p.to_str().unwrap()]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["churn"]["intent"], true, "the intent at the very end is found");
    assert!(lines[0]["reason"].is_string(), "a reason is found: {}", lines[0]["reason"]);
    assert!(lines[0]["why"].as_array().unwrap().len() <= 80, "why stays short");
}
