//! The ggml Whisper file format that whisper.cpp loads: writer and checker.
//!
//! Layout (all little-endian): magic `ggml`, eleven `i32` hyper-parameters,
//! the mel filter bank, the text vocabulary, then tensors, each as
//! `n_dims, name_len, type, dims[n_dims] (innermost first), name, data`.
//! [`expected_tensors`] mirrors the tensor table of whisper.cpp's loader so a
//! file can be checked before whisper.cpp sees it.

use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::ModelError;

/// `ggml` in ASCII, as a little-endian u32.
pub const MAGIC: u32 = 0x6767_6d6c;
/// ggml tensor type code for f32.
pub const TYPE_F32: i32 = 0;
/// ggml tensor type code for f16.
pub const TYPE_F16: i32 = 1;

/// Whisper hyper-parameters as stored in the ggml header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HParams {
    /// Vocabulary size including special tokens (51865 multilingual).
    pub n_vocab: i32,
    /// Encoder positions (1500 = 30 s).
    pub n_audio_ctx: i32,
    /// Encoder width.
    pub n_audio_state: i32,
    /// Encoder attention heads.
    pub n_audio_head: i32,
    /// Encoder layers (6 for base).
    pub n_audio_layer: i32,
    /// Decoder positions (448).
    pub n_text_ctx: i32,
    /// Decoder width.
    pub n_text_state: i32,
    /// Decoder attention heads.
    pub n_text_head: i32,
    /// Decoder layers.
    pub n_text_layer: i32,
    /// Mel bins (80).
    pub n_mels: i32,
    /// Weight type: 0 = f32, 1 = f16; quantized types are not written here.
    pub ftype: i32,
}

impl HParams {
    fn to_array(self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    fn from_array(a: [i32; 11]) -> Self {
        Self {
            n_vocab: a[0],
            n_audio_ctx: a[1],
            n_audio_state: a[2],
            n_audio_head: a[3],
            n_audio_layer: a[4],
            n_text_ctx: a[5],
            n_text_state: a[6],
            n_text_head: a[7],
            n_text_layer: a[8],
            n_mels: a[9],
            ftype: a[10],
        }
    }

    /// Model size name whisper.cpp derives from the encoder depth.
    pub fn size_name(&self) -> &'static str {
        match self.n_audio_layer {
            4 => "tiny",
            6 => "base",
            12 => "small",
            24 => "medium",
            32 => "large",
            _ => "unknown",
        }
    }

    /// What in the header no Whisper model has (sizes from tiny to large-v3
    /// fit with room to spare), if anything: a hostile or corrupt header
    /// must not size what the checker builds.
    pub fn implausible(&self) -> Option<String> {
        let fields = [
            ("n_vocab", self.n_vocab, 1 << 20),
            ("n_audio_ctx", self.n_audio_ctx, 1 << 14),
            ("n_audio_state", self.n_audio_state, 1 << 13),
            ("n_audio_head", self.n_audio_head, 256),
            ("n_audio_layer", self.n_audio_layer, 256),
            ("n_text_ctx", self.n_text_ctx, 1 << 14),
            ("n_text_state", self.n_text_state, 1 << 13),
            ("n_text_head", self.n_text_head, 256),
            ("n_text_layer", self.n_text_layer, 256),
            ("n_mels", self.n_mels, 512),
        ];
        fields.iter().find(|(_, v, max)| !(1..=*max).contains(v)).map(|(name, v, max)| format!("{name} is {v} (expected 1..={max})"))
    }

    /// True for the 99/100-language models.
    pub fn is_multilingual(&self) -> bool {
        self.n_vocab >= 51865
    }
}

/// What a tensor must look like: name, ggml dims (innermost first), type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// whisper.cpp tensor name.
    pub name: String,
    /// Dimensions, innermost first, as ggml stores them.
    pub dims: Vec<i32>,
    /// ggml type code.
    pub ttype: i32,
}

/// The tensors whisper.cpp's loader creates for these hyper-parameters, in
/// the order the converter writes them.
pub fn expected_tensors(hp: &HParams) -> Vec<TensorSpec> {
    let w = if hp.ftype == 0 { TYPE_F32 } else { TYPE_F16 };
    let f32_ = TYPE_F32;
    let mut out = Vec::new();
    let mut push = |name: String, dims: &[i32], ttype: i32| out.push(TensorSpec { name, dims: dims.to_vec(), ttype });
    let (a, t, mels) = (hp.n_audio_state, hp.n_text_state, hp.n_mels);
    push("encoder.positional_embedding".into(), &[a, hp.n_audio_ctx], f32_);
    push("encoder.conv1.weight".into(), &[3, mels, a], w);
    push("encoder.conv1.bias".into(), &[1, a], f32_);
    push("encoder.conv2.weight".into(), &[3, a, a], w);
    push("encoder.conv2.bias".into(), &[1, a], f32_);
    for i in 0..hp.n_audio_layer {
        let p = format!("encoder.blocks.{i}");
        block_tensors(&mut push, &p, "attn", a, w);
        push(format!("{p}.mlp_ln.weight"), &[a], f32_);
        push(format!("{p}.mlp_ln.bias"), &[a], f32_);
        push(format!("{p}.mlp.0.weight"), &[a, 4 * a], w);
        push(format!("{p}.mlp.0.bias"), &[4 * a], f32_);
        push(format!("{p}.mlp.2.weight"), &[4 * a, a], w);
        push(format!("{p}.mlp.2.bias"), &[a], f32_);
    }
    push("encoder.ln_post.weight".into(), &[a], f32_);
    push("encoder.ln_post.bias".into(), &[a], f32_);
    push("decoder.positional_embedding".into(), &[t, hp.n_text_ctx], f32_);
    push("decoder.token_embedding.weight".into(), &[t, hp.n_vocab], w);
    for i in 0..hp.n_text_layer {
        let p = format!("decoder.blocks.{i}");
        block_tensors(&mut push, &p, "attn", t, w);
        block_tensors(&mut push, &p, "cross_attn", t, w);
        push(format!("{p}.mlp_ln.weight"), &[t], f32_);
        push(format!("{p}.mlp_ln.bias"), &[t], f32_);
        push(format!("{p}.mlp.0.weight"), &[t, 4 * t], w);
        push(format!("{p}.mlp.0.bias"), &[4 * t], f32_);
        push(format!("{p}.mlp.2.weight"), &[4 * t, t], w);
        push(format!("{p}.mlp.2.bias"), &[t], f32_);
    }
    push("decoder.ln.weight".into(), &[t], f32_);
    push("decoder.ln.bias".into(), &[t], f32_);
    out
}

fn block_tensors(push: &mut impl FnMut(String, &[i32], i32), prefix: &str, kind: &str, n: i32, w: i32) {
    push(format!("{prefix}.{kind}_ln.weight"), &[n], TYPE_F32);
    push(format!("{prefix}.{kind}_ln.bias"), &[n], TYPE_F32);
    push(format!("{prefix}.{kind}.query.weight"), &[n, n], w);
    push(format!("{prefix}.{kind}.query.bias"), &[n], TYPE_F32);
    push(format!("{prefix}.{kind}.key.weight"), &[n, n], w);
    push(format!("{prefix}.{kind}.value.weight"), &[n, n], w);
    push(format!("{prefix}.{kind}.value.bias"), &[n], TYPE_F32);
    push(format!("{prefix}.{kind}.out.weight"), &[n, n], w);
    push(format!("{prefix}.{kind}.out.bias"), &[n], TYPE_F32);
}

fn type_size(ttype: i32) -> Option<usize> {
    match ttype {
        TYPE_F32 => Some(4),
        TYPE_F16 => Some(2),
        _ => None,
    }
}

/// Streams a ggml Whisper file out.
pub struct GgmlWriter<W: Write> {
    out: W,
}

impl<W: Write> GgmlWriter<W> {
    /// Writes magic, hyper-parameters, mel filters and vocabulary.
    pub fn begin(mut out: W, hp: &HParams, mel: &[f32], n_fft_bins: usize, vocab: &[Vec<u8>]) -> std::io::Result<Self> {
        out.write_all(&MAGIC.to_le_bytes())?;
        for v in hp.to_array() {
            out.write_all(&v.to_le_bytes())?;
        }
        out.write_all(&hp.n_mels.to_le_bytes())?;
        out.write_all(&(n_fft_bins as i32).to_le_bytes())?;
        for v in mel {
            out.write_all(&v.to_le_bytes())?;
        }
        out.write_all(&(vocab.len() as i32).to_le_bytes())?;
        for tok in vocab {
            out.write_all(&(tok.len() as u32).to_le_bytes())?;
            out.write_all(tok)?;
        }
        Ok(Self { out })
    }

    /// Writes one tensor; `data` must already be in the tensor's type.
    pub fn tensor(&mut self, spec: &TensorSpec, data: &[u8]) -> std::io::Result<()> {
        self.out.write_all(&(spec.dims.len() as i32).to_le_bytes())?;
        self.out.write_all(&(spec.name.len() as i32).to_le_bytes())?;
        self.out.write_all(&spec.ttype.to_le_bytes())?;
        for d in &spec.dims {
            self.out.write_all(&d.to_le_bytes())?;
        }
        self.out.write_all(spec.name.as_bytes())?;
        self.out.write_all(data)
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// What [`inspect`] found in a ggml file.
#[derive(Debug, Clone)]
pub struct GgmlSummary {
    /// Hyper-parameters from the header.
    pub hparams: HParams,
    /// Mel filter bank dimensions (n_mel, n_fft bins).
    pub mel_dims: (i32, i32),
    /// Tokens stored in the file (whisper.cpp adds the special ones).
    pub n_vocab_stored: i32,
    /// Tensors in file order.
    pub tensors: Vec<TensorSpec>,
    /// File size in bytes.
    pub file_bytes: u64,
}

/// Reads a ggml Whisper file's structure without loading the weights and
/// checks it against what whisper.cpp expects: every tensor present once,
/// with the right shape and type, and the file not cut short.
pub fn inspect(path: &Path) -> Result<GgmlSummary, ModelError> {
    let file = std::fs::File::open(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), error: source })?;
    let file_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut r = GgmlReader { inner: BufReader::new(file), path: path.to_path_buf(), file_bytes };
    let magic = r.u32("magic")?;
    if magic != MAGIC {
        return Err(r.invalid(format!(
            "not a ggml Whisper model (magic {magic:#010x}, expected {MAGIC:#010x}); \
             a CTranslate2 or PyTorch checkpoint must be converted first"
        )));
    }
    let mut a = [0i32; 11];
    for v in a.iter_mut() {
        *v = r.i32("hyper-parameters")?;
    }
    let hparams = HParams::from_array(a);
    if let Some(problem) = hparams.implausible() {
        return Err(r.invalid(format!("not a Whisper model header: {problem}")));
    }
    let ftype = hparams.ftype % 1000;
    let n_mel = r.i32("mel filter rows")?;
    let n_fft = r.i32("mel filter columns")?;
    if !(1..=256).contains(&n_mel) || !(1..=1024).contains(&n_fft) {
        return Err(r.invalid(format!("implausible mel filter size {n_mel}x{n_fft}")));
    }
    r.skip(n_mel as u64 * n_fft as u64 * 4, "mel filters")?;
    let n_vocab_stored = r.i32("vocabulary size")?;
    if !(0..=hparams.n_vocab).contains(&n_vocab_stored) {
        return Err(r.invalid(format!("vocabulary holds {n_vocab_stored} tokens, header says {}", hparams.n_vocab)));
    }
    for i in 0..n_vocab_stored {
        let len = r.u32("vocabulary")?;
        if len > 1024 {
            return Err(r.invalid(format!("token {i} claims {len} bytes")));
        }
        r.skip(len as u64, "vocabulary")?;
    }
    let mut tensors = Vec::new();
    loop {
        let mut first = [0u8; 4];
        let got = r.read_some(&mut first)?;
        if got == 0 {
            break;
        }
        if got < 4 {
            return Err(r.truncated("tensor header"));
        }
        let n_dims = i32::from_le_bytes(first);
        let name_len = r.i32("tensor header")?;
        let ttype = r.i32("tensor header")?;
        if !(1..=4).contains(&n_dims) || !(1..=256).contains(&name_len) {
            return Err(r.invalid(format!("tensor header after {} tensors is corrupt (n_dims {n_dims}, name length {name_len})", tensors.len())));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(r.i32("tensor dims")?);
        }
        let mut name = vec![0u8; name_len as usize];
        r.fill(&mut name, "tensor name")?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let elems = dims.iter().try_fold(1u64, |acc, d| acc.checked_mul((*d).max(0) as u64));
        let bytes = match type_size(ttype) {
            Some(sz) => match elems.and_then(|e| e.checked_mul(sz as u64)) {
                Some(b) => b,
                None => return Err(r.invalid(format!("tensor {name} has dimensions {dims:?} too large for any file"))),
            },
            None if ftype > 1 => {
                return Err(r.invalid(format!(
                    "tensor {name} is quantized (ggml type {ttype}); callcoach checks f16/f32 files only, \
                     whisper.cpp may still load it but it is not supported here"
                )))
            }
            None => return Err(r.invalid(format!("tensor {name} has unknown ggml type {ttype}"))),
        };
        r.skip(bytes, &format!("tensor {name}"))?;
        tensors.push(TensorSpec { name, dims, ttype });
    }
    let summary = GgmlSummary { hparams, mel_dims: (n_mel, n_fft), n_vocab_stored, tensors, file_bytes };
    check_against_expected(path, &summary)?;
    Ok(summary)
}

/// Reads one tensor's raw bytes (for checks and tests; whisper.cpp does the
/// real loading).
pub fn read_tensor(path: &Path, name: &str) -> Result<(TensorSpec, Vec<u8>), ModelError> {
    let summary = inspect(path)?;
    let data = std::fs::read(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), error: source })?;
    // Walk the tensor records from the end of the vocabulary.
    let mut off = 4 + 11 * 4 + 8 + (summary.mel_dims.0 * summary.mel_dims.1) as usize * 4 + 4;
    for _ in 0..summary.n_vocab_stored {
        let len = u32::from_le_bytes([data[off], data[off + 1], data[off + 2], data[off + 3]]) as usize;
        off += 4 + len;
    }
    for spec in &summary.tensors {
        let header = 12 + 4 * spec.dims.len() + spec.name.len();
        let elems: usize = spec.dims.iter().map(|d| *d as usize).product();
        let bytes = elems * type_size(spec.ttype).unwrap_or(0);
        if spec.name == name {
            let start = off + header;
            return Ok((spec.clone(), data[start..start + bytes].to_vec()));
        }
        off += header + bytes;
    }
    Err(ModelError::Invalid { path: path.to_path_buf(), reason: format!("no tensor named {name}") })
}

fn check_against_expected(path: &Path, s: &GgmlSummary) -> Result<(), ModelError> {
    if s.hparams.ftype > 1 {
        // Quantized files: whisper.cpp decides; structure was readable.
        return Ok(());
    }
    let expected = expected_tensors(&s.hparams);
    let invalid = |reason: String| ModelError::Invalid { path: path.to_path_buf(), reason };
    for want in &expected {
        match s.tensors.iter().find(|t| t.name == want.name) {
            None => {
                return Err(ModelError::Truncated {
                    path: path.to_path_buf(),
                    reason: format!("tensor {} is missing ({} of {} tensors present)", want.name, s.tensors.len(), expected.len()),
                })
            }
            Some(got) if got.dims != want.dims || got.ttype != want.ttype => {
                return Err(invalid(format!(
                    "tensor {} has dims {:?} type {}, whisper.cpp expects dims {:?} type {}",
                    want.name, got.dims, got.ttype, want.dims, want.ttype
                )))
            }
            Some(_) => {}
        }
    }
    if s.tensors.len() != expected.len() {
        return Err(invalid(format!("{} tensors stored, whisper.cpp expects {}", s.tensors.len(), expected.len())));
    }
    Ok(())
}

struct GgmlReader<R> {
    inner: R,
    path: PathBuf,
    file_bytes: u64,
}

impl<R: Read + Seek> GgmlReader<R> {
    fn invalid(&self, reason: String) -> ModelError {
        ModelError::Invalid { path: self.path.clone(), reason }
    }

    fn truncated(&self, what: &str) -> ModelError {
        ModelError::Truncated { path: self.path.clone(), reason: format!("file ends ({} bytes) inside {what}", self.file_bytes) }
    }

    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, ModelError> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => return Err(ModelError::Io { path: self.path.clone(), error: source }),
            }
        }
        Ok(got)
    }

    fn fill(&mut self, buf: &mut [u8], what: &str) -> Result<(), ModelError> {
        if self.read_some(buf)? < buf.len() {
            return Err(self.truncated(what));
        }
        Ok(())
    }

    fn i32(&mut self, what: &str) -> Result<i32, ModelError> {
        let mut b = [0u8; 4];
        self.fill(&mut b, what)?;
        Ok(i32::from_le_bytes(b))
    }

    fn u32(&mut self, what: &str) -> Result<u32, ModelError> {
        let mut b = [0u8; 4];
        self.fill(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), ModelError> {
        let pos = self.inner.stream_position().map_err(|source| ModelError::Io { path: self.path.clone(), error: source })?;
        if pos + n > self.file_bytes {
            return Err(self.truncated(what));
        }
        self.inner.seek(SeekFrom::Current(n as i64)).map_err(|source| ModelError::Io { path: self.path.clone(), error: source })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_with_implausible_sizes_is_refused_before_anything_is_built() {
        // Found by `scripts/fuzz.sh ggml` (an out-of-memory: the expected
        // tensor list was built for the layer count the header claimed).
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/ggml/a_billion_layers_in_the_header.bin");
        let e = inspect(&p).unwrap_err().to_string();
        assert!(e.contains("not a Whisper model header") && e.contains("expected 1..="), "{e}");
    }

    #[test]
    fn tensor_dimensions_whose_size_overflows_are_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.bin");
        let mut b = MAGIC.to_le_bytes().to_vec();
        for v in [51865, 1500, 512, 8, 6, 448, 512, 8, 6, 80, 1] {
            b.extend(i32::to_le_bytes(v)); // hyper-parameters (base)
        }
        b.extend(1i32.to_le_bytes()); // mel rows
        b.extend(1i32.to_le_bytes()); // mel columns
        b.extend(0f32.to_le_bytes());
        b.extend(0i32.to_le_bytes()); // no vocabulary
        b.extend(4i32.to_le_bytes()); // n_dims
        b.extend(1i32.to_le_bytes()); // name length
        b.extend(0i32.to_le_bytes()); // f32
        for _ in 0..4 {
            b.extend(i32::MAX.to_le_bytes());
        }
        b.push(b'x');
        std::fs::write(&p, &b).unwrap();
        let e = inspect(&p).unwrap_err().to_string();
        assert!(e.contains("m.bin") && e.contains("too large"), "{e}");
    }
}
