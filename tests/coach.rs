//! The coach through the real binary: scripted dialogues give the expected
//! cards, every default card is reachable, and playbook errors are located.

mod util;

use std::collections::BTreeSet;

use util::*;

fn dialogue_files() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(fixture("../dialogues"))
        .expect("tests/dialogues")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    v.sort();
    v
}

fn shown_cards(path: &std::path::Path) -> Vec<String> {
    let out = run_ok(&["analyze", path.to_str().unwrap()]);
    json_lines(&out).iter().filter_map(|l| l["card"]["id"].as_str().map(str::to_string)).collect()
}

#[test]
fn scripted_dialogues_give_the_expected_cards_in_order() {
    let mut failures = Vec::new();
    for f in dialogue_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let expect: Vec<String> = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect:"))
            .unwrap_or_else(|| panic!("{} has no `# expect:` line", f.display()))
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let got = shown_cards(&f);
        if got != expect {
            failures.push(format!("{}\n  expected {expect:?}\n  got      {got:?}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_card_of_the_default_playbook_is_reached_by_some_dialogue() {
    let listed = stdout(&run_ok(&["playbook", "list"]));
    let all: BTreeSet<String> = listed.lines().filter_map(|l| l.split_whitespace().next().map(str::to_string)).collect();
    assert!(all.len() >= 25, "{listed}");
    let mut reached = BTreeSet::new();
    for f in dialogue_files() {
        reached.extend(shown_cards(&f));
    }
    let missing: Vec<&String> = all.difference(&reached).collect();
    assert!(missing.is_empty(), "cards no dialogue reaches: {missing:?}");
}

#[test]
fn cards_carry_why_and_the_filled_in_text() {
    let out = run_ok(&["analyze", fixture("../dialogues/01_network_happy_path.txt").to_str().unwrap()]);
    let lines = json_lines(&out);
    let card = &lines[2]["card"];
    assert_eq!(card["id"], "empathize.first");
    assert_eq!(card["stage"], "empathize");
    let why: Vec<&str> = card["why"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(why[0].starts_with("turn: customer@9.0s"), "{why:?}");
    assert!(why.contains(&"agent_empathized=false"), "{why:?}");
}

#[test]
fn a_broken_playbook_is_refused_with_every_problem_located() {
    let dir = tempfile::tempdir().unwrap();
    let cards = dir.path().join("cards");
    std::fs::create_dir_all(&cards).unwrap();
    std::fs::write(
        cards.join("a.toml"),
        r#"[[card]]
id = "x.one"
title = "one"
stage = "listen"
say = ["说点什么"]

[[card]]
id = "x.one"
title = "dup"
stage = "listen"
say = ["重复"]

[[card]]
id = "x.nosay"
title = "no text"
stage = "confirm"
say = []

[[card]]
id = "x.never"
title = "never"
stage = "propose"
say = ["先给方案"]
[card.when]
anger_at_least = "angry"
agent_empathized = false
"#,
    )
    .unwrap();
    let err = run_fail(&["playbook", "check", dir.path().to_str().unwrap()]);
    assert!(err.contains("a.toml:7:") && err.contains("duplicate id"), "{err}");
    assert!(err.contains("a.toml:13:") && err.contains("1 to 3 `say` lines"), "{err}");
    assert!(err.contains("a.toml:19:") && err.contains("can never be shown"), "{err}");

    std::fs::write(cards.join("a.toml"), "[[card]]\nid = \"x\"\ntitle = \"t\"\nstage = \"listen\"\nsay = [\"s\"]\n[card.when]\nchurn = true\n").unwrap();
    let err = run_fail(&["playbook", "check", dir.path().to_str().unwrap()]);
    assert!(err.contains("a.toml:7:") && err.contains("churn"), "unknown condition: {err}");

    std::fs::write(cards.join("a.toml"), "[[card]]\nid = \"x\"\ntitle = \"t\"\nstage = \"listen\"\nsay = [\"s\"]\ncolour = \"red\"\n").unwrap();
    let err = run_fail(&["playbook", "check", dir.path().to_str().unwrap()]);
    assert!(err.contains("a.toml:") && err.contains("colour"), "unknown field: {err}");
}

#[test]
fn the_shipped_playbook_checks_clean() {
    let out = run_ok(&["playbook", "check", repo("prompts/zh-CN").to_str().unwrap()]);
    assert!(stdout(&out).starts_with("ok:"), "{}", stdout(&out));
}
