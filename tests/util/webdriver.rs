//! Just enough WebDriver to drive Debian's headless Chromium through
//! chromedriver: open a page, find elements by CSS, type, click, read text
//! and attributes, run a script, take a screenshot.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

use super::board::wait_for;
use super::require_tool;

/// chromedriver and one headless Chromium session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(60))).build().into()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile.
    pub fn start() -> Self {
        require_tool("chromedriver", "chromium-driver");
        require_tool("chromium", "chromium");
        let port = free_port();
        let driver =
            Command::new("chromedriver").arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        wait_for(Duration::from_secs(20), || agent().get(&format!("{base}/status")).call().ok().filter(|r| r.status() == 200).map(|_| ()))
            .expect("chromedriver answers");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                     "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--lang=zh-CN", format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let mut b = Browser { driver, base, session: String::new(), _profile: profile };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {v}")).to_string();
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let mut resp = match (method, body) {
            ("POST", Some(b)) => agent().post(&url).send_json(b),
            ("POST", None) => agent().post(&url).send_json(json!({})),
            ("DELETE", _) => agent().delete(&url).call(),
            _ => agent().get(&url).call(),
        }
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let v: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
        v["value"].clone()
    }

    fn s(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    /// Opens a URL.
    pub fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }

    /// The element id of the first match of `css`, if any.
    pub fn find(&self, css: &str) -> Option<String> {
        let v = self.call("POST", &self.s("/element"), Some(json!({ "using": "css selector", "value": css })));
        v[ELEMENT].as_str().map(str::to_string)
    }

    /// Waits up to `secs` for `css` to match.
    pub fn wait(&self, css: &str, secs: u64) -> String {
        wait_for(Duration::from_secs(secs), || self.find(css)).unwrap_or_else(|| panic!("no {css} after {secs} s; page text: {}", self.text("body")))
    }

    /// Types into an element.
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.wait(css, 10);
        self.call("POST", &self.s(&format!("/element/{id}/value")), Some(json!({ "text": text })));
    }

    /// Clicks an element.
    pub fn click(&self, css: &str) {
        let id = self.wait(css, 10);
        self.call("POST", &self.s(&format!("/element/{id}/click")), None);
    }

    /// The visible text of the first match of `css` ("" when none).
    pub fn text(&self, css: &str) -> String {
        match self.find(css) {
            Some(id) => self.call("GET", &self.s(&format!("/element/{id}/text")), None).as_str().unwrap_or("").to_string(),
            None => String::new(),
        }
    }

    /// Runs a script and returns its value.
    pub fn script(&self, js: &str) -> Value {
        self.call("POST", &self.s("/execute/sync"), Some(json!({ "script": js, "args": [] })))
    }

    /// The page's current URL.
    pub fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None).as_str().unwrap_or("").to_string()
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.call("GET", &self.s("/screenshot"), None);
        base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or("")).expect("a base64 PNG")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
