//! The board's page in a real browser (Debian's headless Chromium through
//! chromedriver): a supervisor signs in, sees a call being replayed appear
//! on the live list and its risk rise, opens it, and its chart renders.
//! Screenshots go to the cargo target's tmp dir (and to docs/ with
//! CALLCOACH_DOCS_SCREENSHOTS=1, for the README).

mod util;

use std::process::Command;
use std::time::{Duration, Instant};

use util::board::*;
use util::webdriver::Browser;
use util::*;

fn save(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
    if std::env::var_os("CALLCOACH_DOCS_SCREENSHOTS").is_some() {
        std::fs::write(repo("docs").join(name), png).unwrap();
    }
}

#[test]
fn a_supervisor_watches_a_call_go_wrong_and_opens_it() {
    let agent_home = agent_data_dir();
    let data = tempfile::tempdir().unwrap();
    let agent = token(data.path(), "agent", "王丽");
    password(data.path(), "张主管", "correct horse");
    let board = BoardProc::start(data.path());
    let browser = Browser::start();

    // Signing in: a wrong password first.
    browser.goto(&format!("{}/", board.url));
    browser.type_into("#name", "张主管");
    browser.type_into("#password", "wrong");
    browser.click("#signin");
    browser.wait(".error", 10);
    browser.type_into("#name", "张主管");
    browser.type_into("#password", "correct horse");
    browser.click("#signin");
    browser.wait("#live-table", 10);
    assert!(browser.text("#live-empty").contains("没有进行中的通话"), "{}", browser.text("body"));

    // An agent's call, live.
    let replay = std::thread::spawn({
        let (url, agent, home) = (board.url.clone(), agent.clone(), agent_home.path().to_path_buf());
        move || {
            Command::new(bin())
                .args(["replay", repo("samples/retention_call.wav").to_str().unwrap(), "--realtime", "--board", &url, "--token", &agent])
                .env("CALLCOACH_DATA_DIR", home)
                .output()
                .unwrap()
        }
    });
    browser.wait("#live-table tbody tr[data-call]", 60);
    let risk =
        || browser.script("const r = document.querySelector('#live-table tbody tr[data-call] td.risk'); return r ? Number(r.dataset.risk) : null;").as_f64();
    let first = risk().unwrap();
    // The customer says 销户, then complains angrily: the risk goes up live, without a reload.
    let started = Instant::now();
    let mut highest = first;
    while started.elapsed() < Duration::from_secs(30) && highest <= first + 0.2 {
        std::thread::sleep(Duration::from_millis(300));
        highest = highest.max(risk().unwrap_or(highest));
    }
    assert!(highest > first + 0.2, "risk rose from {first} to {highest}");
    let row = wait_for(Duration::from_secs(30), || Some(browser.text("#live-table tbody tr[data-call]")).filter(|r| r.contains("网络")))
        .unwrap_or_else(|| panic!("the reason shows on the row: {}", browser.text("#live-table")));
    assert!(row.contains("王丽"), "the row names the agent: {row}");
    assert!(browser.text("#alerts").contains("流失意向"), "the churn alert stands out: {}", browser.text("#alerts"));
    save("board_live.png", &browser.screenshot());

    // The drill-down: transcript and chart, live.
    browser.click("#live-table tbody tr[data-call]");
    browser.wait("#chart svg polyline.anger", 20);
    browser.wait("#chart svg .card-mark", 20);
    let transcript = browser.text("#transcript");
    assert!(transcript.contains("销户"), "{transcript}");
    assert!(browser.script("return document.querySelectorAll('#chart svg polyline').length").as_u64().unwrap() >= 2, "anger and churn lines");
    let out = replay.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The end arrives on the open page: the summary shows.
    wait_for(Duration::from_secs(20), || browser.text("#summary").contains("挽留成功").then_some(()))
        .unwrap_or_else(|| panic!("no summary: {}", browser.text("#view-call")));
    save("board_call.png", &browser.screenshot());

    // A second-pass revision replaces, on the page, the finals of the turn it covers.
    let html = browser
        .script(
            r#"return transcriptHtml([
                {type: "segment", speaker: "customer", start: 0.5, end: 2.0, text: "我要鞋号", final: true},
                {type: "segment", speaker: "customer", start: 2.4, end: 4.0, text: "转网", final: true},
                {type: "segment", speaker: "agent", start: 4.5, end: 5.0, text: "您好", final: true},
                {type: "segment", speaker: "customer", start: 0.5, end: 4.0, text: "我要携号转网", final: true, revision: 1}
            ]);"#,
        )
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(html.contains("我要携号转网") && html.contains("您好"), "{html}");
    assert!(!html.contains("鞋号") && !html.contains(">转网") && !html.contains(" 转网"), "the live words were replaced: {html}");

    // The history lists it.
    browser.goto(&format!("{}/#/history", board.url));
    browser.wait("#history-table tbody tr[data-call]", 20);
    assert!(browser.text("#history-table").contains("挽留成功"));
}
