//! Scoring recognised text against a reference: character error rate with
//! punctuation and case ignored and numbers written either way compared as
//! the same (十二 = 12, 一零八六 = 1086, 二十九元 = 29元).

/// Edit distance and reference length of one comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CerCounts {
    /// Substitutions, insertions and deletions.
    pub errors: usize,
    /// Characters in the reference (after folding).
    pub ref_chars: usize,
}

impl CerCounts {
    /// Adds another comparison (a corpus CER is total errors over total
    /// reference characters, not a mean of per-line rates).
    pub fn add(&mut self, other: CerCounts) {
        self.errors += other.errors;
        self.ref_chars += other.ref_chars;
    }

    /// The rate; 0 for an empty reference with nothing recognised.
    pub fn rate(&self) -> f64 {
        if self.ref_chars == 0 {
            return if self.errors == 0 { 0.0 } else { 1.0 };
        }
        self.errors as f64 / self.ref_chars as f64
    }
}

/// Compares `hypothesis` with `reference`.
pub fn cer(reference: &str, hypothesis: &str) -> CerCounts {
    let (a, b) = (fold(reference), fold(hypothesis));
    CerCounts { errors: edit_distance(&a, &b), ref_chars: a.len() }
}

/// The characters scored: letters and digits, lower case, full-width digits
/// and letters made ASCII, Chinese numerals written as digits.
pub fn fold(text: &str) -> Vec<char> {
    let kept: String = text.chars().filter_map(fold_char).collect();
    fold_numerals(&kept).chars().collect()
}

fn fold_char(c: char) -> Option<char> {
    let c = match c {
        '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => char::from_u32(c as u32 - 0xFEE0)?,
        '〇' => '零',
        c => c,
    };
    c.is_alphanumeric().then(|| c.to_lowercase().next().unwrap_or(c))
}

fn digit_of(c: char) -> Option<u64> {
    Some(match c {
        '零' => 0,
        '一' | '幺' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn unit_of(c: char) -> Option<u64> {
    Some(match c {
        '十' => 10,
        '百' => 100,
        '千' => 1_000,
        '万' => 10_000,
        '亿' => 100_000_000,
        _ => return None,
    })
}

/// Rewrites every run of Chinese numerals as digits: runs with a unit
/// (十, 百, 千, 万, 亿) as their value (三百二十 -> 320), runs without one
/// digit by digit (一零八六 -> 1086, as numbers are read out).
pub fn fold_numerals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let is_num = |c: char| digit_of(c).is_some() || unit_of(c).is_some();
        if !is_num(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_num(chars[i]) {
            i += 1;
        }
        let run = &chars[start..i];
        if run.iter().any(|&c| unit_of(c).is_some()) {
            out.push_str(&value_of(run).to_string());
        } else {
            out.extend(run.iter().filter_map(|&c| digit_of(c)).map(|d| char::from(b'0' + d as u8)));
        }
    }
    out
}

/// The value of a numeral run with units (一万二千 -> 12000, 十五 -> 15).
fn value_of(run: &[char]) -> u64 {
    let (mut total, mut section, mut number) = (0u64, 0u64, 0u64);
    for &c in run {
        if let Some(d) = digit_of(c) {
            number = d;
        } else if let Some(u) = unit_of(c) {
            if u >= 10_000 {
                total = total.saturating_add(section.saturating_add(number).max(1).saturating_mul(u));
                section = 0;
            } else {
                section = section.saturating_add(number.max(1).saturating_mul(u));
            }
            number = 0;
        }
    }
    total.saturating_add(section).saturating_add(number)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerals_fold_to_digits() {
        assert_eq!(fold_numerals("十二"), "12");
        assert_eq!(fold_numerals("工号一零八六"), "工号1086");
        assert_eq!(fold_numerals("二十九元"), "29元");
        assert_eq!(fold_numerals("一百二十八块"), "128块");
        assert_eq!(fold_numerals("三百零五"), "305");
        assert_eq!(fold_numerals("一万二千"), "12000");
        assert_eq!(fold_numerals("两年"), "2年");
        assert_eq!(fold_numerals("三月十五号"), "3月15号");
        assert_eq!(fold_numerals("没有数字"), "没有数字");
    }

    #[test]
    fn digits_and_numerals_score_the_same() {
        assert_eq!(cer("每月二十九元，工号三七二一。", "每月29元 工号3721").errors, 0);
        assert_eq!(cer("打八折", "打８折").errors, 0);
        assert_eq!(cer("流量五十GB", "流量50gb").errors, 0);
    }

    #[test]
    fn errors_are_counted_against_the_reference() {
        let c = cer("我要销户", "我要消户了");
        assert_eq!(c, CerCounts { errors: 2, ref_chars: 4 });
        assert!((c.rate() - 0.5).abs() < 1e-9);
        assert_eq!(cer("", "").rate(), 0.0);
        assert_eq!(cer("", "多余").rate(), 1.0);
        let mut total = CerCounts::default();
        total.add(cer("一二三四", "一二三四"));
        total.add(cer("你好", "你"));
        assert_eq!(total, CerCounts { errors: 1, ref_chars: 6 });
    }
}
