//! Cleaning Whisper's output before anything downstream sees it: traditional
//! to simplified characters, known hallucinations (subtitle credits, the
//! initial prompt echoed back), and repetition loops.

/// Phrases Whisper produces from silence or noise because they close so many
/// subtitled videos in its training data. Compared after normalisation
/// (punctuation and spaces removed, ASCII lower-cased, simplified).
pub const KNOWN_HALLUCINATIONS: &[&str] = &[
    "字幕由amara.org社群提供",
    "字幕由amara.org社区提供",
    "由amara.org社区提供的字幕",
    "subtitlesbytheamara.orgcommunity",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "明镜与点点栏目",
    "请不吝点赞",
    "点赞订阅转发打赏",
    "请点赞订阅",
    "欢迎订阅",
    "订阅我的频道",
    "优优独播剧场",
    "yoyotelevisionseriesexclusive",
    "中文字幕志愿者",
    "字幕志愿者",
    "小编字幕",
    "字幕制作",
    "字幕by",
    "谢谢观看",
    "感谢观看",
    "thankyouforwatching",
    "thanksforwatching",
    "pleasesubscribe",
];

/// What [`clean`] removed, for the event's `dropped` list and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    /// A known hallucination phrase.
    Hallucination(String),
    /// The initial prompt echoed back.
    PromptEcho,
    /// A phrase repeated in a loop; the number of extra copies cut.
    Repetition(usize),
    /// Whisper itself was unsure of every token (average log-probability
    /// below the threshold): typical of noise, beeps and music.
    LowConfidence,
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hallucination(p) => write!(f, "hallucination:{p}"),
            Self::PromptEcho => write!(f, "prompt_echo"),
            Self::Repetition(n) => write!(f, "repetition:{n}"),
            Self::LowConfidence => write!(f, "low_confidence"),
        }
    }
}

pub use crate::text::to_simplified;

/// Lower-cased, simplified, without punctuation or whitespace: the form used
/// for comparing phrases.
pub fn normalize_for_match(text: &str) -> String {
    to_simplified(text).chars().filter(|c| c.is_alphanumeric() || *c == '.').flat_map(char::to_lowercase).collect()
}

/// Longest repeated unit looked for, in letters.
const MAX_UNIT_CHARS: usize = 64;

/// How many letters two copies of a clause may differ in and still count
/// as the same clause said twice (Whisper doubling a sentence often
/// mishears one character of the copy).
fn clause_tolerance(unit: usize) -> usize {
    if unit >= 6 {
        (unit / 8).max(1)
    } else {
        0
    }
}

/// Collapses a unit of 1..=64 letters repeated consecutively more than
/// `max_repeats` times down to `max_repeats` copies. Letters and digits
/// are compared, punctuation and spaces between the copies are ignored
/// (Whisper's doubled sentence often differs only in its commas). Returns
/// the new text and the number of copies removed.
pub fn cut_repetitions(text: &str, max_repeats: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    // The letters and where each sits in `chars`.
    let letters: Vec<(char, usize)> = chars.iter().enumerate().filter(|(_, c)| c.is_alphanumeric()).map(|(i, c)| (*c, i)).collect();
    let same = |a: usize, b: usize, unit: usize| -> bool {
        let tolerance = clause_tolerance(unit);
        let mut diff = 0;
        for k in 0..unit {
            if letters[a + k].0 != letters[b + k].0 {
                diff += 1;
                if diff > tolerance {
                    return false;
                }
            }
        }
        // The first and last letters must agree: a copy, not a neighbour.
        letters[a].0 == letters[b].0 && letters[a + unit - 1].0 == letters[b + unit - 1].0
    };
    let mut remove = vec![false; chars.len()];
    let mut removed = 0;
    let mut i = 0;
    'outer: while i < letters.len() {
        for unit in 1..=MAX_UNIT_CHARS.min((letters.len() - i) / 2) {
            let mut reps = 1;
            while i + (reps + 1) * unit <= letters.len() && same(i, i + reps * unit, unit) {
                reps += 1;
            }
            // Single characters repeat legitimately (哈哈哈, 好好好): allow
            // more; a whole clause said twice in a row (5+ characters) is
            // Whisper doubling it far more often than a speaker doing so.
            let limit = match unit {
                1 => max_repeats + 2,
                2..=4 => max_repeats,
                _ => 1,
            };
            if reps > limit {
                // From just after the last kept copy to the end of the last copy.
                let from = letters[i + limit * unit - 1].1 + 1;
                let to = letters[i + reps * unit - 1].1;
                for r in &mut remove[from..=to] {
                    *r = true;
                }
                removed += reps - limit;
                i += reps * unit;
                continue 'outer;
            }
        }
        i += 1;
    }
    let out: String = chars.iter().zip(&remove).filter(|(_, r)| !**r).map(|(c, _)| *c).collect();
    (out, removed)
}

/// Cleans one decoded segment. Returns the text to keep (possibly empty) and
/// what was removed.
pub fn clean(text: &str, initial_prompt: &str) -> (String, Vec<Dropped>) {
    let mut dropped = Vec::new();
    // U+FFFD marks a character split across tokens (a broken decode).
    let mut kept = to_simplified(text.trim()).replace('\u{FFFD}', "");

    let prompt_norm = normalize_for_match(initial_prompt);
    if !prompt_norm.is_empty() {
        let norm = normalize_for_match(&kept);
        if !norm.is_empty() && (prompt_norm.contains(&norm) || is_near(&norm, &prompt_norm)) {
            return (String::new(), vec![Dropped::PromptEcho]);
        }
        if norm.contains(&prompt_norm) {
            // Remove the echoed prompt but keep the speech around it.
            kept = remove_normalized(&kept, initial_prompt);
            dropped.push(Dropped::PromptEcho);
        }
    }

    for phrase in KNOWN_HALLUCINATIONS {
        let norm = normalize_for_match(&kept);
        if norm.contains(phrase) {
            dropped.push(Dropped::Hallucination((*phrase).to_string()));
            if norm.len() <= phrase.len() + 6 {
                return (String::new(), dropped);
            }
            kept = remove_normalized(&kept, phrase);
        }
    }

    let (text, n) = cut_repetitions(&kept, 2);
    if n > 0 {
        dropped.push(Dropped::Repetition(n));
    }
    let text = text.trim().to_string();
    if !text.chars().any(char::is_alphanumeric) {
        return (String::new(), dropped);
    }
    // One syllable over and over (诶诶诶诶, 嗯嗯嗯) after a loop was cut is
    // what Whisper makes of beeps and tones, not speech.
    let mut distinct: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
    // 好好好, 对对对, 行行行 are answers, not noise.
    let answer = distinct.first().is_some_and(|c| "好对行是".contains(*c));
    if distinct.len() <= 1 && !answer && (n > 0 || letters >= 3) {
        if n == 0 {
            dropped.push(Dropped::Repetition(0));
        }
        return (String::new(), dropped);
    }
    (text, dropped)
}

/// Edit distance between two strings, in characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// True when `text` is the prompt, or a stretch of it, with a few
/// recognition errors (at most a third of its characters differ), e.g.
/// 这位是普通话的句子 for 以下是普通话的句子, or 关于销户携号转网 echoed
/// from a prompt that lists domain words.
fn is_near(text: &str, prompt: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = prompt.chars().collect();
    if t.len() < 4 {
        return false;
    }
    if levenshtein(text, prompt) * 3 <= p.len() {
        return true;
    }
    if t.len() > p.len() {
        return false;
    }
    (0..=p.len() - t.len()).any(|i| {
        let window: String = p[i..i + t.len()].iter().collect();
        levenshtein(text, &window) * 3 <= t.len()
    })
}

/// Removes `needle` from `text`, comparing in normalised form but keeping the
/// rest of `text` as it was written.
fn remove_normalized(text: &str, needle: &str) -> String {
    let needle = normalize_for_match(needle);
    let chars: Vec<char> = text.chars().collect();
    // Map each kept (normalised) character back to its index in `chars`.
    let mut norm = String::new();
    let mut index_of = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        let s = normalize_for_match(&c.to_string());
        for nc in s.chars() {
            norm.push(nc);
            index_of.push(i);
        }
    }
    let norm_chars: Vec<char> = norm.chars().collect();
    let needle_chars: Vec<char> = needle.chars().collect();
    if needle_chars.is_empty() {
        return text.to_string();
    }
    let mut remove = vec![false; chars.len()];
    let mut i = 0;
    while i + needle_chars.len() <= norm_chars.len() {
        if norm_chars[i..i + needle_chars.len()] == needle_chars[..] {
            let (a, b) = (index_of[i], index_of[i + needle_chars.len() - 1]);
            for r in remove.iter_mut().take(b + 1).skip(a) {
                *r = true;
            }
            i += needle_chars.len();
        } else {
            i += 1;
        }
    }
    chars
        .iter()
        .zip(remove)
        .filter(|(_, r)| !r)
        .map(|(c, _)| *c)
        .collect::<String>()
        .trim_matches(|c: char| c.is_whitespace() || "，。,.!！?？、".contains(c))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_becomes_simplified() {
        assert_eq!(to_simplified("我要銷戶，攜號轉網"), "我要销户，携号转网");
    }

    #[test]
    fn subtitle_credits_are_dropped() {
        let (t, d) = clean("字幕由Amara.org社群提供", "以下是普通话的句子。");
        assert_eq!(t, "");
        assert!(matches!(d[0], Dropped::Hallucination(_)));
        let (t, _) = clean("請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目", "");
        assert_eq!(t, "");
    }

    #[test]
    fn prompt_echo_is_dropped_and_real_speech_kept() {
        let p = "以下是普通话的句子。";
        assert_eq!(clean("以下是普通話的句子", p).0, "");
        assert_eq!(clean("以下是普通话的句子。我要销户", p).0, "我要销户");
        assert_eq!(clean("我要销户", p).0, "我要销户");
    }

    #[test]
    fn repetition_loops_are_cut_but_normal_repeats_stay() {
        let (t, n) = cut_repetitions("我要销户我要销户我要销户我要销户我要销户", 2);
        assert_eq!(t, "我要销户我要销户");
        assert_eq!(n, 3);
        assert_eq!(cut_repetitions("那就要流量包。那就要流量包。", 2).0, "那就要流量包。");
        assert_eq!(cut_repetitions("好好好,可以", 2).0, "好好好,可以");
        assert_eq!(cut_repetitions("谢谢谢谢", 2).0, "谢谢谢谢");
    }

    #[test]
    fn a_sentence_said_twice_in_one_segment_is_kept_once() {
        // Seen: a 4-second agent turn transcribed as its sentence twice,
        // the copies differing in punctuation and one misheard character.
        let (t, n) = cut_repetitions("好的,我再跟您确认一下。好的,我再跟您确认一下", 2);
        assert_eq!((t.as_str(), n), ("好的,我再跟您确认一下", 1));
        let (t, n) = cut_repetitions("非常抱歉给您带来不便,非常抱歉给你带来不便。", 2);
        assert_eq!((t.as_str(), n), ("非常抱歉给您带来不便。", 1));
        // Different sentences that share words stay.
        let two = "我要销户,我要转网";
        assert_eq!(cut_repetitions(two, 2).0, two);
        let two = "您看是今天开通,还是明天开通";
        assert_eq!(cut_repetitions(two, 2).0, two);
    }

    #[test]
    fn misheard_prompt_echo_is_dropped() {
        let p = "以下是普通话的句子。";
        assert_eq!(clean("这位是普通话的句子。", p).0, "");
        assert_eq!(clean("我是普通客户", p).0, "我是普通客户");
        let domain = "以下是普通话的句子，关于销户、携号转网、套餐、流量、宽带、话费和投诉。";
        assert_eq!(clean("关于销户携号转网套餐", domain).0, "");
        assert_eq!(clean("我要销户", domain).0, "我要销户");
    }

    #[test]
    fn a_looped_single_syllable_is_dropped() {
        assert_eq!(clean("诶诶诶诶诶诶诶诶诶诶诶诶诶诶", "").0, "");
        assert_eq!(clean("好好好", "").0, "好好好");
        assert_eq!(clean("嗯嗯嗯嗯", "").0, "");
        assert_eq!(clean("鸿鸿鸿\u{FFFD}", "").0, "");
        assert_eq!(clean("好好好，可以", "").0, "好好好，可以");
    }

    #[test]
    fn punctuation_only_is_nothing() {
        assert_eq!(clean("。。。", "").0, "");
        assert_eq!(clean(" ... ", "").0, "");
    }
}
