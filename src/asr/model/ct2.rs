//! Reader for CTranslate2 `model.bin` files (binary format version 5 and 6).
//!
//! The layout is a flat list of named variables, each with a rank, its
//! dimensions, a data type and raw little-endian bytes, followed by aliases.
//! Only what the Whisper converter needs is kept: float16/float32 tensors and
//! small integer scalars such as `encoder/num_heads`.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::ModelError;

/// Data type codes used by CTranslate2 (`ctranslate2::DataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2DType {
    /// 32-bit IEEE float.
    F32,
    /// 8-bit integer (quantized weights).
    I8,
    /// 16-bit integer.
    I16,
    /// 32-bit integer.
    I32,
    /// 16-bit IEEE float.
    F16,
    /// bfloat16.
    BF16,
}

impl Ct2DType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::BF16,
            _ => return None,
        })
    }

    /// Size of one element in bytes.
    pub fn size_bytes(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::BF16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }

    /// Name as CTranslate2 spells it in its quantization options.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "float32",
            Self::I8 => "int8",
            Self::I16 => "int16",
            Self::I32 => "int32",
            Self::F16 => "float16",
            Self::BF16 => "bfloat16",
        }
    }
}

/// One variable of a CTranslate2 model.
#[derive(Debug, Clone)]
pub struct Ct2Variable {
    /// Shape, outermost dimension first (PyTorch order).
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: Ct2DType,
    /// Raw little-endian bytes.
    pub data: Vec<u8>,
}

impl Ct2Variable {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the variable holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value of an integer scalar (rank 0, int8/int16/int32).
    pub fn as_int_scalar(&self) -> Option<i64> {
        if !self.shape.is_empty() {
            return None;
        }
        match self.dtype {
            Ct2DType::I8 => self.data.first().map(|b| *b as i8 as i64),
            Ct2DType::I16 => Some(i16::from_le_bytes(self.data.get(..2)?.try_into().ok()?) as i64),
            Ct2DType::I32 => Some(i32::from_le_bytes(self.data.get(..4)?.try_into().ok()?) as i64),
            _ => None,
        }
    }
}

/// A parsed CTranslate2 model.
#[derive(Debug)]
pub struct Ct2Model {
    /// Where it was read from (for error messages).
    pub path: PathBuf,
    /// Binary format version.
    pub binary_version: u32,
    /// Spec name, e.g. `WhisperSpec`.
    pub spec: String,
    /// Spec revision.
    pub spec_revision: u32,
    vars: HashMap<String, Ct2Variable>,
    /// Alias name -> the variable it names (not copied: a hostile file
    /// with many aliases of one large variable must not multiply it).
    aliases: HashMap<String, String>,
}

/// The fewest bytes one variable takes in the file (name length, rank,
/// type, size), so a declared count can be checked against the file.
const MIN_VARIABLE_BYTES: u64 = 2 + 1 + 1 + 4;

impl Ct2Model {
    /// Reads and validates a `model.bin`. `progress` is called with the
    /// number of bytes read so far.
    pub fn read(path: &Path, mut progress: impl FnMut(u64)) -> Result<Self, ModelError> {
        let file = std::fs::File::open(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), error: source })?;
        let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut r = Reader { inner: std::io::BufReader::with_capacity(1 << 20, file), path: path.to_path_buf(), offset: 0, file_len };
        let binary_version = r.u32("binary version")?;
        if !(5..=6).contains(&binary_version) {
            return Err(r.bad(format!("unsupported CTranslate2 binary version {binary_version} (supported: 5, 6)")));
        }
        let spec = r.string("spec name")?;
        let spec_revision = r.u32("spec revision")?;
        if spec != "WhisperSpec" {
            return Err(r.bad(format!("model spec is {spec:?}, expected \"WhisperSpec\"")));
        }
        let n_vars = r.u32("variable count")?;
        let room = r.file_len.saturating_sub(r.offset) / MIN_VARIABLE_BYTES;
        if r.file_len > 0 && u64::from(n_vars) > room {
            return Err(ModelError::Truncated {
                path: path.to_path_buf(),
                reason: format!("the header declares {n_vars} variables but the file has room for at most {room}"),
            });
        }
        let mut vars = HashMap::with_capacity((n_vars as usize).min(4096));
        for _ in 0..n_vars {
            let name = r.string("variable name")?;
            let rank = r.u8(&name)?;
            let mut shape = Vec::with_capacity(rank as usize);
            for _ in 0..rank {
                shape.push(r.u32(&name)? as usize);
            }
            let code = r.u8(&name)?;
            let dtype = Ct2DType::from_code(code).ok_or_else(|| r.bad(format!("variable {name}: unknown data type code {code}")))?;
            let n_bytes = r.u32(&name)? as usize;
            let expected = shape.iter().try_fold(dtype.size_bytes(), |acc, d| acc.checked_mul(*d));
            if expected != Some(n_bytes) {
                let needs = expected.map_or("more than this machine can address".to_string(), |e| e.to_string());
                return Err(r.bad(format!("variable {name}: {n_bytes} bytes stored, shape {shape:?} of {} needs {needs}", dtype.name())));
            }
            let data = r.bytes(n_bytes, &name)?;
            progress(r.offset);
            vars.insert(name, Ct2Variable { shape, dtype, data });
        }
        let n_aliases = r.u32("alias count")?;
        let mut aliases = HashMap::new();
        for _ in 0..n_aliases {
            let alias = r.string("alias name")?;
            let target = r.string("alias target")?;
            if vars.contains_key(&target) && !vars.contains_key(&alias) {
                aliases.insert(alias, target);
            }
        }
        Ok(Self { path: path.to_path_buf(), binary_version, spec, spec_revision, vars, aliases })
    }

    /// Builds a model from variables already in memory (tests, tools).
    pub fn from_variables(path: PathBuf, vars: HashMap<String, Ct2Variable>) -> Self {
        Self { path, binary_version: 6, spec: "WhisperSpec".into(), spec_revision: 3, vars, aliases: HashMap::new() }
    }

    /// A variable by name.
    pub fn get(&self, name: &str) -> Result<&Ct2Variable, ModelError> {
        self.vars
            .get(name)
            .or_else(|| self.aliases.get(name).and_then(|t| self.vars.get(t)))
            .ok_or_else(|| ModelError::Invalid { path: self.path.clone(), reason: format!("variable {name} is missing") })
    }

    /// True when a variable exists.
    pub fn has(&self, name: &str) -> bool {
        self.vars.contains_key(name) || self.aliases.contains_key(name)
    }

    /// Iterates over all variables.
    pub fn variables(&self) -> impl Iterator<Item = (&str, &Ct2Variable)> {
        let aliased = self.aliases.iter().filter_map(|(a, t)| self.vars.get(t).map(|v| (a.as_str(), v)));
        self.vars.iter().map(|(k, v)| (k.as_str(), v)).chain(aliased)
    }
}

struct Reader<R> {
    inner: R,
    path: PathBuf,
    offset: u64,
    file_len: u64,
}

impl<R: Read> Reader<R> {
    fn bad(&self, reason: String) -> ModelError {
        ModelError::Invalid { path: self.path.clone(), reason }
    }

    fn fill(&mut self, buf: &mut [u8], what: &str) -> Result<(), ModelError> {
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.offset += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(ModelError::Truncated {
                path: self.path.clone(),
                reason: format!("file ends at byte {} while reading {what} ({} bytes needed at offset {})", self.file_len, buf.len(), self.offset),
            }),
            Err(source) => Err(ModelError::Io { path: self.path.clone(), error: source }),
        }
    }

    fn u8(&mut self, what: &str) -> Result<u8, ModelError> {
        let mut b = [0u8; 1];
        self.fill(&mut b, what)?;
        Ok(b[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, ModelError> {
        let mut b = [0u8; 2];
        self.fill(&mut b, what)?;
        Ok(u16::from_le_bytes(b))
    }

    fn u32(&mut self, what: &str) -> Result<u32, ModelError> {
        let mut b = [0u8; 4];
        self.fill(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<Vec<u8>, ModelError> {
        let remaining = self.file_len.saturating_sub(self.offset);
        if self.file_len > 0 && n as u64 > remaining {
            return Err(ModelError::Truncated {
                path: self.path.clone(),
                reason: format!("variable {what} needs {n} bytes at offset {} but the file has only {remaining} left", self.offset),
            });
        }
        let mut v = vec![0u8; n];
        self.fill(&mut v, what)?;
        Ok(v)
    }

    fn string(&mut self, what: &str) -> Result<String, ModelError> {
        let n = self.u16(what)? as usize;
        let raw = self.bytes(n, what)?;
        let trimmed = raw.strip_suffix(&[0]).unwrap_or(&raw);
        String::from_utf8(trimmed.to_vec()).map_err(|_| self.bad(format!("{what} is not UTF-8")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_count_beyond_the_file_is_refused_before_any_allocation() {
        // Found by `scripts/fuzz.sh ct2` (an out-of-memory: a map sized by the
        // header's count, 170 GB).
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/ct2/variable_count_beyond_the_file.bin");
        let e = Ct2Model::read(&p, |_| {}).unwrap_err().to_string();
        assert!(e.contains("variable_count_beyond_the_file.bin") && e.contains("room for at most"), "{e}");
    }

    fn header(n_vars: u32) -> Vec<u8> {
        let mut b = 6u32.to_le_bytes().to_vec();
        b.extend(12u16.to_le_bytes());
        b.extend(b"WhisperSpec\0");
        b.extend(3u32.to_le_bytes());
        b.extend(n_vars.to_le_bytes());
        b
    }

    fn variable(b: &mut Vec<u8>, name: &str, shape: &[u32], data: &[u8]) {
        b.extend((name.len() as u16 + 1).to_le_bytes());
        b.extend(name.as_bytes());
        b.push(0);
        b.push(shape.len() as u8);
        for d in shape {
            b.extend(d.to_le_bytes());
        }
        b.push(0); // float32
        b.extend((data.len() as u32).to_le_bytes());
        b.extend(data);
    }

    #[test]
    fn a_shape_whose_size_overflows_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.bin");
        let mut b = header(1);
        variable(&mut b, "x", &[u32::MAX, u32::MAX, u32::MAX], &[0; 4]);
        b.extend(0u32.to_le_bytes());
        std::fs::write(&p, &b).unwrap();
        let e = Ct2Model::read(&p, |_| {}).unwrap_err().to_string();
        assert!(e.contains("more than this machine can address"), "{e}");
    }

    #[test]
    fn aliases_name_a_variable_without_copying_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.bin");
        let mut b = header(1);
        variable(&mut b, "w", &[2], &[0; 8]);
        b.extend(1000u32.to_le_bytes());
        for i in 0..1000 {
            let a = format!("a{i}");
            b.extend((a.len() as u16).to_le_bytes());
            b.extend(a.as_bytes());
            b.extend(1u16.to_le_bytes());
            b.extend(b"w");
        }
        std::fs::write(&p, &b).unwrap();
        let m = Ct2Model::read(&p, |_| {}).unwrap();
        assert_eq!(m.vars.len(), 1);
        assert_eq!(m.get("a999").unwrap().shape, vec![2]);
        assert!(m.has("a0") && !m.has("b"));
        assert_eq!(m.variables().count(), 1001);
    }
}
