//! Does biasing Whisper's initial prompt with domain words help?
//!
//! `cargo bench --bench prompt_bias` transcribes every Mandarin fixture with
//! each candidate prompt and prints the character error rate, how many of the
//! domain keywords in the reference come back exactly, and how many churn
//! intents the analysis still finds on the transcripts.

use std::path::Path;
use std::sync::Arc;

use callcoach::analysis::{AnalysisConfig, CallAnalysis, Lexicons, Turn};
use callcoach::asr::{AsrConfig, WhisperEngine};
use callcoach::events::Speaker;

const KEYWORDS: &[&str] = &["销户", "携号转网", "转网", "套餐", "流量", "宽带", "话费", "投诉", "拆机", "工号", "网络", "信号"];

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zh");
    let lines = std::fs::read_to_string(dir.join("lines.tsv")).expect("lines.tsv");
    let rows: Vec<(String, String, String)> = lines
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string(), f[3].to_string())
        })
        .collect();
    let lex = Arc::new(Lexicons::embedded().expect("lexicons"));
    let prompts = [("plain", "以下是普通话的句子。"), ("domain", callcoach::asr::DEFAULT_INITIAL_PROMPT)];
    println!("{:<8} {:>6} {:>14} {:>16}", "prompt", "cer", "keywords_exact", "churn_found/true");
    for (name, prompt) in prompts {
        let engine = WhisperEngine::load(AsrConfig { initial_prompt: prompt.into(), ..AsrConfig::default() }).expect("model");
        let mut state = engine.new_state().expect("state");
        let (mut err, mut len, mut kw_hit, mut kw_all, mut churn_found, mut churn_true) = (0, 0, 0, 0, 0, 0);
        for (id, speaker, text) in &rows {
            let mut r = hound::WavReader::open(dir.join(format!("{id}.wav"))).expect("wav");
            let samples: Vec<f32> = r.samples::<i16>().map(|s| s.unwrap_or(0) as f32 / 32768.0).collect();
            let got = engine.transcribe(&mut state, &samples).expect("decode").text;
            let c = callcoach::score::cer(text, &got);
            let (e, n) = (c.errors, c.ref_chars);
            err += e;
            len += n;
            for k in KEYWORDS {
                if text.contains(k) {
                    kw_all += 1;
                    kw_hit += usize::from(got.contains(k));
                }
            }
            if speaker == "customer" {
                let truth = CallAnalysis::new(lex.clone(), AnalysisConfig::default())
                    .turn(&Turn { speaker: Speaker::Customer, text, start: 0.0, end: 3.0, duration_known: false, is_final: true, features: None })
                    .churn
                    .is_some_and(|c| c.intent);
                if truth {
                    churn_true += 1;
                    let found = CallAnalysis::new(lex.clone(), AnalysisConfig::default())
                        .turn(&Turn { speaker: Speaker::Customer, text: &got, start: 0.0, end: 3.0, duration_known: false, is_final: true, features: None })
                        .churn
                        .is_some_and(|c| c.intent);
                    churn_found += usize::from(found);
                }
            }
        }
        println!("{name:<8} {:>6.3} {:>8}/{:<5} {:>10}/{}", err as f64 / len as f64, kw_hit, kw_all, churn_found, churn_true);
    }
}
