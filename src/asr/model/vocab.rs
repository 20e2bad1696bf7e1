//! GPT-2 byte-level token text, as CTranslate2's `vocabulary.txt` stores it,
//! decoded back to raw bytes (what whisper.cpp expects in a ggml file).

use std::collections::HashMap;

/// Number of text tokens in the multilingual Whisper vocabulary
/// (`multilingual.tiktoken`); whisper.cpp adds the special tokens itself.
pub const N_TEXT_TOKENS: usize = 50_257;

/// The GPT-2 `bytes_to_unicode` table, inverted: printable stand-in char -> byte.
fn unicode_to_byte() -> HashMap<char, u8> {
    let mut printable: Vec<u32> = (u32::from('!')..=u32::from('~')).chain(u32::from('¡')..=u32::from('¬')).chain(u32::from('®')..=u32::from('ÿ')).collect();
    let mut chars = printable.clone();
    let mut extra = 0;
    for b in 0..256u32 {
        if !printable.contains(&b) {
            printable.push(b);
            chars.push(256 + extra);
            extra += 1;
        }
    }
    printable.into_iter().zip(chars).filter_map(|(b, c)| Some((char::from_u32(c)?, b as u8))).collect()
}

/// Decodes the first [`N_TEXT_TOKENS`] lines of a CTranslate2 vocabulary.
/// Returns the 1-based line number of the first token that is not byte-level
/// text when decoding fails.
pub fn decode_vocabulary(text: &str) -> Result<Vec<Vec<u8>>, (usize, String)> {
    let table = unicode_to_byte();
    let lines: Vec<&str> = text.split('\n').collect();
    if lines.len() < N_TEXT_TOKENS {
        return Err((lines.len(), format!("vocabulary has {} lines, needs at least {N_TEXT_TOKENS}", lines.len())));
    }
    lines[..N_TEXT_TOKENS]
        .iter()
        .enumerate()
        .map(|(i, line)| {
            line.trim_end_matches('\r')
                .chars()
                .map(|c| table.get(&c).copied())
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| (i + 1, format!("token {line:?} is not GPT-2 byte-level text")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_prefix_and_cjk_bytes_decode() {
        let table = unicode_to_byte();
        assert_eq!(table.len(), 256);
        assert_eq!(table[&'Ġ'], b' ');
        assert_eq!(table[&'Ċ'], b'\n');
        assert_eq!(table[&'a'], b'a');
    }

    #[test]
    fn short_vocabulary_is_refused() {
        let err = decode_vocabulary("a\nb\n").unwrap_err();
        assert!(err.1.contains("needs at least"));
    }
}
