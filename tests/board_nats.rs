//! The broker path: agents publish to NATS JetStream (a real `nats-server`
//! started here), boards read it, each with its own durable consumer. Two
//! boards both get every call; a broker and a board restarted mid-call lose
//! nothing and store nothing twice; a note from a board reaches the agent.

mod util;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use util::board::*;
use util::*;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Nats {
    child: Child,
    port: u16,
    store: std::path::PathBuf,
}

impl Nats {
    fn start(store: &Path, port: u16) -> Self {
        require_tool("nats-server", "nats-server");
        let child = Command::new("nats-server")
            .args(["-js", "-sd", store.to_str().unwrap(), "-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        wait_for(Duration::from_secs(10), || std::net::TcpStream::connect(("127.0.0.1", port)).ok()).expect("nats-server listens");
        Nats { child, port, store: store.to_path_buf() }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.kill_hard();
        std::thread::sleep(Duration::from_secs(3));
        *self = Nats::start(&self.store.clone(), self.port);
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// A board reading the broker as `id`.
fn board_on(data: &Path, listen: &str, nats: &str, id: &str) -> BoardProc {
    let mut child = Command::new(bin())
        .args(["board", "--listen", listen, "--data", data.to_str().unwrap(), "--nats", nats, "--board-id", id])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http")).unwrap_or_else(|| panic!("{line}")).to_string();
    BoardProc { child, url, data: data.to_path_buf() }
}

fn calls(board: &BoardProc, sup: &str) -> Vec<serde_json::Value> {
    get_json(&format!("{}/api/calls", board.url), sup)["calls"].as_array().cloned().unwrap_or_default()
}

fn seqs(board: &BoardProc, sup: &str, id: &str) -> Vec<u64> {
    get_json(&format!("{}/api/calls/{id}", board.url), sup)["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

#[test]
fn two_boards_on_one_broker_both_show_a_replayed_call() {
    let agent_home = agent_data_dir();
    let store = tempfile::tempdir().unwrap();
    let nats = Nats::start(store.path(), free_port());
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (s1, s2) = (token(d1.path(), "supervisor", "boss"), token(d2.path(), "supervisor", "boss"));
    let b1 = board_on(d1.path(), "127.0.0.1:0", &nats.url(), "one");
    let b2 = board_on(d2.path(), "127.0.0.1:0", &nats.url(), "two");
    let out = run_env(
        &["replay", repo("samples/retention_call.wav").to_str().unwrap(), "--json", "--nats", &nats.url(), "--site", "北京一部"],
        &[("CALLCOACH_DATA_DIR", agent_home.path().to_str().unwrap()), ("USER", "王丽")],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let local = json_lines(&out).iter().filter(|e| e["call_id"].is_string()).count();
    for (b, s) in [(&b1, &s1), (&b2, &s2)] {
        let c = wait_for(Duration::from_secs(20), || calls(b, s).into_iter().find(|c| c["live"] == false && c["last_seq"].as_u64() == Some(local as u64)))
            .unwrap_or_else(|| panic!("{} never got the whole call: {:?}", b.url, calls(b, s)));
        assert_eq!(c["agent"], "王丽", "the agent comes from its subject");
        assert_eq!(c["outcome"], "retained");
        let got = seqs(b, s, c["call_id"].as_str().unwrap());
        assert_eq!(got, (1..=local as u64).collect::<Vec<_>>());
    }
}

#[test]
fn a_broker_and_a_board_restarted_mid_call_deliver_every_event_exactly_once() {
    let agent_home = agent_data_dir();
    let store = tempfile::tempdir().unwrap();
    let mut nats = Nats::start(store.path(), free_port());
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (s1, s2) = (token(d1.path(), "supervisor", "boss"), token(d2.path(), "supervisor", "张主管"));
    let addr1 = format!("127.0.0.1:{}", free_port());
    let mut b1 = board_on(d1.path(), &addr1, &nats.url(), "one");
    let b2 = board_on(d2.path(), "127.0.0.1:0", &nats.url(), "two");
    let replay = Command::new(bin())
        .args(["replay", repo("samples/retention_call.wav").to_str().unwrap(), "--realtime", "--json", "--nats", &nats.url()])
        .env("CALLCOACH_DATA_DIR", agent_home.path())
        .env("USER", "王丽")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let id =
        wait_for(Duration::from_secs(60), || calls(&b2, &s2).first().map(|c| c["call_id"].as_str().unwrap().to_string())).expect("the call reaches the boards");
    // A supervisor steps in through board two: the note travels the broker.
    let resp = http()
        .post(&format!("{}/api/calls/{id}/notes", b2.url))
        .header("Authorization", &format!("Bearer {s2}"))
        .send_json(serde_json::json!({ "text": "注意语速" }))
        .unwrap();
    assert_eq!(resp.status(), 200);
    std::thread::sleep(Duration::from_secs(6));
    nats.restart();
    std::thread::sleep(Duration::from_secs(5));
    b1.kill_hard();
    std::thread::sleep(Duration::from_secs(3));
    let b1 = board_on(d1.path(), &addr1, &nats.url(), "one");
    let out = replay.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let local: Vec<serde_json::Value> = json_lines(&out).into_iter().filter(|e| e["call_id"] == id.as_str()).collect();
    assert!(local.iter().any(|e| e["type"] == "note" && e["text"] == "注意语速"), "the note reached the agent through the broker");
    let n = local.len() as u64;
    for (b, s) in [(&b1, &s1), (&b2, &s2)] {
        wait_for(Duration::from_secs(30), || (seqs(b, s, &id).len() as u64 == n).then_some(()))
            .unwrap_or_else(|| panic!("{} has {} of {n} events", b.url, seqs(b, s, &id).len()));
        assert_eq!(seqs(b, s, &id), (1..=n).collect::<Vec<_>>(), "every event exactly once on {}", b.url);
    }
}
