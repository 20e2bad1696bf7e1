//! Nothing lost between agent and board: a board killed (SIGKILL) mid-call
//! and started again, and an agent killed mid-call and started again. The
//! board ends up with every event of every call, in order, once.

mod util;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use util::board::*;
use util::*;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn seqs_of(board_url: &str, sup: &str, id: &str) -> Vec<u64> {
    get_json(&format!("{board_url}/api/calls/{id}"), sup)["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

#[test]
fn a_board_killed_mid_call_and_restarted_loses_nothing_and_stores_nothing_twice() {
    let agent_home = agent_data_dir();
    let data = tempfile::tempdir().unwrap();
    let agent = token(data.path(), "agent", "王丽");
    let sup = token(data.path(), "supervisor", "boss");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut board = BoardProc::start_on(data.path(), &addr);
    let url = board.url.clone();
    let replay = Command::new(bin())
        .args(["replay", repo("samples/retention_call.wav").to_str().unwrap(), "--realtime", "--json", "--board", &url, "--token", &agent])
        .env("CALLCOACH_DATA_DIR", agent_home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Mid-call: some events are stored and acknowledged, then the board dies.
    let id = wait_for(Duration::from_secs(60), || {
        let v = get_json(&format!("{url}/api/calls"), &sup);
        v["calls"].as_array().and_then(|c| c.first()).filter(|c| c["last_seq"].as_u64().unwrap_or(0) >= 5).map(|c| c["call_id"].as_str().unwrap().to_string())
    });
    let Some(id) = id else {
        // Say why: what the agent printed and what the board holds.
        let mut replay = replay;
        let _ = replay.kill();
        let out = replay.wait_with_output().unwrap();
        let calls = get_json(&format!("{url}/api/calls"), &sup);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last: Vec<&str> = stdout.lines().rev().take(8).collect();
        panic!(
            "the call did not reach the board within 60 s\nboard calls: {calls}\nagent stdout (last lines, newest first):\n{}\nagent stderr:\n{}",
            last.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::thread::sleep(Duration::from_secs(4));
    let before = seqs_of(&url, &sup, &id);
    board.kill_hard();
    std::thread::sleep(Duration::from_secs(6));
    let board = BoardProc::start_on(data.path(), &addr);
    let out = replay.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let local = json_lines(&out);
    let local_seqs: Vec<u64> = local.iter().filter(|e| e["call_id"] == id.as_str()).map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(local.iter().any(|e| e["type"] == "status" && e["kind"] == "board_unreachable"), "the agent is told the board is gone");
    assert!(local.iter().any(|e| e["type"] == "status" && e["kind"] == "board_connected"), "and that it is back");
    let after = seqs_of(&board.url, &sup, &id);
    assert!(after.starts_with(&before), "what was stored before the crash is still there");
    assert_eq!(after, (1..=after.len() as u64).collect::<Vec<_>>(), "1..n, no gap, no repeat");
    assert_eq!(after.len(), local_seqs.len(), "every event the agent emitted (its statuses about the outage included)");
    let calls = get_json(&format!("{}/api/calls", board.url), &sup);
    assert_eq!(calls["calls"][0]["live"], false, "the call continued and ended on the board: {calls}");
    assert_eq!(calls["calls"][0]["outcome"], "retained");
}

#[test]
fn an_agent_killed_mid_call_resends_its_spool_when_it_starts_again() {
    let agent_home = agent_data_dir();
    let data = tempfile::tempdir().unwrap();
    let agent = token(data.path(), "agent", "王丽");
    let sup = token(data.path(), "supervisor", "boss");
    let addr = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{addr}");
    // The board is down; the agent spools, and is killed mid-call, once it
    // has emitted a few events (however long the model takes to load).
    let mut first = Command::new(bin())
        .args(["replay", repo("samples/retention_call.wav").to_str().unwrap(), "--realtime", "--json", "--board", &url, "--token", &agent])
        .env("CALLCOACH_DATA_DIR", agent_home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    let reader = {
        let lines = lines.clone();
        let stdout = first.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    lines.lock().unwrap().push(v);
                }
            }
        })
    };
    let emitted = || lines.lock().unwrap().iter().filter(|e| e["call_id"].is_string()).count();
    let reached = wait_for(Duration::from_secs(120), || (emitted() >= 8).then_some(()));
    let _ = first.kill();
    let _ = first.wait();
    reader.join().unwrap();
    assert!(reached.is_some(), "the first run emitted events before it was killed: {}", emitted());
    let spooled: Vec<serde_json::Value> = lines.lock().unwrap().iter().filter(|e| e["call_id"].is_string()).cloned().collect();
    let first_id = spooled[0]["call_id"].as_str().unwrap().to_string();
    // The board comes up; the agent starts again with another call.
    let board = BoardProc::start_on(data.path(), &addr);
    let again = run_env(
        &["replay", fixture("zh/c_accept.wav").to_str().unwrap(), "--board", &board.url, "--token", &agent],
        &[("CALLCOACH_DATA_DIR", agent_home.path().to_str().unwrap())],
    );
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let calls = get_json(&format!("{}/api/calls", board.url), &sup);
    let list = calls["calls"].as_array().unwrap();
    assert_eq!(list.len(), 2, "the cut-off call and the new one: {calls}");
    let seqs = seqs_of(&board.url, &sup, &first_id);
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    // What the first run wrote to its spool (up to the kill) is on the board,
    // and the call was ended when the agent started again.
    assert!(seqs.len() > spooled.len().saturating_sub(3), "{} of the {} emitted", seqs.len(), spooled.len());
    let cut = list.iter().find(|c| c["call_id"] == first_id.as_str()).unwrap();
    assert_eq!(cut["live"], false, "{cut}");
    let events = get_json(&format!("{}/api/calls/{first_id}", board.url), &sup);
    let last = events["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "call_ended");
    assert_eq!(last["reason"], "shutdown");
}
