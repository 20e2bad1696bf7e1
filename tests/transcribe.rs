//! `callcoach transcribe` end to end: the real binary, the real model, real audio.

mod util;

use util::*;

fn transcript_text(out: &std::process::Output) -> String {
    json_lines(out).iter().map(|v| v["text"].as_str().unwrap_or_default().to_string()).collect::<Vec<_>>().join("")
}

#[test]
fn english_sentence_from_espeak_comes_back_word_for_word() {
    require_model();
    require_tool("espeak-ng", "espeak-ng");
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("en.wav");
    let sentence = "Hello, I would like to cancel my account today.";
    sh("espeak-ng", &["-v", "en-us", "-s", "140", "-w", wav.to_str().unwrap(), sentence]);
    let out = run_ok(&["transcribe", wav.to_str().unwrap(), "--language", "en", "--json"]);
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).filter(|w| !w.is_empty()).collect()
    };
    assert_eq!(words(&transcript_text(&out)), words(sentence));
}

#[test]
fn mandarin_fixtures_are_transcribed_in_simplified_characters() {
    require_model();
    let mut total = callcoach::score::CerCounts::default();
    let mut report = String::new();
    for line in zh_lines() {
        let wav = fixture(&format!("zh/{}.wav", line.id));
        let out = run_ok(&["transcribe", wav.to_str().unwrap(), "--json"]);
        let got = transcript_text(&out);
        let counts = callcoach::score::cer(&line.text, &got);
        let e = counts.rate();
        report.push_str(&format!("{:>16}  CER {:.2}  {}  <-  {}\n", line.id, e, got, line.text));
        total.add(counts);
        assert_eq!(callcoach::asr::filter::to_simplified(&got), got, "traditional characters left in {got:?}");
        assert!(e <= 0.45, "{} is too far off:\n{report}", line.id);
    }
    let overall = total.rate();
    println!("{report}overall CER {overall:.3}");
    assert!(overall <= 0.25, "overall CER {overall:.3}\n{report}");
}

#[test]
fn silence_noise_and_tones_give_no_text() {
    require_model();
    require_tool("sox", "sox");
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("silence.wav", &["-n", "-r", "16000", "-b", "16", "-c", "2", "{}", "trim", "0", "10"]),
        ("white.wav", &["-n", "-r", "16000", "-b", "16", "-c", "1", "{}", "synth", "5", "whitenoise", "vol", "0.3"]),
        ("hum.wav", &["-n", "-r", "8000", "-b", "16", "-c", "1", "{}", "synth", "5", "sine", "50", "vol", "0.5"]),
        ("rumble.wav", &["-n", "-r", "16000", "-b", "16", "-c", "1", "{}", "synth", "5", "brownnoise", "vol", "0.9", "tremolo", "5", "80"]),
        ("beeps.wav", &["-n", "-r", "16000", "-b", "16", "-c", "1", "{}", "synth", "0.3", "sine", "440", ":", "synth", "0.3", "sine", "880", "repeat", "5"]),
    ];
    for (name, args) in cases {
        let path = dir.path().join(name);
        let args: Vec<String> = args.iter().map(|a| a.replace("{}", path.to_str().unwrap())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sh("sox", &args);
        let out = run_ok(&["transcribe", path.to_str().unwrap(), "--json"]);
        assert_eq!(stdout(&out).trim(), "", "{name} produced text");
    }
}

#[test]
fn odd_formats_and_rates_give_the_same_words() {
    require_model();
    require_tool("sox", "sox");
    let src = fixture("zh/c_network.wav");
    let reference = transcript_text(&run_ok(&["transcribe", src.to_str().unwrap(), "--json"]));
    let dir = tempfile::tempdir().unwrap();
    let variants: &[(&str, &[&str])] = &[
        ("u8_8k.wav", &["-r", "8000", "-b", "8", "-e", "unsigned-integer"]),
        ("s24_44k.wav", &["-r", "44100", "-b", "24"]),
        ("f32_48k.wav", &["-r", "48000", "-b", "32", "-e", "floating-point"]),
        ("s32_22k.wav", &["-r", "22050", "-b", "32", "-e", "signed-integer"]),
    ];
    for (name, fmt) in variants {
        let out_path = dir.path().join(name);
        let mut args = vec![src.to_str().unwrap()];
        args.extend_from_slice(fmt);
        args.push(out_path.to_str().unwrap());
        sh("sox", &args);
        let got = transcript_text(&run_ok(&["transcribe", out_path.to_str().unwrap(), "--json"]));
        let e = cer(&reference, &got);
        assert!(e <= 0.25, "{name}: {got:?} vs {reference:?} (CER {e:.2})");
    }
}

#[test]
fn stereo_call_puts_each_turn_on_the_right_speaker() {
    require_model();
    let call = repo("samples/retention_call.wav");
    let out = run_ok(&["transcribe", call.to_str().unwrap(), "--json"]);
    let events = json_lines(&out);
    let timeline = std::fs::read_to_string(repo("samples/retention_call.tsv")).unwrap();
    let mut starts = Vec::new();
    for row in timeline.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        let (start, end, speaker, text): (f64, f64, &str, &str) = (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2], f[4]);
        // All segments overlapping this turn.
        let mine: Vec<&serde_json::Value> = events.iter().filter(|e| e["start"].as_f64().unwrap() < end && e["end"].as_f64().unwrap() > start).collect();
        assert!(!mine.is_empty(), "no segment for turn {text:?} at {start}..{end}\n{}", stdout(&out));
        for e in &mine {
            assert_eq!(e["speaker"], speaker, "turn {text:?}: {e}");
            assert!((e["start"].as_f64().unwrap() - start).abs() < 2.0 || e["start"].as_f64().unwrap() > start);
        }
        let got: String = mine.iter().map(|e| e["text"].as_str().unwrap()).collect();
        assert!(cer(text, &got) <= 0.45, "turn {text:?} heard as {got:?}");
        starts.push(mine[0]["start"].as_f64().unwrap());
        let first_start = mine[0]["start"].as_f64().unwrap();
        assert!((first_start - start).abs() <= 0.5, "turn {text:?} starts at {first_start}, expected {start}");
    }
    let all_starts: Vec<f64> = events.iter().map(|e| e["start"].as_f64().unwrap()).collect();
    assert!(all_starts.windows(2).all(|w| w[0] <= w[1]), "segments out of order: {all_starts:?}");
}

#[test]
fn unreadable_wavs_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("not_audio.wav");
    std::fs::write(&junk, "RIFF....WAVEjunk that is not a wav").unwrap();
    let err = run_fail(&["transcribe", junk.to_str().unwrap()]);
    assert!(err.contains("not_audio.wav"), "{err}");
    let missing = dir.path().join("nowhere.wav");
    let err = run_fail(&["transcribe", missing.to_str().unwrap()]);
    assert!(err.contains("nowhere.wav") && err.contains("No such file"), "{err}");
    // A mu-law file (a common softphone recording format) is named as such.
    require_tool("sox", "sox");
    let mulaw = dir.path().join("mulaw.wav");
    sh("sox", &[fixture("zh/c_accept.wav").to_str().unwrap(), "-e", "u-law", mulaw.to_str().unwrap()]);
    let err = run_fail(&["transcribe", mulaw.to_str().unwrap()]);
    assert!(err.contains("mulaw.wav") && err.contains("PCM"), "{err}");
}

#[test]
fn truncated_wav_still_transcribes_what_is_there() {
    require_model();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.wav");
    let bytes = std::fs::read(fixture("zh/c_port_out.wav")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).unwrap();
    let out = run_ok(&["transcribe", cut.to_str().unwrap(), "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("data stops after"), "no truncation warning: {stderr}");
    assert!(!transcript_text(&out).is_empty(), "nothing transcribed from the part that is there");
}

#[test]
fn missing_or_truncated_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let wav = fixture("zh/c_accept.wav");
    let missing = dir.path().join("no-model.bin");
    let err = run_fail(&["transcribe", wav.to_str().unwrap(), "--model", missing.to_str().unwrap()]);
    assert!(err.contains("no-model.bin") && err.contains("callcoach model install"), "{err}");

    let model = require_model();
    let bytes = std::fs::read(&model).unwrap();
    let cut = dir.path().join("cut-model.bin");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let err = run_fail(&["transcribe", wav.to_str().unwrap(), "--model", cut.to_str().unwrap()]);
    assert!(err.contains("cut-model.bin") && err.contains("truncated"), "{err}");
    let err = run_fail(&["model", "check", cut.to_str().unwrap()]);
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn stats_report_load_time_real_time_factor_and_memory() {
    require_model();
    let out = run_ok(&["transcribe", fixture("zh/c_cancel.wav").to_str().unwrap(), "--stats"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for key in ["model_load_ms:", "real_time_factor:", "peak_rss_mib:"] {
        let line = stderr.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("{key} missing: {stderr}"));
        let v: f64 = line[key.len()..].trim().parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        assert!(v > 0.0, "{line}");
    }
}
