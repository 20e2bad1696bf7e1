//! The agent's overlay, drawn from scripted calls: egui_kittest queries of
//! what the agent can read and press, and PNG snapshots of the main states
//! (committed in tests/snapshots; a changed picture fails the test; after an
//! intended change run `UPDATE_SNAPSHOTS=1 scripts/test.sh --test overlay`
//! and look at the new PNGs before committing them).
//!
//! Rendering is pinned to wgpu's GL backend on Mesa's software rasteriser
//! (llvmpipe), so the pixels are the same on every machine CI runs on.

use std::sync::Arc;

use callcoach::analysis::{AnalysisConfig, Lexicons};
use callcoach::call::script;
use callcoach::coach::Playbook;
use callcoach::events::{Event, Speaker, StatusEvent, StatusKind, TimedEvent, Verdict};
use callcoach::overlay::{fonts, panel_frame, show, Action, OverlayState};
use eframe::egui;
use eframe::egui_wgpu::{self, wgpu};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

use Speaker::{Agent as A, Customer as C};

/// wgpu on GL (llvmpipe) only: Vulkan's lavapipe would draw other pixels.
fn gl_only() -> egui_wgpu::WgpuSetup {
    let mut setup = egui_wgpu::WgpuSetupCreateNew::without_display_handle();
    setup.instance_descriptor.backends = wgpu::Backends::GL;
    egui_wgpu::WgpuSetup::CreateNew(setup)
}

fn font() -> egui::FontData {
    let choice = fonts::find(None, None).expect("a CJK font (apt-get install fonts-noto-cjk; .ci/run installs it)");
    fonts::load(&choice).expect("the CJK font loads")
}

/// The events of a written call, up to and including its `upto`-th turn
/// (the call's end only when all turns are in).
fn call(turns: &[(Speaker, f64, f64, &str)], upto: usize) -> Vec<TimedEvent> {
    let events = script(Arc::new(Lexicons::embedded().unwrap()), AnalysisConfig::default(), Arc::new(Playbook::builtin().unwrap()), "王丽", turns);
    if upto >= turns.len() {
        return events;
    }
    let cut = turns[upto].2;
    events.into_iter().take_while(|e| !matches!(e.event, Event::CallEnded(_)) && e.t <= cut).collect()
}

fn state_of(events: &[TimedEvent]) -> OverlayState {
    let mut st = OverlayState::new(3);
    for e in events {
        st.view.apply(e);
    }
    st.source_label = "回放 retention_call.wav".into();
    st
}

fn harness(state: OverlayState) -> Harness<'static, (OverlayState, Vec<Action>)> {
    let font = font();
    Harness::builder()
        .with_size([380.0, 280.0])
        .wgpu_setup(gl_only())
        .with_context_setup(move |ctx| {
            fonts::install(ctx, font);
            callcoach::overlay::style(ctx, "dark");
        })
        .build_ui_state(
            |ui, (st, actions): &mut (OverlayState, Vec<Action>)| {
                let frame = panel_frame(ui.visuals(), 1.0);
                egui::CentralPanel::default().frame(frame).show(ui, |ui| actions.extend(show(ui, st)));
            },
            (state, Vec::new()),
        )
}

const NETWORK_CALL: &[(Speaker, f64, f64, &str)] = &[
    (C, 0.0, 4.0, "喂，你好，我要销户，这个号码我不想用了。"),
    (A, 4.6, 7.5, "您好，非常理解您的心情，请问是什么原因让您想要销户呢？"),
    (C, 8.0, 12.0, "你们的网络信号太差了，在家里经常打不通电话！"),
    (A, 12.5, 15.0, "非常抱歉给您带来不便，换成是我也会很着急。"),
    (A, 15.4, 21.0, "我马上为您安排网络优化，另外您看是送半年流量包，还是每月减免二十元话费？"),
    (C, 21.5, 23.0, "那就要流量包吧。"),
    (A, 23.5, 30.0, "好的，我再跟您确认一下，工程师两天内联系您，流量包今天开通，我的工号是一零八六。"),
];

const ANGRY_CALL: &[(Speaker, f64, f64, &str)] = &[
    (C, 0.0, 3.0, "我问一下这个月的话费。"),
    (C, 3.5, 8.0, "你们到底怎么回事，乱扣我话费，这都第三次了，我要投诉！"),
    (C, 8.5, 12.0, "再不给我解决我就携号转网，气死我了！"),
];

#[test]
fn no_call_yet_says_it_is_waiting() {
    let mut h = harness(state_of(&[]));
    h.run();
    h.get_by_label_contains("等待下一通电话");
    h.snapshot("overlay_no_call");
}

#[test]
fn a_customer_who_wants_to_leave_brings_the_listen_card() {
    let mut h = harness(state_of(&call(NETWORK_CALL, 0)));
    h.run();
    h.get_by_label_contains("先问清原因");
    h.get_by_label_contains("流失 高");
    h.get_by_label_contains("我要销户");
    h.snapshot("overlay_churn_card");
}

#[test]
fn an_angry_customer_with_rising_anger_asks_for_empathy_first() {
    let mut h = harness(state_of(&call(ANGRY_CALL, 2)));
    h.run();
    h.get_by_label_contains("愤怒 ↑");
    h.get_by_label_contains("先安抚情绪");
    h.snapshot("overlay_angry_rising");
}

#[test]
fn an_inflaming_phrase_shows_the_warning_strip_with_better_wording() {
    let turns = [(C, 0.0, 4.0, "你们乱扣我话费，我要投诉！"), (A, 4.5, 7.0, "你别激动，这是我们的规定。")];
    let mut h = harness(state_of(&call(&turns, 1)));
    h.run();
    h.get_by_label_contains("换个说法");
    h.snapshot("overlay_inflaming_alert");
}

#[test]
fn after_the_call_its_summary_stays_until_the_next_one() {
    let mut h = harness(state_of(&call(NETWORK_CALL, NETWORK_CALL.len())));
    h.run();
    h.get_by_label_contains("上一通电话 · 挽留成功");
    h.get_by_label_contains("合规");
    h.snapshot("overlay_post_call_summary");
}

#[test]
fn collapsed_the_bar_keeps_anger_churn_and_the_card_title() {
    let mut st = state_of(&call(ANGRY_CALL, 2));
    st.collapsed = true;
    let mut h = harness(st);
    h.set_size(egui::vec2(380.0, callcoach::overlay::ui::COLLAPSED_HEIGHT));
    h.run();
    h.get_by_label_contains("先安抚情绪");
    h.get_by_label_contains("高");
    h.snapshot("overlay_collapsed");
}

#[test]
fn the_buttons_give_card_feedback_end_the_call_and_collapse() {
    let mut h = harness(state_of(&call(NETWORK_CALL, 0)));
    h.run();
    h.get_by_label("用了 ✓").click();
    h.run();
    let card_id = h.state().0.view.live.as_ref().and_then(|l| l.card.as_ref()).map(|c| c.id.clone()).unwrap();
    assert!(h.state().1.contains(&Action::CardFeedback(callcoach::events::CardFeedback { card_id, verdict: Verdict::Used })), "{:?}", h.state().1);
    h.get_by_label("为什么?").click();
    h.run();
    h.get_by_label_contains("churn_intent=true");
    h.get_by_label("结束").click();
    h.run();
    assert!(h.state().1.contains(&Action::EndCall));
    h.get_by_label("▁").click();
    h.run();
    assert!(h.state().1.contains(&Action::SetCollapsed(true)));
}

#[test]
fn a_lost_headset_shows_as_a_small_line_not_a_dialog() {
    let mut events = call(NETWORK_CALL, 0);
    let last = events.last().unwrap().clone();
    let lost = TimedEvent::in_call(
        last.call_id.unwrap(),
        last.seq.unwrap() + 1,
        last.t,
        Event::Status(StatusEvent { kind: StatusKind::DeviceLost, speaker: Some(Speaker::Agent), message: "headset unplugged".into() }),
    );
    events.push(lost);
    let mut h = harness(state_of(&events));
    h.run();
    h.get_by_label_contains("耳机/设备断开");
    h.get_by_label_contains("先问清原因");
}
