//! Chinese text utilities shared by recognition and analysis: traditional to
//! simplified conversion, and a character/pinyin view of a sentence that
//! keyword matching can run on (so 消户 still matches 销户).

use std::sync::OnceLock;

use ferrous_opencc::{config::BuiltinConfig, OpenCC};
use pinyin::{ToPinyin, ToPinyinMulti};

fn opencc() -> Option<&'static OpenCC> {
    static CC: OnceLock<Option<OpenCC>> = OnceLock::new();
    CC.get_or_init(|| match OpenCC::from_config(BuiltinConfig::T2s) {
        Ok(cc) => Some(cc),
        Err(e) => {
            tracing::error!("traditional-to-simplified tables failed to load: {e}");
            None
        }
    })
    .as_ref()
}

/// Converts traditional Chinese characters to simplified.
pub fn to_simplified(text: &str) -> String {
    match opencc() {
        Some(cc) => cc.convert(text),
        None => text.to_string(),
    }
}

/// True for CJK unified ideographs.
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF)
}

/// Toneless pinyin of a character in its default reading (`None` for non-Han).
pub fn pinyin_of(c: char) -> Option<&'static str> {
    c.to_pinyin().map(|p| p.plain())
}

/// All toneless readings of a character (polyphones give several).
pub fn readings_of(c: char) -> Vec<&'static str> {
    match c.to_pinyin_multi() {
        Some(multi) => {
            let mut v: Vec<&'static str> = multi.into_iter().map(|p| p.plain()).collect();
            v.dedup();
            v
        }
        None => Vec::new(),
    }
}

/// Collapses sounds that Mandarin speakers (and Whisper) often confuse:
/// zh/z, ch/c, sh/s, n/l initials; ang/an, eng/en, ing/in finals.
pub fn fuzzy_syllable(s: &str) -> String {
    let mut out = s.to_string();
    for (from, to) in [("zh", "z"), ("ch", "c"), ("sh", "s")] {
        if let Some(rest) = out.strip_prefix(from) {
            out = format!("{to}{rest}");
            break;
        }
    }
    if let Some(rest) = out.strip_prefix('l') {
        out = format!("n{rest}");
    }
    for (from, to) in [("ang", "an"), ("eng", "en"), ("ing", "in")] {
        if let Some(stem) = out.strip_suffix(from) {
            out = format!("{stem}{to}");
            break;
        }
    }
    out
}

const INITIALS: [&str; 23] = ["zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w"];

/// Splits a toneless syllable into initial and final (`zhuang` -> `zh`, `uang`).
pub fn split_syllable(s: &str) -> (&str, &str) {
    for i in INITIALS {
        if let Some(rest) = s.strip_prefix(i) {
            if !rest.is_empty() {
                return (i, rest);
            }
        }
    }
    ("", s)
}

/// Two syllables that sound alike enough for a misheard keyword: the same
/// initial (after [`fuzzy_syllable`] folding) and finals that start alike
/// (hu/huo, ji/jin, hu/hui).
pub fn near_syllable(a: &str, b: &str) -> bool {
    let (fa, fb) = (fuzzy_syllable(a), fuzzy_syllable(b));
    if fa == fb {
        return true;
    }
    let ((ia, ra), (ib, rb)) = (split_syllable(&fa), split_syllable(&fb));
    ia == ib && !ia.is_empty() && ra.chars().next() == rb.chars().next()
}

/// Maps full-width ASCII and digits to half-width, 您 to 你, and Chinese
/// numerals written by Whisper as digits stay digits.
fn fold_char(c: char) -> char {
    match c {
        '您' => '你',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c).to_ascii_lowercase(),
        '\u{3000}' => ' ',
        _ => c.to_ascii_lowercase(),
    }
}

/// Sentence punctuation that separates clauses.
pub fn is_clause_break(c: char) -> bool {
    matches!(c, '，' | '。' | '！' | '？' | '；' | ',' | '.' | '!' | '?' | ';' | '…' | '\n' | '、' | ':' | '：')
}

/// Punctuation a clause is trimmed of before it is read or compared with a
/// label (ASCII and the full-width marks a recogniser writes).
pub fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || "，。！？、；：".contains(c)
}

/// A normalised sentence: simplified, 您 folded to 你, punctuation kept as
/// clause breaks; each character with its readings.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The characters after folding.
    pub chars: Vec<char>,
    /// Toneless readings per character (empty for non-Han).
    pub readings: Vec<Vec<&'static str>>,
    /// Clause index of each character.
    pub clause: Vec<usize>,
}

impl Normalized {
    /// Normalises `text`.
    pub fn new(text: &str) -> Self {
        let simplified = to_simplified(text);
        let mut chars = Vec::with_capacity(simplified.len());
        let mut clause = Vec::with_capacity(simplified.len());
        let mut k = 0;
        for c in simplified.chars() {
            let c = fold_char(c);
            if c.is_whitespace() {
                continue;
            }
            if is_clause_break(c) {
                chars.push(c);
                clause.push(k);
                k += 1;
                continue;
            }
            chars.push(c);
            clause.push(k);
        }
        let readings: Vec<Vec<&'static str>> = chars.iter().map(|c| readings_of(*c)).collect();
        Self { chars, readings, clause }
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The text between two character positions.
    pub fn slice(&self, from: usize, to: usize) -> String {
        self.chars[from.min(self.len())..to.min(self.len())].iter().collect()
    }

    /// The text cut into pieces of at most `max` characters, at the end of
    /// a clause where one ends within the piece (a run without punctuation
    /// is cut where it must); each piece is normalised as its own text.
    pub fn pieces(&self, max: usize) -> Vec<Normalized> {
        let max = max.max(1);
        let mut out = Vec::new();
        let mut start = 0;
        while start < self.len() {
            let hard_end = (start + max).min(self.len());
            let end = if hard_end == self.len() {
                hard_end
            } else {
                // The last clause break inside the window, if any.
                (start + 1..hard_end).rev().find(|&i| self.clause[i] != self.clause[i - 1]).unwrap_or(hard_end)
            };
            let clause0 = self.clause[start];
            out.push(Normalized {
                chars: self.chars[start..end].to_vec(),
                readings: self.readings[start..end].to_vec(),
                clause: self.clause[start..end].iter().map(|c| c - clause0).collect(),
            });
            start = end;
        }
        out
    }

    /// The text cut at every clause break, each clause normalised as its
    /// own text.
    pub fn clauses(&self) -> Vec<Normalized> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=self.len() {
            if i == self.len() || self.clause[i] != self.clause[i - 1] {
                let clause0 = self.clause[start];
                out.push(Normalized {
                    chars: self.chars[start..i].to_vec(),
                    readings: self.readings[start..i].to_vec(),
                    clause: self.clause[start..i].iter().map(|c| c - clause0).collect(),
                });
                start = i;
            }
        }
        out
    }

    /// Number of Han characters (for speaking rate).
    pub fn han_count(&self) -> usize {
        self.chars.iter().filter(|c| is_han(**c)).count()
    }
}

/// Counts spoken units: Han characters plus ASCII words and digit groups
/// (a digit group is read as roughly one character per digit).
pub fn spoken_units(text: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in text.chars() {
        if is_han(c) || c.is_ascii_digit() {
            n += 1;
            in_word = false;
        } else if c.is_alphabetic() {
            if !in_word {
                n += 1;
            }
            in_word = true;
        } else {
            in_word = false;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_text_folds_nin_and_width() {
        let n = Normalized::new("您好，ＡＢ 銷戶");
        assert_eq!(n.chars.iter().collect::<String>(), "你好,ab销户");
        assert_eq!(n.clause, vec![0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(n.readings[5], vec!["xiao"]);
    }

    #[test]
    fn clauses_cut_at_breaks_and_each_starts_at_zero() {
        let n = Normalized::new("您好，我要销户。好吗");
        let parts: Vec<String> = n.clauses().iter().map(|c| c.chars.iter().collect()).collect();
        assert_eq!(parts, vec!["你好,", "我要销户。", "好吗"]);
        assert!(n.clauses().iter().all(|c| c.clause.iter().all(|k| *k == 0)));
        assert_eq!(n.clauses()[1].readings[2], vec!["xiao"]);
        assert!(Normalized::new("").clauses().is_empty());
    }

    #[test]
    fn fuzzy_syllables_merge_common_confusions() {
        assert_eq!(fuzzy_syllable("zhuan"), "zuan");
        assert_eq!(fuzzy_syllable("liang"), "nian");
        assert_eq!(fuzzy_syllable("xing"), "xin");
        assert_eq!(fuzzy_syllable("hu"), "hu");
    }

    #[test]
    fn near_syllables_share_initial_and_start_of_final() {
        assert!(near_syllable("hu", "huo"));
        assert!(near_syllable("ji", "jin"));
        assert!(near_syllable("wang", "wan"));
        assert!(!near_syllable("hu", "fei"));
        assert!(!near_syllable("hu", "ku"));
    }

    #[test]
    fn spoken_units_count_han_words_and_digits() {
        assert_eq!(spoken_units("我要销户"), 4);
        assert_eq!(spoken_units("打10086, OK"), 7);
    }
}
