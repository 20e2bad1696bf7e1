//! The supervisors' board as a centre runs it: a real `callcoach board`
//! process, agents streaming replayed calls over real WebSockets, the JSON
//! API, tokens, refusals of hostile input, notes back to the agent, and no
//! personal numbers ever reaching it.

mod util;

use std::process::Command;
use std::time::Duration;

use callcoach::events::{CallId, Event, SegmentEvent, Speaker, StatusEvent, SupervisorNote, TimedEvent};
use callcoach::pipeline::{Delivery, Fanout};
use callcoach::uplink::{LinkSink, Uplink, UplinkConfig};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use util::board::*;
use util::*;

fn replay_to_board(board: &BoardProc, token: &str, data: &std::path::Path) -> std::process::Output {
    let call = repo("samples/retention_call.wav");
    let args = ["replay", call.to_str().unwrap(), "--json", "--board", &board.url, "--token", token];
    run_env(&args, &[("CALLCOACH_DATA_DIR", data.to_str().unwrap())])
}

#[test]
fn a_replayed_call_reaches_the_board_with_its_summary_and_every_event_once() {
    let agent_home = agent_data_dir();
    let data = tempfile::tempdir().unwrap();
    let agent = token(data.path(), "agent", "王丽");
    let sup = token(data.path(), "supervisor", "张主管");
    let board = BoardProc::start(data.path());

    let (status, _) = get(&format!("{}/api/calls", board.url), None);
    assert_eq!(status, 401, "no token, no board");
    let (status, _) = get(&format!("{}/api/calls", board.url), Some(&agent));
    assert_eq!(status, 403, "an agent token cannot read the board");

    let out = replay_to_board(&board, &agent, agent_home.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let local: Vec<serde_json::Value> = json_lines(&out);
    let local_in_call = local.iter().filter(|e| e["call_id"].is_string()).count();

    let calls = get_json(&format!("{}/api/calls", board.url), &sup);
    let list = calls["calls"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{calls}");
    let c = &list[0];
    assert_eq!(c["agent"], "王丽", "the agent's name comes from its token");
    assert_eq!(c["live"], false);
    assert_eq!(c["summary"]["reason"], "network", "{c}");
    assert_eq!(c["outcome"], "retained");
    let id = c["call_id"].as_str().unwrap();

    let call = get_json(&format!("{}/api/calls/{id}", board.url), &sup);
    let seqs: Vec<u64> = call["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "every event, in order, once");
    assert_eq!(seqs.len(), local_in_call, "the board has what the agent emitted");

    // History, filters, CSV and adoption.
    let csv = get(&format!("{}/api/calls.csv", board.url), Some(&sup)).1;
    assert!(csv.starts_with("call_id,agent,") && csv.contains(id) && csv.contains("王丽") && csv.contains("retained"), "{csv}");
    let none = get(&format!("{}/api/calls.csv?agent=nobody", board.url), Some(&sup)).1;
    assert_eq!(none.lines().count(), 1, "filtered to nothing: {none}");
    let by_reason = get_json(&format!("{}/api/calls?reason=network&outcome=retained", board.url), &sup);
    assert_eq!(by_reason["calls"].as_array().unwrap().len(), 1);
    let adoption = get_json(&format!("{}/api/adoption", board.url), &sup);
    assert!(adoption["per_card"]["listen.find_reason"]["shown"].as_u64().unwrap() >= 1, "{adoption}");
    assert!(adoption["per_agent"]["王丽"]["shown"].as_u64().unwrap() >= 3, "{adoption}");

    // A wrong token is refused at once, and so is a revoked one.
    let out = replay_to_board(&board, "not-a-token", agent_home.path());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused"), "{err}");
    run_ok(&["board", "token", "revoke", "--role", "agent", "王丽", "--data", data.path().to_str().unwrap()]);
    let out = replay_to_board(&board, &agent, agent_home.path());
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("refused"));
    assert_eq!(get_json(&format!("{}/api/calls", board.url), &sup)["calls"].as_array().unwrap().len(), 1, "nothing from a refused token is stored");
}

#[test]
fn supervisors_sign_in_with_a_password_and_get_an_httponly_samesite_cookie() {
    let data = tempfile::tempdir().unwrap();
    password(data.path(), "张主管", "correct horse");
    let board = BoardProc::start(data.path());
    let agent = http();
    let mut ok = agent.post(&format!("{}/login", board.url)).send_form([("name", "张主管"), ("password", "correct horse")]).unwrap();
    let cookie = ok.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string()).expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let _ = ok.body_mut().read_to_string();
    let session = cookie.split(';').next().unwrap().to_string();
    let mut page = agent.get(&format!("{}/api/calls", board.url)).header("Cookie", &session).call().unwrap();
    assert_eq!(page.status(), 200, "{}", page.body_mut().read_to_string().unwrap_or_default());
    let bad = agent.post(&format!("{}/login", board.url)).send_form([("name", "张主管"), ("password", "wrong")]).unwrap();
    assert!(bad.headers().get("set-cookie").is_none(), "no cookie for a wrong password");
    let (status, _) = get(&format!("{}/api/calls", board.url), None);
    assert_eq!(status, 401);
}

/// A raw agent connection.
fn ws_connect(board: &BoardProc, token: &str) -> Result<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>, String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut req = format!("ws://{}/api/agent/ws", board.addr()).into_client_request().unwrap();
        req.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
        tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws).map_err(|e| e.to_string())
    })
}

fn status_event(call: CallId, seq: u64) -> TimedEvent {
    TimedEvent::in_call(call, seq, seq as f64, Event::Status(StatusEvent { kind: callcoach::events::StatusKind::Lagging, speaker: None, message: "x".into() }))
}

/// Sends messages on a fresh connection; returns what the board answered
/// until it closed (or 5 s passed).
fn exchange(board: &BoardProc, token: &str, msgs: Vec<Message>) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut req = format!("ws://{}/api/agent/ws", board.addr()).into_client_request().unwrap();
        req.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("connect");
        for m in msgs {
            if ws.send(m).await.is_err() {
                break;
            }
        }
        let mut answers = Vec::new();
        while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            match m {
                Message::Text(t) => answers.push(t.to_string()),
                Message::Close(_) => break,
                _ => {}
            }
        }
        answers
    })
}

#[test]
fn hostile_agents_are_refused_and_the_board_keeps_serving_the_others() {
    let data = tempfile::tempdir().unwrap();
    let good = token(data.path(), "agent", "good");
    let bad = token(data.path(), "agent", "bad");
    let sup = token(data.path(), "supervisor", "boss");
    let board = BoardProc::start(data.path());
    assert!(ws_connect(&board, "nope").is_err(), "an unknown token gets no connection");
    assert!(ws_connect(&board, &sup).is_err(), "a supervisor token cannot send events");

    // Malformed JSON, a binary frame, an oversized message.
    let a = exchange(&board, &bad, vec![Message::Text("{not json".into())]);
    assert!(a.iter().any(|m| m.contains("\"error\"") && m.contains("malformed")), "{a:?}");
    let a = exchange(&board, &bad, vec![Message::Binary(vec![1, 2, 3].into())]);
    assert!(a.iter().any(|m| m.contains("binary")), "{a:?}");
    let huge = format!("{{\"type\":\"events\",\"events\":[],\"pad\":\"{}\"}}", "x".repeat(400_000));
    let a = exchange(&board, &bad, vec![Message::Text(huge.into())]);
    assert!(!a.iter().any(|m| m.contains("\"ack\"")), "{a:?}");

    // Events claiming another agent's call.
    let call = CallId::new();
    let ok = exchange(
        &board,
        &good,
        vec![Message::Text(serde_json::to_string(&callcoach::wire::AgentMsg::Events { events: vec![status_event(call, 1)] }).unwrap().into())],
    );
    assert!(ok.iter().any(|m| m.contains("\"ack\"")), "{ok:?}");
    let steal = exchange(
        &board,
        &bad,
        vec![Message::Text(serde_json::to_string(&callcoach::wire::AgentMsg::Events { events: vec![status_event(call, 2)] }).unwrap().into())],
    );
    assert!(steal.iter().any(|m| m.contains("another agent")), "{steal:?}");

    // A flood: far more than the burst allows, as fast as the socket takes it.
    let flood_call = CallId::new();
    let batches: Vec<Message> = (0..60)
        .map(|b| {
            let events: Vec<TimedEvent> = (1..=200).map(|i| status_event(flood_call, b * 200 + i)).collect();
            Message::Text(serde_json::to_string(&callcoach::wire::AgentMsg::Events { events }).unwrap().into())
        })
        .collect();
    // (The refusal itself may not be readable by a client that keeps
    // writing: the board closes, and the reset discards what was in flight.)
    let answers = exchange(&board, &bad, batches);
    assert!(!answers.iter().any(|m| m.contains("\"seq\":12000")), "the end of the flood is never acknowledged");
    let stored = get_json(&format!("{}/api/calls/{flood_call}", board.url), &sup)["events"].as_array().unwrap().len();
    assert!((200..=6_000).contains(&stored), "a burst is taken, the rest of the flood is refused unstored: {stored} of 12000");

    // The board still serves the others.
    let again = exchange(
        &board,
        &good,
        vec![Message::Text(serde_json::to_string(&callcoach::wire::AgentMsg::Events { events: vec![status_event(call, 2)] }).unwrap().into())],
    );
    assert!(again.iter().any(|m| m.contains("\"seq\":2")), "{again:?}");
    let (status, _) = get(&format!("{}/api/calls", board.url), Some(&sup));
    assert_eq!(status, 200);
    let seqs: Vec<u64> =
        get_json(&format!("{}/api/calls/{call}", board.url), &sup)["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![1, 2], "the stolen event was not stored");
}

struct Quiet;

impl LinkSink for Quiet {
    fn status(&self, _: StatusEvent) {}
    fn note(&self, _: CallId, _: SupervisorNote) {}
}

#[test]
fn phone_id_and_card_numbers_never_reach_the_board() {
    let data = tempfile::tempdir().unwrap();
    let agent = token(data.path(), "agent", "王丽");
    let sup = token(data.path(), "supervisor", "boss");
    let board = BoardProc::start(data.path());
    let spool = tempfile::tempdir().unwrap();
    let mut fanout = Fanout::new();
    let sub = fanout.subscribe("board uplink", Delivery::Lossless);
    let cfg = UplinkConfig {
        url: board.url.clone(),
        token: agent,
        spool_dir: spool.path().into(),
        spool_max_bytes: 1 << 20,
        ca_cert: None,
        analysis: Default::default(),
        nats: None,
    };
    let link = Uplink::start(cfg, sub, Quiet).unwrap();
    let call = CallId::new();
    let said =
        ["我的手机号是13812345678", "号码是幺三八一二三四五六七八", "身份证号11010119900307123X", "卡号6222 0212 3456 7890", "每月减免20元，工号一零八六"];
    for (i, text) in said.iter().enumerate() {
        let seg = SegmentEvent {
            speaker: Speaker::Customer,
            start: i as f64,
            end: i as f64 + 1.0,
            text: text.to_string(),
            is_final: true,
            latency_ms: None,
            features: None,
            dropped: vec![],
            revision: 0,
        };
        fanout.publish(&TimedEvent::in_call(call, i as u64 + 1, i as f64 + 1.0, Event::Segment(seg)));
    }
    drop(fanout);
    let report = link.finish(Duration::from_secs(20));
    assert_eq!(report.spool.waiting, 0, "{report:?}");
    let body = get(&format!("{}/api/calls/{call}", board.url), Some(&sup)).1;
    for secret in ["13812345678", "幺三八一二三四五六七八", "11010119900307123X", "6222 0212 3456 7890", "0212"] {
        assert!(!body.contains(secret), "{secret} reached the board: {body}");
    }
    assert!(body.contains("***********") && body.contains("20元") && body.contains("一零八六"), "masked, and short numbers kept: {body}");
    // Nor the database file itself.
    let db = std::fs::read(data.path().join("board.sqlite")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains("13812345678"));
}

#[test]
fn a_supervisors_note_reaches_the_agents_call_and_is_kept_with_it() {
    let agent_home = agent_data_dir();
    let data = tempfile::tempdir().unwrap();
    let agent = token(data.path(), "agent", "王丽");
    let sup = token(data.path(), "supervisor", "张主管");
    let board = BoardProc::start(data.path());
    let replay = std::thread::spawn({
        let (url, agent, home) = (board.url.clone(), agent.clone(), agent_home.path().to_path_buf());
        move || {
            Command::new(bin())
                .args(["replay", repo("samples/retention_call.wav").to_str().unwrap(), "--realtime", "--json", "--board", &url, "--token", &agent])
                .env("CALLCOACH_DATA_DIR", home)
                .output()
                .unwrap()
        }
    });
    let id = wait_for(Duration::from_secs(60), || {
        let v = get_json(&format!("{}/api/calls", board.url), &sup);
        v["calls"].as_array().and_then(|c| c.iter().find(|c| c["live"] == true)).map(|c| c["call_id"].as_str().unwrap().to_string())
    })
    .expect("the call shows up live");
    let resp = http()
        .post(&format!("{}/api/calls/{id}/notes", board.url))
        .header("Authorization", &format!("Bearer {sup}"))
        .send_json(serde_json::json!({ "text": "先道歉，再问清楚哪里信号差" }))
        .unwrap();
    assert_eq!(resp.status(), 200);
    let out = replay.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let notes: Vec<serde_json::Value> = json_lines(&out).into_iter().filter(|e| e["type"] == "note").collect();
    assert_eq!(notes.len(), 1, "the agent's call shows the note");
    assert_eq!(notes[0]["from"], "张主管");
    assert_eq!(notes[0]["text"], "先道歉，再问清楚哪里信号差");
    let call = get_json(&format!("{}/api/calls/{id}", board.url), &sup);
    assert_eq!(call["notes"].as_array().unwrap().len(), 1, "kept with the call: {call}");
    assert!(call["events"].as_array().unwrap().iter().any(|e| e["type"] == "note"), "and in its events");
    assert_eq!(call["call"]["summary"]["notes"], 1);
}

#[test]
fn over_tls_with_the_centres_own_certificate() {
    require_tool("openssl", "openssl");
    require_tool("curl", "curl");
    let agent_home = agent_data_dir();
    let data = tempfile::tempdir().unwrap();
    // The centre's own CA, and the board's certificate issued by it.
    let p = |n: &str| data.path().join(n).to_str().unwrap().to_string();
    let (ca, ca_key, cert, key, csr) = (p("ca.pem"), p("ca.key"), p("cert.pem"), p("key.pem"), p("board.csr"));
    let ext = data.path().join("ext.cnf");
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n").unwrap();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    sh("openssl", &[&["req", "-x509"][..], &ec, &["-days", "2", "-subj", "/CN=callcoach test CA", "-keyout", &ca_key, "-out", &ca]].concat());
    sh("openssl", &[&["req"][..], &ec, &["-subj", "/CN=board", "-keyout", &key, "-out", &csr]].concat());
    sh(
        "openssl",
        &["x509", "-req", "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-CAcreateserial", "-days", "2", "-extfile", ext.to_str().unwrap(), "-out", &cert],
    );
    let (cert, key, ca) = (std::path::PathBuf::from(cert), std::path::PathBuf::from(key), std::path::PathBuf::from(ca));
    let agent = token(data.path(), "agent", "王丽");
    let sup = token(data.path(), "supervisor", "boss");
    let mut child = Command::new(bin())
        .args([
            "board",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data.path().to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    let url = first.split_whitespace().find(|w| w.starts_with("https://")).unwrap_or_else(|| panic!("{first}")).to_string();
    let cfg = agent_home.path().join("callcoach.toml");
    std::fs::write(&cfg, format!("[board]\nurl = \"{url}\"\ntoken = \"{agent}\"\nca_cert = \"{}\"\n", ca.display())).unwrap();
    let out = run_env(
        &["replay", repo("samples/retention_call.wav").to_str().unwrap(), "--config", cfg.to_str().unwrap()],
        &[("CALLCOACH_DATA_DIR", agent_home.path().to_str().unwrap())],
    );
    let _ = child.kill();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = child.wait();
    // Serve it again to read what arrived, over https with the same certificate.
    let mut child = Command::new(bin())
        .args([
            "board",
            "--listen",
            url.trim_start_matches("https://"),
            "--data",
            data.path().to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    let api = Command::new("curl")
        .args(["-s", "--cacert", ca.to_str().unwrap(), "-H", &format!("Authorization: Bearer {sup}"), &format!("{url}/api/calls")])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let body = String::from_utf8_lossy(&api.stdout);
    assert!(body.contains("\"agent\":\"王丽\"") && body.contains("\"outcome\":\"retained\""), "{body}");
    let plain = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &format!("{}/api/calls", url.replace("https://", "http://"))])
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "200", "no plain HTTP on a TLS board");
}
