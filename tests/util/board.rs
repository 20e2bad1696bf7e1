//! A real board process for tests: its own data folder, tokens made with
//! the CLI, HTTP through ureq.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// A running `callcoach board`.
pub struct BoardProc {
    pub child: Child,
    pub url: String,
    pub data: PathBuf,
}

impl BoardProc {
    /// Starts a board on a free port over `data`.
    pub fn start(data: &Path) -> Self {
        Self::start_on(data, "127.0.0.1:0")
    }

    /// Starts a board on `listen` over `data`.
    pub fn start_on(data: &Path, listen: &str) -> Self {
        let mut child = Command::new(bin())
            .args(["board", "--listen", listen, "--data", data.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("CALLCOACH_TEST_BOARD_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("start the board");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("the board says where it listens");
        let url = line.split_whitespace().find(|w| w.starts_with("http")).expect("a URL in the board's first line").to_string();
        BoardProc { child, url, data: data.to_path_buf() }
    }

    /// `kill -9`: no chance to tidy up.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The port it listens on.
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }
}

impl Drop for BoardProc {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// `callcoach board token add --role ROLE NAME --data DIR`: the token (last word).
pub fn token(data: &Path, role: &str, name: &str) -> String {
    let out = run_ok(&["board", "token", "add", "--role", role, name, "--data", data.to_str().unwrap()]);
    stdout(&out).split_whitespace().last().expect("a token").to_string()
}

/// Sets a supervisor's password.
pub fn password(data: &Path, name: &str, pw: &str) {
    use std::io::Write;
    let mut child =
        Command::new(bin()).args(["board", "password", name, "--data", data.to_str().unwrap()]).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{pw}\n").as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
}

/// An HTTP agent that does not turn 4xx into errors nor follow redirects.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).timeout_global(Some(Duration::from_secs(30))).build().into()
}

/// GET with a bearer token: (status, body).
pub fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = http().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

/// GET JSON with a supervisor token, asserting 200.
pub fn get_json(url: &str, token: &str) -> serde_json::Value {
    let (status, body) = get(url, Some(token));
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"))
}

/// Polls `f` until it gives Some, for up to `within`.
pub fn wait_for<T>(within: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// An agent data folder with the installed model linked in, so each test
/// has its own spool.
pub fn agent_data_dir() -> tempfile::TempDir {
    let model = require_model();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    std::os::unix::fs::symlink(&model, dir.path().join("models/ggml-base.bin")).unwrap();
    dir
}
