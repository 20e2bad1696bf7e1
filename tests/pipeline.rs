//! The streaming pipeline: replay of real recordings through the real model,
//! a device lost mid-utterance, and the queue's backpressure.

mod util;

use std::sync::Arc;
use std::time::Duration;

use callcoach::audio::source::SourceMsg;
use callcoach::events::{EndReason, Event, Speaker, TimedEvent};
use callcoach::pipeline::{Delivery, Fanout, Pipeline, Subscription};
use util::*;

fn events_of(out: &std::process::Output) -> Vec<serde_json::Value> {
    json_lines(out)
}

#[test]
fn replay_puts_the_right_words_on_the_right_speaker_in_order() {
    require_model();
    let out = run_ok(&["replay", repo("samples/retention_call.wav").to_str().unwrap(), "--json"]);
    let events = events_of(&out);
    for e in &events {
        assert!(e["t"].as_f64().is_some() && e["type"].as_str().is_some(), "every event has t and type: {e}");
    }
    let starts: Vec<&serde_json::Value> = events.iter().filter(|e| e["type"] == "call_started").collect();
    assert_eq!(starts.len(), 1, "one call: {starts:?}");
    // Segment times are call times; the call starts at its first speech.
    let offset = starts[0]["input_offset_s"].as_f64().unwrap();
    let finals: Vec<serde_json::Value> = events
        .iter()
        .filter(|e| e["type"] == "segment" && e["final"] == true && e["revision"].is_null())
        .map(|e| {
            let mut e = e.clone();
            for k in ["start", "end"] {
                e[k] = serde_json::json!(e[k].as_f64().unwrap() + offset);
            }
            e
        })
        .collect();
    let ends: Vec<f64> = finals.iter().map(|e| e["end"].as_f64().unwrap()).collect();
    assert!(ends.windows(2).all(|w| w[0] <= w[1] + 0.5), "finals come out in call order: {ends:?}");
    let timeline = std::fs::read_to_string(repo("samples/retention_call.tsv")).unwrap();
    for row in timeline.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        let (start, end, speaker, text): (f64, f64, &str, &str) = (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2], f[4]);
        let mine: Vec<&serde_json::Value> = finals.iter().filter(|e| e["start"].as_f64().unwrap() < end && e["end"].as_f64().unwrap() > start).collect();
        assert!(!mine.is_empty(), "nothing for {text:?}");
        assert!(mine.iter().all(|e| e["speaker"] == speaker), "{text:?} on the wrong speaker: {mine:?}");
        let got: String = mine.iter().map(|e| e["text"].as_str().unwrap()).collect();
        assert!(cer(text, &got) <= 0.45, "{text:?} heard as {got:?}");
        let first = mine[0]["start"].as_f64().unwrap();
        assert!((first - start).abs() <= 0.5, "{text:?} starts at {first}, expected {start}");
        // Final segments carry the acoustic features.
        // (latency is only measured when the audio comes in real time)
        for e in &mine {
            assert!(e["rms_db"].as_f64().unwrap() < 0.0 && e["latency_ms"].is_null(), "{e}");
        }
    }
    // The coaching follows the call.
    let cards: Vec<&str> = events.iter().filter(|e| e["type"] == "card" && e["action"] == "shown").map(|e| e["id"].as_str().unwrap()).collect();
    for want in ["listen.find_reason", "empathize.first", "confirm.consolidate"] {
        assert!(cards.contains(&want), "{want} not shown: {cards:?}");
    }
    assert!(events.iter().any(|e| e["type"] == "analysis" && e["churn"]["intent"] == true));
    assert!(events.iter().any(|e| e["type"] == "alert" && e["kind"] == "churn_intent"));
}

#[test]
fn the_second_pass_rewords_whole_turns_before_the_call_ends() {
    require_model();
    let call = repo("tests/asr_eval/dev/d02.wav");
    let out = run_ok(&["replay", call.to_str().unwrap(), "--json", "--no-partials"]);
    let events = events_of(&out);
    let segment = |e: &serde_json::Value| (e["speaker"].as_str().unwrap().to_string(), e["start"].as_f64().unwrap(), e["end"].as_f64().unwrap());
    let revisions: Vec<(usize, &serde_json::Value)> = events.iter().enumerate().filter(|(_, e)| e["type"] == "segment" && e["revision"] == 1).collect();
    assert!(!revisions.is_empty(), "no turn was decoded again: {}", String::from_utf8_lossy(&out.stdout));
    let ended = events.iter().position(|e| e["type"] == "call_ended").expect("the call ends");
    for (at, r) in &revisions {
        let (speaker, start, end) = segment(r);
        assert!(*at < ended, "a revision after the call ended: {r}");
        assert_eq!(r["final"], true);
        // It covers two or more live finals of the same speaker, said before it.
        let covered: Vec<&serde_json::Value> = events[..*at]
            .iter()
            .filter(|e| e["type"] == "segment" && e["final"] == true && e["revision"].is_null())
            .filter(|e| {
                let (s, a, b) = segment(e);
                s == speaker && a >= start - 0.001 && b <= end + 0.001
            })
            .collect();
        assert!(covered.len() >= 2, "{r} covers {covered:?}");
        let live: String = covered.iter().map(|e| e["text"].as_str().unwrap()).collect();
        assert_ne!(live, r["text"].as_str().unwrap(), "a revision only comes with different words");
        // The turn is analysed again on the new words.
        assert!(events[*at + 1..].iter().any(|e| e["type"] == "analysis" && e["speaker"] == speaker.as_str() && e["text"] == r["text"]), "no analysis of {r}");
    }
    // Off: no revisions.
    let off = events_of(&run_ok(&["replay", call.to_str().unwrap(), "--json", "--no-partials", "--second-pass", "off"]));
    assert!(off.iter().all(|e| e["revision"].is_null()));
}

#[test]
fn replay_of_silence_and_noise_gives_no_segments() {
    require_model();
    require_tool("sox", "sox");
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("noise.wav");
    // Left: pink noise; right: silence then hum.
    sh("sox", &["-n", "-r", "8000", "-b", "16", "-c", "2", wav.to_str().unwrap(), "synth", "8", "pinknoise", "sine", "60", "vol", "0.3"]);
    let out = run_ok(&["replay", wav.to_str().unwrap(), "--json"]);
    let segs: Vec<serde_json::Value> = events_of(&out).into_iter().filter(|e| e["type"] == "segment").collect();
    assert!(segs.is_empty(), "text from noise: {segs:?}");
}

#[test]
fn realtime_replay_gives_partials_before_the_final_and_stats() {
    require_model();
    let clip = fixture("zh/c_cancel.wav");
    let out = run_ok(&["replay", clip.to_str().unwrap(), "--realtime", "--json", "--stats"]);
    let events = events_of(&out);
    let partial_t = events.iter().find(|e| e["type"] == "segment" && e["final"] == false).map(|e| e["t"].as_f64().unwrap());
    let fin = events.iter().find(|e| e["type"] == "segment" && e["final"] == true);
    let (Some(p), Some(fin)) = (partial_t, fin) else { panic!("need a partial and a final: {events:?}") };
    let f = fin["t"].as_f64().unwrap();
    assert!(p < f, "the partial ({p}) comes before the final ({f})");
    // Real time: t is the wall-clock call time, so the final is emitted
    // after the speech it holds has ended.
    assert!(f >= fin["end"].as_f64().unwrap(), "t is wall time in --realtime: {fin}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for key in ["final_latency_ms p50:", "peak_rss_mib:", "partials:"] {
        assert!(stderr.contains(key), "{key} missing from --stats: {stderr}");
    }
}

/// A pipeline on the built-in playbook fed by hand, with one lossless consumer.
fn test_pipeline() -> (crossbeam_channel::Sender<SourceMsg>, Pipeline, Subscription) {
    let parts = test_pipeline_parts("test");
    let (tx, rx) = crossbeam_channel::bounded(64);
    let mut fanout = Fanout::new();
    let sub = fanout.subscribe("test", Delivery::Lossless);
    let p = Pipeline::start(rx, tx.clone(), parts, fanout).unwrap();
    (tx, p, sub)
}

#[test]
fn a_device_lost_mid_utterance_keeps_what_was_captured_and_resumes() {
    require_model();
    let (rate, clip) = read_mono(&fixture("zh/c_network.wav"));
    let (tx, pipeline, sub) = test_pipeline();
    let cut = clip.len() * 6 / 10; // mid-sentence
    let lead = vec![0.0f32; rate as usize / 2];
    for part in [&lead[..], &clip[..cut]] {
        for chunk in part.chunks(320) {
            tx.send(SourceMsg::Audio { speaker: Speaker::Customer, sample_rate_hz: rate, samples: chunk.to_vec() }).unwrap();
        }
    }
    tx.send(SourceMsg::DeviceLost { speaker: Speaker::Customer, message: "headset unplugged".into() }).unwrap();
    tx.send(SourceMsg::DeviceBack { speaker: Speaker::Customer, gap_s: 1.0 }).unwrap();
    let (_, again) = read_mono(&fixture("zh/c_accept.wav"));
    for chunk in again.chunks(320) {
        tx.send(SourceMsg::Audio { speaker: Speaker::Customer, sample_rate_hz: rate, samples: chunk.to_vec() }).unwrap();
    }
    tx.send(SourceMsg::Audio { speaker: Speaker::Customer, sample_rate_hz: rate, samples: vec![0.0; rate as usize] }).unwrap();
    tx.send(SourceMsg::End { reason: EndReason::InputEnded }).unwrap();
    let events: Vec<TimedEvent> = sub.iter().collect();
    pipeline.join();
    // Times are call times; the call began at its first speech.
    let offset = events
        .iter()
        .find_map(|e| match &e.event {
            Event::CallStarted(s) => Some(s.input_offset_s),
            _ => None,
        })
        .expect("call_started");
    let statuses: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Status(s) => Some(s.kind.as_str()),
            _ => None,
        })
        .collect();
    assert!(statuses.contains(&"device_lost") && statuses.contains(&"device_back"), "{statuses:?}");
    let finals: Vec<(f64, f64, String)> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Segment(s) if s.is_final && s.revision == 0 => Some((s.start + offset, s.end + offset, s.text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(finals.len(), 2, "{finals:?}");
    // Everything fed before the loss is in the first segment, up to the cut.
    let cut_s = (lead.len() + cut) as f64 / rate as f64;
    assert!((finals[0].1 - cut_s).abs() < 0.2, "first segment ends at {} but audio was fed up to {cut_s}", finals[0].1);
    let expected_half: String = "你们的网络信号太差了，在家里经常打不通电话".chars().take(14).collect();
    assert!(cer(&expected_half, &finals[0].2) <= 0.5, "captured part heard as {:?}", finals[0].2);
    // After the gap the timeline continues: the second segment starts after it.
    // (its pre-roll may reach 0.2 s back into the padded gap)
    assert!(finals[1].0 >= cut_s + 0.75, "{finals:?}");
    assert!(cer("那就要流量包吧", &finals[1].2) <= 0.5, "{:?}", finals[1].2);
}

#[test]
fn garbage_from_a_broken_driver_is_reported_and_the_speech_after_it_still_heard() {
    require_model();
    let (rate, clip) = read_mono(&fixture("zh/c_network.wav"));
    let (tx, pipeline, sub) = test_pipeline();
    let send = |samples: Vec<f32>| tx.send(SourceMsg::Audio { speaker: Speaker::Customer, sample_rate_hz: rate, samples }).unwrap();
    // Half a second each of: not numbers, infinities, values far out of
    // range, a square wave clipped at full scale, then speech on a stuck DC offset.
    let half = rate as usize / 2;
    send(vec![f32::NAN; half]);
    send((0..half).map(|i| if i % 2 == 0 { f32::INFINITY } else { f32::NEG_INFINITY }).collect());
    send((0..half).map(|i| if i % 3 == 0 { 1.0e9 } else { -7.5 }).collect());
    send((0..half).map(|i| if (i / 40) % 2 == 0 { 1.0 } else { -1.0 }).collect());
    send(vec![0.0; rate as usize]);
    for chunk in clip.chunks(320) {
        send(chunk.iter().map(|s| s * 0.6 + 0.3).collect());
    }
    send(vec![0.3; rate as usize]);
    tx.send(SourceMsg::End { reason: EndReason::InputEnded }).unwrap();
    let events: Vec<TimedEvent> = sub.iter().collect();
    pipeline.join();
    let bad: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Status(s) if s.kind.as_str() == "bad_audio" => Some(s.message.clone()),
            _ => None,
        })
        .collect();
    assert!(bad.iter().any(|m| m.contains("not numbers")), "{bad:?}");
    assert!(bad.iter().any(|m| m.contains("clip")), "{bad:?}");
    assert!(bad.iter().any(|m| m.contains("DC offset")), "{bad:?}");
    // No non-number reaches an event (status messages are words, not figures).
    for e in events.iter().filter(|e| !matches!(e.event, Event::Status(_))) {
        let shown = format!("{e:?}");
        assert!(!shown.split(|c: char| !c.is_alphanumeric()).any(|w| w == "NaN" || w == "inf"), "{shown}");
    }
    let finals: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Segment(s) if s.is_final && s.revision == 0 => Some(s.text.clone()),
            _ => None,
        })
        .collect();
    let heard = finals.join("");
    assert!(cer("你们的网络信号太差了，在家里经常打不通电话", &heard) <= 0.35, "the speech after the garbage: {finals:?}");
}

#[test]
fn finals_wait_for_room_instead_of_being_dropped_and_partials_give_way() {
    use callcoach::events::AcousticFeatures;
    use callcoach::pipeline::queue::{AsrJob, AsrQueue};
    let q = Arc::new(AsrQueue::new(30.0));
    let fin = |secs: usize| AsrJob::Final {
        call: 1,
        speaker: Speaker::Agent,
        start_sample: 0,
        end_sample: 0,
        speech_end_sample: 0,
        samples: vec![0.0; secs * 16_000],
        features: AcousticFeatures::default(),
        active_s: 1.0,
        end_fed_at: std::time::Instant::now(),
    };
    q.push(fin(20));
    q.push(fin(10));
    let q2 = q.clone();
    let producer = std::thread::spawn(move || q2.push(fin(10)));
    std::thread::sleep(Duration::from_millis(200));
    assert!(!producer.is_finished(), "a third final over the cap must wait, not be dropped");
    assert!(matches!(q.pop(), Some(AsrJob::Final { .. })));
    producer.join().unwrap();
    assert_eq!(q.stats().finals_waiting, 2, "all finals kept");
    let partial = |n: usize| AsrJob::Partial { call: 1, speaker: Speaker::Customer, start_sample: 0, samples: vec![0.0; n], fed_at: std::time::Instant::now() };
    q.push(partial(1));
    q.push(partial(2));
    assert_eq!(q.stats().partials_skipped, 1, "the older partial is replaced and counted");
    // Finals first, then the newest partial.
    assert!(matches!(q.pop(), Some(AsrJob::Final { .. })));
    assert!(matches!(q.pop(), Some(AsrJob::Final { .. })));
    assert!(matches!(q.pop(), Some(AsrJob::Partial { ref samples, .. }) if samples.len() == 2));
    q.close();
    assert!(q.pop().is_none());
}
