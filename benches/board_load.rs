//! The board under load (`cargo bench --bench board_load`): for each size,
//! a fresh board process on loopback, N simulated agents streaming a
//! realistic call's events at live pace over real sockets, 3 pages
//! following it live; events a second and the agent -> page latency, for
//! the direct WebSocket path and the NATS JetStream path (`nats-server`
//! from Debian, started here). `CALLCOACH_LOAD_SIZES=250,500` and
//! `CALLCOACH_LOAD_SECONDS=30` change the sweep.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn start_board(data: &std::path::Path, nats: Option<&str>) -> (Child, String) {
    let mut args = vec!["board".to_string(), "--listen".into(), "127.0.0.1:0".into(), "--data".into(), data.display().to_string()];
    if let Some(n) = nats {
        args.extend(["--nats".into(), n.into(), "--board-id".into(), "bench".into()]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_callcoach")).args(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("board");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("board line");
    let url = line.split_whitespace().find(|w| w.starts_with("http")).expect("url").to_string();
    (child, url)
}

fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0) + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let sizes: Vec<usize> = std::env::var("CALLCOACH_LOAD_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![250, 500, 1000, 2000, 3000, 4000]);
    let seconds: f64 = std::env::var("CALLCOACH_LOAD_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(30.0);
    println!("path       calls  events/s   p50_ms   p95_ms   p99_ms   max_ms  board_cpu%  board_rss_mib  failures");
    for path in ["direct", "nats"] {
        let store = tempfile::tempdir().expect("tmp");
        let mut nats = None;
        if path == "nats" {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let child = Command::new("nats-server")
                .args(["-js", "-sd", &store.path().display().to_string(), "-a", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let Ok(child) = child else {
                println!("nats       (nats-server not installed: apt-get install nats-server)");
                continue;
            };
            std::thread::sleep(Duration::from_secs(1));
            nats = Some((child, format!("nats://127.0.0.1:{port}")));
        }
        for &n in &sizes {
            let data = tempfile::tempdir().expect("tmp");
            let nats_url = nats.as_ref().map(|(_, u)| u.clone());
            let (mut board, url) = start_board(data.path(), nats_url.as_deref());
            let ramp = (n as f64 / 100.0).clamp(5.0, 30.0);
            let mut args = vec![
                "board".to_string(),
                "load".into(),
                "--board".into(),
                url.clone(),
                "--data".into(),
                data.path().display().to_string(),
                "--agents".into(),
                n.to_string(),
                "--duration-s".into(),
                seconds.to_string(),
                "--ramp-s".into(),
                ramp.to_string(),
            ];
            if let Some(u) = &nats_url {
                args.extend(["--nats".into(), u.clone()]);
            }
            let loader = Command::new(env!("CARGO_BIN_EXE_callcoach")).args(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("load");
            std::thread::sleep(Duration::from_secs_f64(ramp));
            let c0 = cpu_s(board.id());
            std::thread::sleep(Duration::from_secs_f64(seconds * 0.9));
            let cpu = (cpu_s(board.id()) - c0) / (seconds * 0.9) * 100.0;
            let rss = rss_mib(board.id());
            let out = loader.wait_with_output().expect("load output");
            let line = String::from_utf8_lossy(&out.stdout);
            let num = |key: &str| -> f64 { line.split_whitespace().skip_while(|w| *w != key).nth(1).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN) };
            let p = |key: &str| -> f64 {
                let after: Vec<&str> = line.split("latency_ms").nth(1).unwrap_or("").split_whitespace().collect();
                after.iter().position(|w| *w == key).and_then(|i| after.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
            };
            println!(
                "{path:<8} {n:>7} {:>9.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>11.0} {:>14.0} {:>9}",
                num("events_per_s"),
                p("p50"),
                p("p95"),
                p("p99"),
                p("max"),
                cpu,
                rss,
                num("agent_failures")
            );
            let _ = board.kill();
            let _ = board.wait();
        }
        if let Some((mut child, _)) = nats {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
