//! Live capture without a sound card: a private PulseAudio server with two
//! null sinks; a fixture is played into the customer sink and `callcoach run`
//! captures the sinks' monitors through cpal.

mod util;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use util::*;

struct Pulse {
    runtime: tempfile::TempDir,
}

impl Pulse {
    fn start() -> Self {
        require_tool("pulseaudio", "pulseaudio");
        require_tool("pactl", "pulseaudio-utils");
        let runtime = tempfile::tempdir().unwrap();
        let status = Command::new("pulseaudio")
            .env("XDG_RUNTIME_DIR", runtime.path())
            .args([
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "--disallow-exit",
                "-n",
                "--load=module-native-protocol-unix",
                "--load=module-null-sink sink_name=customer",
                "--load=module-null-sink sink_name=agent",
            ])
            .stderr(Stdio::null())
            .status()
            .expect("run pulseaudio");
        assert!(status.success(), "pulseaudio did not start");
        let p = Pulse { runtime };
        for _ in 0..50 {
            if p.cmd("pactl").arg("info").output().is_ok_and(|o| o.status.success()) {
                return p;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("pulseaudio did not answer");
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        // Only the runtime dir is private: server and clients share HOME
        // (and so the auth cookie) as in a normal session.
        c.env("XDG_RUNTIME_DIR", self.runtime.path());
        c
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.cmd("pulseaudio").arg("--kill").status();
    }
}

#[test]
fn capture_from_a_pulseaudio_null_sink_monitor_is_transcribed() {
    let model = require_model();
    let pa = Pulse::start();
    let devices = pa.cmd(bin().to_str().unwrap()).arg("devices").output().unwrap();
    let listed = String::from_utf8_lossy(&devices.stdout);
    assert!(listed.contains("customer.monitor") && listed.contains("agent.monitor"), "cpal does not see the monitors: {listed}");
    let child: Child = pa
        .cmd(bin().to_str().unwrap())
        .args(["run", "--customer-device", "customer.monitor", "--agent-device", "agent.monitor", "--duration-s", "11", "--json"])
        .args(["--model", model.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    let played = pa.cmd("paplay").args(["-d", "customer", fixture("zh/c_cancel.wav").to_str().unwrap()]).status().unwrap();
    assert!(played.success());
    let played = pa.cmd("paplay").args(["-d", "agent", fixture("zh/a_empathy.wav").to_str().unwrap()]).status().unwrap();
    assert!(played.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
    let events = json_lines(&out);
    let text_of = |who: &str| -> String {
        events
            .iter()
            .filter(|e| e["type"] == "segment" && e["final"] == true && e["speaker"] == who)
            .map(|e| e["text"].as_str().unwrap().to_string())
            .collect()
    };
    let customer = text_of("customer");
    let agent = text_of("agent");
    assert!(cer("喂，你好，我要销户，这个号码我不想用了。", &customer) <= 0.45, "customer heard as {customer:?}\n{events:?}");
    assert!(cer("非常抱歉给您带来不便，换成是我也会很着急。", &agent) <= 0.45, "agent heard as {agent:?}");
    // Both sides on one timeline: the agent spoke after the customer.
    let start_of = |who: &str| events.iter().find(|e| e["type"] == "segment" && e["final"] == true && e["speaker"] == who).map(|e| e["start"].as_f64().unwrap());
    assert!(start_of("customer").unwrap() < start_of("agent").unwrap());
    assert!(events.iter().any(|e| e["type"] == "card" && e["id"] == "listen.find_reason"), "the coach reacts to live audio");
}
