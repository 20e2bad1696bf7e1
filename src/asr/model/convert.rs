//! CTranslate2 Whisper (`WhisperSpec`) -> ggml, the format whisper.cpp loads.
//!
//! Mapping (CTranslate2 name -> whisper.cpp name):
//! - `*/self_attention/linear_0` holds query, key and value stacked by rows:
//!   split into `attn.query`, `attn.key`, `attn.value`. The key bias is
//!   dropped (whisper has none; it only shifts every logit of a query by the
//!   same amount, so softmax ignores it).
//! - `*/self_attention/linear_1` -> `attn.out`.
//! - decoder `attention/linear_0` -> `cross_attn.query`, `linear_1` = key and
//!   value stacked -> `cross_attn.key`/`.value`, `linear_2` -> `cross_attn.out`.
//! - `layer_norm/gamma|beta` -> `*_ln.weight|bias`; `ffn/linear_0|1` ->
//!   `mlp.0|2`; `encoder/layer_norm` -> `encoder.ln_post`; position encodings
//!   -> positional embeddings; conv biases become (n, 1).
//! - biases, norms and positional embeddings are stored f32, the rest f16.

use std::io::Write;

use half::f16;

use super::ct2::{Ct2DType, Ct2Model, Ct2Variable};
use super::ggml::{expected_tensors, GgmlWriter, HParams, TensorSpec, TYPE_F16, TYPE_F32};
use super::{mel, ModelError};

/// Derives the ggml hyper-parameters from the CTranslate2 variables.
pub fn hparams_from_ct2(m: &Ct2Model) -> Result<HParams, ModelError> {
    let conv1 = m.get("encoder/conv1/weight")?;
    let enc_pos = m.get("encoder/position_encodings/encodings")?;
    let dec_pos = m.get("decoder/position_encodings/encodings")?;
    let emb = m.get("decoder/embeddings/weight")?;
    let invalid = |reason: String| ModelError::Invalid { path: m.path.clone(), reason };
    let dim = |v: &Ct2Variable, i: usize, name: &str| -> Result<i32, ModelError> {
        v.shape.get(i).map(|d| *d as i32).ok_or_else(|| invalid(format!("{name} has shape {:?}", v.shape)))
    };
    let heads = |name: &str| -> Result<i32, ModelError> {
        m.get(name)?.as_int_scalar().map(|h| h as i32).ok_or_else(|| invalid(format!("{name} is not an integer scalar")))
    };
    let count_layers = |side: &str| (0..).take_while(|i| m.has(&format!("{side}/layer_{i}/self_attention/linear_0/weight"))).count() as i32;
    Ok(HParams {
        n_vocab: dim(emb, 0, "decoder/embeddings/weight")?,
        n_audio_ctx: dim(enc_pos, 0, "encoder position encodings")?,
        n_audio_state: dim(conv1, 0, "encoder/conv1/weight")?,
        n_audio_head: heads("encoder/num_heads")?,
        n_audio_layer: count_layers("encoder"),
        n_text_ctx: dim(dec_pos, 0, "decoder position encodings")?,
        n_text_state: dim(emb, 1, "decoder/embeddings/weight")?,
        n_text_head: heads("decoder/num_heads")?,
        n_text_layer: count_layers("decoder"),
        n_mels: dim(conv1, 1, "encoder/conv1/weight")?,
        ftype: 1,
    })
}

/// Refuses quantized or otherwise unusable weights before any work is done.
pub fn check_weight_types(m: &Ct2Model) -> Result<(), ModelError> {
    for (name, v) in m.variables() {
        if v.shape.is_empty() {
            continue;
        }
        match v.dtype {
            Ct2DType::F16 | Ct2DType::F32 => {}
            other => {
                return Err(ModelError::Quantized {
                    path: m.path.clone(),
                    reason: format!(
                        "variable {name} is {}; callcoach converts float16 or float32 CTranslate2 \
                         models only (re-export without int8/int16/bfloat16 quantization, \
                         or pass an official ggml file with --model)",
                        other.name()
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Where a ggml tensor's data comes from.
struct Source<'a> {
    var: &'a Ct2Variable,
    /// Row range of the outermost dimension (for split fused projections).
    rows: Option<(usize, usize)>,
}

fn source_for<'a>(m: &'a Ct2Model, spec: &TensorSpec) -> Result<Source<'a>, ModelError> {
    let name = spec.name.as_str();
    let whole = |ct2: &str| -> Result<Source<'a>, ModelError> { Ok(Source { var: m.get(ct2)?, rows: None }) };
    let part = |ct2: &str, k: usize, of: usize| -> Result<Source<'a>, ModelError> {
        let var = m.get(ct2)?;
        let n = var.shape.first().copied().unwrap_or(0);
        if n % of != 0 {
            return Err(ModelError::Invalid { path: m.path.clone(), reason: format!("{ct2} has {n} rows, not divisible into {of} projections") });
        }
        let step = n / of;
        Ok(Source { var, rows: Some((k * step, (k + 1) * step)) })
    };
    match name {
        "encoder.positional_embedding" => return whole("encoder/position_encodings/encodings"),
        "decoder.positional_embedding" => return whole("decoder/position_encodings/encodings"),
        "decoder.token_embedding.weight" => return whole("decoder/embeddings/weight"),
        "encoder.ln_post.weight" => return whole("encoder/layer_norm/gamma"),
        "encoder.ln_post.bias" => return whole("encoder/layer_norm/beta"),
        "decoder.ln.weight" => return whole("decoder/layer_norm/gamma"),
        "decoder.ln.bias" => return whole("decoder/layer_norm/beta"),
        _ => {}
    }
    if let Some(rest) = name.strip_prefix("encoder.conv") {
        // conv1.weight -> encoder/conv1/weight
        return whole(&format!("encoder/conv{}", rest.replace('.', "/")));
    }
    // {side}.blocks.{i}.{module}.{leaf...}
    let mut it = name.splitn(4, '.');
    let (side, _blocks, idx, tail) = (it.next(), it.next(), it.next(), it.next());
    let (Some(side), Some(idx), Some(tail)) = (side, idx, tail) else {
        return Err(unmapped(m, name));
    };
    let layer = format!("{side}/layer_{idx}");
    let ln = |module: &str, leaf: &str| -> Result<Source<'a>, ModelError> {
        let gb = if leaf == "weight" { "gamma" } else { "beta" };
        whole(&format!("{layer}/{module}/layer_norm/{gb}"))
    };
    let (module, leaf) = tail.rsplit_once('.').ok_or_else(|| unmapped(m, name))?;
    match module {
        "attn_ln" => ln("self_attention", leaf),
        "cross_attn_ln" => ln("attention", leaf),
        "mlp_ln" => ln("ffn", leaf),
        "mlp.0" => whole(&format!("{layer}/ffn/linear_0/{leaf}")),
        "mlp.2" => whole(&format!("{layer}/ffn/linear_1/{leaf}")),
        "attn.query" => part(&format!("{layer}/self_attention/linear_0/{leaf}"), 0, 3),
        "attn.key" => part(&format!("{layer}/self_attention/linear_0/{leaf}"), 1, 3),
        "attn.value" => part(&format!("{layer}/self_attention/linear_0/{leaf}"), 2, 3),
        "attn.out" => whole(&format!("{layer}/self_attention/linear_1/{leaf}")),
        "cross_attn.query" => whole(&format!("{layer}/attention/linear_0/{leaf}")),
        "cross_attn.key" => part(&format!("{layer}/attention/linear_1/{leaf}"), 0, 2),
        "cross_attn.value" => part(&format!("{layer}/attention/linear_1/{leaf}"), 1, 2),
        "cross_attn.out" => whole(&format!("{layer}/attention/linear_2/{leaf}")),
        _ => Err(unmapped(m, name)),
    }
}

fn unmapped(m: &Ct2Model, name: &str) -> ModelError {
    ModelError::Invalid { path: m.path.clone(), reason: format!("no CTranslate2 variable maps to whisper.cpp tensor {name}") }
}

/// Converts the source slice to the target ggml type.
fn encode(src: &Source<'_>, ttype: i32, expect_elems: usize, name: &str) -> Result<Vec<u8>, String> {
    let var = src.var;
    let elem = var.dtype.size_bytes();
    let row_elems: usize = var.shape.iter().skip(1).product::<usize>().max(1);
    let bytes = match src.rows {
        Some((a, b)) => &var.data[a * row_elems * elem..b * row_elems * elem],
        None => &var.data[..],
    };
    let n = bytes.len() / elem;
    if n != expect_elems {
        return Err(format!("tensor {name}: source has {n} elements (shape {:?}), expected {expect_elems}", var.shape));
    }
    let mut out = Vec::with_capacity(n * if ttype == TYPE_F32 { 4 } else { 2 });
    match (var.dtype, ttype) {
        (Ct2DType::F16, TYPE_F16) | (Ct2DType::F32, TYPE_F32) => out.extend_from_slice(bytes),
        (Ct2DType::F16, TYPE_F32) => {
            for c in bytes.chunks_exact(2) {
                let v = f16::from_le_bytes([c[0], c[1]]).to_f32();
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        (Ct2DType::F32, TYPE_F16) => {
            for c in bytes.chunks_exact(4) {
                let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                out.extend_from_slice(&f16::from_f32(v).to_le_bytes());
            }
        }
        (dt, t) => return Err(format!("tensor {name}: cannot convert {} to ggml type {t}", dt.name())),
    }
    Ok(out)
}

/// Writes a complete ggml model for `m` to `out`. `progress(done, total)` is
/// called after each tensor.
pub fn convert<W: Write>(m: &Ct2Model, vocab: &[Vec<u8>], out: W, mut progress: impl FnMut(usize, usize)) -> Result<W, ModelError> {
    check_weight_types(m)?;
    let hp = hparams_from_ct2(m)?;
    if hp.n_mels != 80 {
        return Err(ModelError::Invalid { path: m.path.clone(), reason: format!("{} mel bins: only 80-bin models (tiny..large-v2) are supported", hp.n_mels) });
    }
    let io = |source: std::io::Error| ModelError::Io { path: m.path.clone(), error: source };
    let filters = mel::mel_filters(hp.n_mels as usize);
    let mut w = GgmlWriter::begin(out, &hp, &filters, mel::N_FFT / 2 + 1, vocab).map_err(io)?;
    let specs = expected_tensors(&hp);
    for (i, spec) in specs.iter().enumerate() {
        let src = source_for(m, spec)?;
        let elems: usize = spec.dims.iter().map(|d| *d as usize).product();
        let data = encode(&src, spec.ttype, elems, &spec.name).map_err(|reason| ModelError::Invalid { path: m.path.clone(), reason })?;
        w.tensor(spec, &data).map_err(io)?;
        progress(i + 1, specs.len());
    }
    w.finish().map_err(io)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::asr::model::ct2::Ct2Variable;
    use crate::asr::model::ggml;

    const N: usize = 4; // model width of the toy model

    fn f16_var(shape: &[usize], f: impl Fn(usize) -> f32) -> Ct2Variable {
        let n: usize = shape.iter().product();
        let data = (0..n).flat_map(|i| f16::from_f32(f(i)).to_le_bytes()).collect();
        Ct2Variable { shape: shape.to_vec(), dtype: Ct2DType::F16, data }
    }

    fn scalar_i16(v: i16) -> Ct2Variable {
        Ct2Variable { shape: vec![], dtype: Ct2DType::I16, data: v.to_le_bytes().to_vec() }
    }

    /// A one-layer Whisper-shaped model, width 4, where each weight row holds
    /// its own row index so splits can be checked.
    fn toy_model() -> Ct2Model {
        let mut v: HashMap<String, Ct2Variable> = HashMap::new();
        let row = |shape: &[usize]| {
            let cols: usize = shape[1..].iter().product::<usize>().max(1);
            f16_var(shape, move |i| (i / cols) as f32)
        };
        let vecn = |n: usize, base: f32| f16_var(&[n], move |i| base + i as f32);
        v.insert("encoder/conv1/weight".into(), row(&[N, 80, 3]));
        v.insert("encoder/conv1/bias".into(), vecn(N, 0.0));
        v.insert("encoder/conv2/weight".into(), row(&[N, N, 3]));
        v.insert("encoder/conv2/bias".into(), vecn(N, 0.0));
        v.insert("encoder/position_encodings/encodings".into(), row(&[3, N]));
        v.insert("decoder/position_encodings/encodings".into(), row(&[2, N]));
        v.insert("decoder/embeddings/weight".into(), row(&[51865, N]));
        v.insert("encoder/num_heads".into(), scalar_i16(1));
        v.insert("decoder/num_heads".into(), scalar_i16(1));
        for side in ["encoder", "decoder"] {
            let l = format!("{side}/layer_0");
            for ln in ["self_attention", "ffn"].iter().chain(if side == "decoder" { &["attention"][..] } else { &[][..] }) {
                v.insert(format!("{l}/{ln}/layer_norm/gamma"), vecn(N, 1.0));
                v.insert(format!("{l}/{ln}/layer_norm/beta"), vecn(N, 0.0));
            }
            v.insert(format!("{l}/self_attention/linear_0/weight"), row(&[3 * N, N]));
            v.insert(format!("{l}/self_attention/linear_0/bias"), vecn(3 * N, 100.0));
            v.insert(format!("{l}/self_attention/linear_1/weight"), row(&[N, N]));
            v.insert(format!("{l}/self_attention/linear_1/bias"), vecn(N, 0.0));
            v.insert(format!("{l}/ffn/linear_0/weight"), row(&[4 * N, N]));
            v.insert(format!("{l}/ffn/linear_0/bias"), vecn(4 * N, 0.0));
            v.insert(format!("{l}/ffn/linear_1/weight"), row(&[N, 4 * N]));
            v.insert(format!("{l}/ffn/linear_1/bias"), vecn(N, 0.0));
            v.insert(format!("{side}/layer_norm/gamma"), vecn(N, 1.0));
            v.insert(format!("{side}/layer_norm/beta"), vecn(N, 0.0));
        }
        let l = "decoder/layer_0/attention";
        v.insert(format!("{l}/linear_0/weight"), row(&[N, N]));
        v.insert(format!("{l}/linear_0/bias"), vecn(N, 0.0));
        v.insert(format!("{l}/linear_1/weight"), row(&[2 * N, N]));
        v.insert(format!("{l}/linear_1/bias"), vecn(2 * N, 200.0));
        v.insert(format!("{l}/linear_2/weight"), row(&[N, N]));
        v.insert(format!("{l}/linear_2/bias"), vecn(N, 0.0));
        Ct2Model::from_variables("toy/model.bin".into(), v)
    }

    fn f16_values(bytes: &[u8]) -> Vec<f32> {
        bytes.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()).collect()
    }

    fn f32_values(bytes: &[u8]) -> Vec<f32> {
        bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    }

    fn convert_toy() -> tempfile::TempPath {
        let m = toy_model();
        let vocab: Vec<Vec<u8>> = (0..50257).map(|i| format!("t{i}").into_bytes()).collect();
        let file = tempfile::NamedTempFile::new().unwrap();
        let out = convert(&m, &vocab, std::io::BufWriter::new(file.reopen().unwrap()), |_, _| {}).unwrap();
        drop(out);
        file.into_temp_path()
    }

    #[test]
    fn header_and_every_tensor_match_whisper_cpp_expectations() {
        let path = convert_toy();
        let s = ggml::inspect(&path).unwrap();
        assert_eq!((s.hparams.n_vocab, s.hparams.n_audio_ctx, s.hparams.n_audio_state, s.hparams.n_audio_head, s.hparams.n_audio_layer), (51865, 3, 4, 1, 1));
        assert_eq!((s.hparams.n_text_ctx, s.hparams.n_text_state, s.hparams.n_text_layer, s.hparams.n_mels, s.hparams.ftype), (2, 4, 1, 80, 1));
        assert_eq!(s.mel_dims, (80, 201));
        assert_eq!(s.n_vocab_stored, 50257);
        let names: Vec<&str> = s.tensors.iter().map(|t| t.name.as_str()).collect();
        for want in [
            "encoder.positional_embedding",
            "encoder.conv1.weight",
            "encoder.blocks.0.attn.key.weight",
            "encoder.ln_post.bias",
            "decoder.token_embedding.weight",
            "decoder.blocks.0.cross_attn.value.bias",
            "decoder.ln.weight",
        ] {
            assert!(names.contains(&want), "{want} missing");
        }
        assert!(!names.iter().any(|n| n.ends_with("key.bias")), "key biases must be dropped");
        let conv1 = s.tensors.iter().find(|t| t.name == "encoder.conv1.weight").unwrap();
        assert_eq!((conv1.dims.clone(), conv1.ttype), (vec![3, 80, 4], ggml::TYPE_F16));
        let bias = s.tensors.iter().find(|t| t.name == "encoder.conv1.bias").unwrap();
        assert_eq!((bias.dims.clone(), bias.ttype), (vec![1, 4], ggml::TYPE_F32));
    }

    #[test]
    fn fused_projections_split_in_query_key_value_order() {
        let path = convert_toy();
        let rows = |name: &str| -> Vec<f32> {
            let (spec, data) = ggml::read_tensor(&path, name).unwrap();
            let v = if spec.ttype == ggml::TYPE_F16 { f16_values(&data) } else { f32_values(&data) };
            v.chunks(N).map(|r| r[0]).collect()
        };
        assert_eq!(rows("encoder.blocks.0.attn.query.weight"), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(rows("encoder.blocks.0.attn.key.weight"), vec![4.0, 5.0, 6.0, 7.0]);
        assert_eq!(rows("encoder.blocks.0.attn.value.weight"), vec![8.0, 9.0, 10.0, 11.0]);
        assert_eq!(rows("decoder.blocks.0.cross_attn.key.weight"), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(rows("decoder.blocks.0.cross_attn.value.weight"), vec![4.0, 5.0, 6.0, 7.0]);
        let (_, vb) = ggml::read_tensor(&path, "encoder.blocks.0.attn.value.bias").unwrap();
        assert_eq!(f32_values(&vb), vec![108.0, 109.0, 110.0, 111.0]);
        let (_, cvb) = ggml::read_tensor(&path, "decoder.blocks.0.cross_attn.value.bias").unwrap();
        assert_eq!(f32_values(&cvb), vec![204.0, 205.0, 206.0, 207.0]);
        let (_, ln) = ggml::read_tensor(&path, "encoder.ln_post.weight").unwrap();
        assert_eq!(f32_values(&ln), vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn int8_weights_are_refused_naming_the_variable() {
        let mut m = toy_model();
        let mut vars: HashMap<String, Ct2Variable> = m.variables().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let w = vars.get_mut("encoder/layer_0/ffn/linear_0/weight").unwrap();
        w.dtype = Ct2DType::I8;
        w.data.truncate(w.len());
        m = Ct2Model::from_variables("q/model.bin".into(), vars);
        let err = convert(&m, &[], Vec::new(), |_, _| {}).unwrap_err().to_string();
        assert!(err.contains("int8") && err.contains("encoder/layer_0/ffn/linear_0/weight"), "{err}");
    }

    #[test]
    fn a_truncated_ggml_file_is_reported() {
        let path = convert_toy();
        let bytes = std::fs::read(&path).unwrap();
        let cut = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(cut.path(), &bytes[..bytes.len() - 100]).unwrap();
        let err = ggml::inspect(cut.path()).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }
}
