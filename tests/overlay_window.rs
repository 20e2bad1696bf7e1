//! The overlay as a real window: `callcoach agent --replay` under Xvfb opens
//! an always-on-top window named callcoach, draws into it, and SIGTERM
//! closes it gracefully (the call is ended, exit 0).

mod util;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use util::*;

struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Self {
        require_tool("Xvfb", "xvfb");
        require_tool("xdotool", "xdotool");
        let n = 100 + std::process::id() % 400;
        let display = format!(":{n}");
        let child =
            Command::new("Xvfb").args([display.as_str(), "-screen", "0", "1024x768x24", "-nolisten", "tcp"]).stderr(Stdio::null()).spawn().expect("start Xvfb");
        let lock = format!("/tmp/.X{n}-lock");
        let started = Instant::now();
        while !std::path::Path::new(&lock).exists() {
            assert!(started.elapsed() < Duration::from_secs(20), "Xvfb did not start on {display}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Xvfb { child, display }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The window id of a window named `name`, waiting up to `within`.
fn find_window(display: &str, name: &str, within: Duration) -> Option<String> {
    let started = Instant::now();
    while started.elapsed() < within {
        let out = Command::new("xdotool").env("DISPLAY", display).args(["search", "--name", name]).output().ok()?;
        let ids = String::from_utf8_lossy(&out.stdout);
        if let Some(id) = ids.split_whitespace().next() {
            return Some(id.to_string());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

#[test]
fn agent_replay_opens_a_real_window_and_sigterm_closes_it_cleanly() {
    let model = require_model();
    let x = Xvfb::start();
    let data = tempfile::tempdir().unwrap();
    let mut agent = Command::new(bin())
        .args(["agent", "--replay", repo("samples/retention_call.wav").to_str().unwrap(), "--stats", "--model", model.to_str().unwrap()])
        .env("DISPLAY", &x.display)
        // The window remembers its place under the data directory; keep the test's own.
        .env("XDG_DATA_HOME", data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start callcoach agent");
    let id = find_window(&x.display, "callcoach", Duration::from_secs(30));
    let Some(id) = id else {
        let _ = agent.kill();
        let out = agent.wait_with_output().unwrap();
        panic!("no window named callcoach appeared\n{}", String::from_utf8_lossy(&out.stderr));
    };
    let geometry = Command::new("xdotool").env("DISPLAY", &x.display).args(["getwindowgeometry", &id]).output().unwrap();
    let geometry = String::from_utf8_lossy(&geometry.stdout).to_string();
    assert!(geometry.contains("380x280"), "the compact default size: {geometry}");
    // Mid-call, then stop as a desktop session would.
    std::thread::sleep(Duration::from_secs(8));
    sh("kill", &["-TERM", &agent.id().to_string()]);
    let started = Instant::now();
    while agent.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "agent did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = agent.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {}: {stderr}", out.status);
    // The window drew frames for the events it got, and dropped none.
    let frames: u64 =
        stderr.lines().find_map(|l| l.strip_prefix("frames: ")).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(frames >= 3, "{stderr}");
    assert!(stderr.contains("overlay queue: events") && stderr.contains("dropped 0"), "{stderr}");
}
