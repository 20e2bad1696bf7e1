//! Properties of the coach over arbitrary analysis streams, and playbook reload.

use std::collections::HashMap;
use std::sync::Arc;

use callcoach::analysis::{
    AgentTurn, Analysis, AnalysisConfig, CallAnalysis, CallProgress, Churn, CustomerTurn, Emotion, Level, Lexicons, Reason, Trend, Turn,
};
use callcoach::coach::watch::{PlaybookWatcher, Reload};
use callcoach::coach::{CardAction, Coach, CoachEvent, Playbook, Stage};
use callcoach::events::Speaker;
use proptest::prelude::*;

fn repo(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![Just(Level::Calm), Just(Level::Annoyed), Just(Level::Angry)]
}

fn reason() -> impl Strategy<Value = Option<Reason>> {
    prop_oneof![Just(None), proptest::sample::select(Reason::ALL.to_vec()).prop_map(Some)]
}

prop_compose! {
    fn summary()(churn in any::<bool>(), reason in reason(), level in level(), flags in proptest::collection::vec(any::<bool>(), 9),
                 open in proptest::option::of(0.0f64..400.0), fast in any::<bool>(), turns in 0u32..4) -> CallProgress {
        CallProgress {
            churn_intent: churn,
            churn_turns: turns,
            reason,
            level: Some(level),
            anger: match level { Level::Calm => 0.1, Level::Annoyed => 0.4, Level::Angry => 0.8 },
            trend: Some(Trend::Steady),
            agent_probed: flags[0],
            agent_restated: flags[1],
            agent_empathized: flags[2],
            agent_proposed: flags[3],
            offered_choice: flags[3] && flags[4],
            customer_accepted: flags[3] && flags[5],
            agent_confirmed: flags[3] && flags[5] && flags[6],
            customer_insists: flags[3] && flags[7] && !flags[5],
            complaint_open_s: open,
            agent_rate_flag: fast.then_some(callcoach::analysis::RateFlag::TooFast),
            agent_rate_cpm: fast.then_some(200.0),
            ..Default::default()
        }
    }
}

const WORDS: &[&str] = &["我要销户", "话费乱扣", "你别激动，这是规定", "我考虑一下", "诈骗电话", "宽带太卡了", "我要找领导", "好的", "流量超出了"];

prop_compose! {
    fn analysis()(s in summary(), customer in any::<bool>(), fin in any::<bool>(), w in 0..WORDS.len(),
                  think in any::<bool>(), infl in any::<bool>(), intent in any::<bool>(), dt in 0.5f64..40.0) -> (Analysis, f64) {
        let speaker = if customer { Speaker::Customer } else { Speaker::Agent };
        let a = Analysis {
            speaker,
            text: WORDS[w].to_string(),
            start: 0.0,
            end: 0.0,
            is_final: fin,
            churn: customer.then_some(Churn { intent, score: if intent { 0.9 } else { 0.0 } }),
            reason: s.reason,
            emotion: customer.then_some(Emotion { anger: s.anger, level: s.level.unwrap_or(Level::Calm), trend: Trend::Steady }),
            agent: (!customer).then(|| AgentTurn { inflaming: if infl { vec!["你别激动".into()] } else { vec![] }, ..Default::default() }),
            customer: customer.then_some(CustomerTurn { think_it_over: think, ..Default::default() }),
            why: vec![],
            call: s,
        };
        (a, dt)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn one_card_per_slot_and_no_proposal_before_empathy_while_upset(stream in proptest::collection::vec(analysis(), 1..40)) {
        let pb = Arc::new(Playbook::builtin().expect("built-in playbook"));
        let mut coach = Coach::new(pb.clone());
        let mut active: HashMap<bool, String> = HashMap::new(); // key: is_alert
        let mut t = 0.0;
        for (mut a, dt) in stream {
            t += dt;
            a.start = t - 0.5;
            a.end = t;
            a.call.t = t;
            let events = coach.on_analysis(&a);
            for e in events {
                let CoachEvent::Card(c) = e else { continue };
                let is_alert = c.stage == Stage::Alert;
                match c.action {
                    CardAction::Shown => {
                        prop_assert!(!active.contains_key(&is_alert), "{} shown while {:?} is up", c.id, active.get(&is_alert));
                        if c.stage == Stage::Propose {
                            let upset = a.call.level.is_some_and(|l| l >= Level::Annoyed);
                            prop_assert!(!upset || a.call.agent_empathized, "{} shown to an upset customer before empathy", c.id);
                        }
                        active.insert(is_alert, c.id.clone());
                    }
                    CardAction::Cleared => {
                        prop_assert_eq!(active.remove(&is_alert), Some(c.id.clone()));
                    }
                }
            }
            let (main, alert) = coach.active_ids();
            prop_assert_eq!(main.map(str::to_string), active.get(&false).cloned());
            prop_assert_eq!(alert.map(str::to_string), active.get(&true).cloned());
        }
    }
}

#[test]
fn an_edited_playbook_reloads_and_a_broken_edit_keeps_the_last_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let cards = dir.path().join("cards");
    std::fs::create_dir_all(&cards).unwrap();
    let card =
        |title: &str| format!("[[card]]\nid = \"listen.a\"\ntitle = \"{title}\"\nstage = \"listen\"\nsay = [\"问原因\"]\n[card.when]\nchurn_intent = true\n");
    std::fs::write(cards.join("a.toml"), card("first")).unwrap();
    let mut w = PlaybookWatcher::new(dir.path()).unwrap();
    assert!(w.check().is_none(), "nothing changed yet");
    std::fs::write(cards.join("a.toml"), card("second version")).unwrap();
    match w.check() {
        Some(Reload::Reloaded { playbook, .. }) => assert_eq!(playbook.cards[0].title, "second version"),
        other => panic!("expected a reload, got {other:?}"),
    }
    std::fs::write(cards.join("a.toml"), "[[card]]\nid = \"listen.a\"\ntitle = \"\"\n").unwrap();
    match w.check() {
        Some(Reload::Failed(e)) => assert!(e.contains("a.toml"), "{e}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(w.current().cards[0].title, "second version", "the last good playbook stays");
    std::fs::write(cards.join("a.toml"), card("third")).unwrap();
    assert!(matches!(w.check(), Some(Reload::Reloaded { .. })));

    // Lexicons are part of the playbook folder and reload with it.
    let lexdir = dir.path().join("lexicon");
    std::fs::create_dir_all(&lexdir).unwrap();
    let builtin_churn = std::fs::read_to_string(repo("prompts/zh-CN/lexicon/churn.toml")).unwrap();
    std::fs::write(lexdir.join("churn.toml"), format!("{builtin_churn}\n[[group]]\nname = \"action\"\nweight = 0.9\nterms = [\"去隔壁\"]\n")).unwrap();
    match w.check() {
        Some(Reload::Reloaded { lexicons, .. }) => {
            let mut call = CallAnalysis::new(lexicons, AnalysisConfig::default());
            let a = call.turn(&Turn {
                speaker: Speaker::Customer,
                text: "那我去隔壁了",
                start: 0.0,
                end: 2.0,
                duration_known: true,
                is_final: true,
                features: None,
            });
            assert!(a.churn.is_some_and(|c| c.intent), "the edited lexicon is in use: {a:?}");
        }
        other => panic!("expected the lexicon to reload, got {other:?}"),
    }
    std::fs::write(lexdir.join("churn.toml"), "[[group]]\nname = \"no_such_group\"\nweight = 0.5\nterms = [\"x\"]\n").unwrap();
    match w.check() {
        Some(Reload::Failed(e)) => assert!(e.contains("churn.toml"), "{e}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn a_reloaded_playbook_without_the_card_on_screen_clears_it() {
    let pb = Arc::new(Playbook::builtin().unwrap());
    let mut coach = Coach::new(pb.clone());
    let mut call = CallAnalysis::new(Arc::new(Lexicons::embedded().unwrap()), AnalysisConfig::default());
    let churn =
        call.turn(&Turn { speaker: Speaker::Customer, text: "我要销户", start: 0.0, end: 2.0, duration_known: true, is_final: true, features: None });
    let shown = coach.on_analysis(&churn);
    let (main, _) = coach.active_ids();
    let main = main.expect("a card for a customer who wants to leave").to_string();
    assert!(shown.iter().any(|e| matches!(e, CoachEvent::Card(c) if c.id == main)));
    let mut edited = (*pb).clone();
    edited.cards.retain(|c| c.id != main);
    edited.origins.truncate(edited.cards.len());
    let events = coach.set_playbook(Arc::new(edited));
    assert!(
        events.iter().any(|e| matches!(e, CoachEvent::Card(c) if c.id == main && c.action == CardAction::Cleared)),
        "removing the card on screen clears it: {events:?}"
    );
    assert_eq!(coach.active_ids().0, None);
}

#[test]
fn an_hour_of_turns_does_not_grow_the_analysis_or_the_coach() {
    let lex = Arc::new(Lexicons::embedded().unwrap());
    let mut call = CallAnalysis::new(lex, AnalysisConfig::default());
    let mut coach = Coach::new(Arc::new(Playbook::builtin().unwrap()));
    let lines = [
        (Speaker::Customer, "我要销户，你们的信号太差了！"),
        (Speaker::Agent, "非常抱歉，我理解您的心情，请问是哪里信号不好？"),
        (Speaker::Customer, "家里，天天打不通，都第三次了"),
        (Speaker::Agent, "我给您申请网络优化，您看是今天还是明天安排？"),
        (Speaker::Customer, "那就今天吧"),
        (Speaker::Agent, "好的，我再跟您确认一下，工号一零八六"),
    ];
    let mut sizes = Vec::new();
    let mut t = 0.0;
    for i in 0..1200 {
        let (speaker, text) = lines[i % lines.len()];
        let a = call.turn(&Turn { speaker, text, start: t, end: t + 2.5, duration_known: true, is_final: true, features: None });
        let _ = coach.on_analysis(&a);
        let _ = coach.tick(t + 2.5);
        t += 3.0;
        if i % 200 == 199 {
            sizes.push((call.state_size(), coach.state_size()));
        }
    }
    let first = sizes[0];
    assert!(sizes.iter().all(|s| s.0 <= first.0 + 2 && s.1 <= first.1 + 2), "state stays bounded over an hour of turns: {sizes:?}");
}
