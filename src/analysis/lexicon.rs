//! Lexicons: the word lists a trainer edits (`prompts/zh-CN/lexicon/*.toml`),
//! their validation with file:line errors, and matching on characters,
//! toneless pinyin and fuzzy pinyin.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::text::{is_han, near_syllable, pinyin_of, Normalized};

/// A lexicon file that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct LexiconError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// How a term may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// The exact characters only.
    Chars,
    /// Same toneless pinyin (homophones), e.g. 消户 for 销户.
    Pinyin,
    /// Also common sound confusions (zh/z, n/l, an/ang ...).
    Fuzzy,
}

/// How a hit was made; worse matches count for less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    /// Same characters.
    Exact,
    /// Same sound.
    Pinyin,
    /// Similar sound.
    Fuzzy,
}

impl MatchKind {
    /// Weight multiplier for the kind of match.
    pub fn factor(self) -> f32 {
        match self {
            Self::Exact => 1.0,
            Self::Pinyin => 0.9,
            Self::Fuzzy => 0.75,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    group: Vec<GroupDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupDoc {
    name: toml::Spanned<String>,
    #[serde(default = "one")]
    weight: toml::Spanned<f32>,
    #[serde(default, rename = "match")]
    mode: Option<MatchMode>,
    #[serde(default)]
    terms: Vec<toml::Spanned<String>>,
    #[serde(default)]
    patterns: Vec<toml::Spanned<String>>,
}

fn one() -> toml::Spanned<f32> {
    toml::Spanned::new(0..0, 1.0)
}

/// One term, compiled.
#[derive(Debug, Clone)]
pub struct Term {
    /// As written (after 您 -> 你 folding).
    pub text: String,
    chars: Vec<char>,
    syllables: Vec<Option<&'static str>>,
    mode: MatchMode,
    /// Index of its group.
    pub group: usize,
}

/// A named group of terms with a weight.
#[derive(Debug, Clone)]
pub struct Group {
    /// Group name (its role: `action`, `negation`, `network` ...).
    pub name: String,
    /// Weight 0..1 (meaning depends on the group).
    pub weight: f32,
}

/// A match of a term in a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Group name.
    pub group: String,
    /// The lexicon term.
    pub term: String,
    /// What the text actually said there.
    pub heard: String,
    /// Group weight times the match-kind factor.
    pub weight: f32,
    /// First character index.
    pub start: usize,
    /// One past the last character index.
    pub end: usize,
    /// How it matched.
    pub kind: MatchKind,
}

impl Hit {
    /// A short explanation, e.g. `network:信号` or `churn:销户~消户`.
    pub fn explain(&self) -> String {
        if self.heard == self.term {
            format!("{}:{}", self.group, self.term)
        } else {
            format!("{}:{}~{}", self.group, self.term, self.heard)
        }
    }
}

/// A compiled lexicon file.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    /// Where it came from (for messages).
    pub source: PathBuf,
    groups: Vec<Group>,
    terms: Vec<Term>,
    by_char: FxHashMap<char, Vec<usize>>,
    by_syllable: FxHashMap<&'static str, Vec<usize>>,
    patterns: Vec<(regex::Regex, usize)>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Lexicon {
    /// Parses and validates a lexicon; `allowed` lists the group names this
    /// file may use.
    pub fn parse(text: &str, path: &Path, allowed: &[&str]) -> Result<Self, LexiconError> {
        let err = |line: usize, message: String| LexiconError { path: path.to_path_buf(), line, message };
        let doc: FileDoc = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            err(line, e.message().trim().to_string())
        })?;
        if doc.group.is_empty() {
            return Err(err(1, "no [[group]] tables".into()));
        }
        let mut lex = Lexicon { source: path.to_path_buf(), ..Default::default() };
        let mut seen: HashMap<(usize, String), usize> = HashMap::new();
        for g in doc.group {
            let name_line = line_of(text, g.name.span().start);
            let name = g.name.into_inner();
            if !allowed.contains(&name.as_str()) {
                return Err(err(name_line, format!("unknown group name {name:?}; this file takes: {}", allowed.join(", "))));
            }
            let w_line = line_of(text, g.weight.span().start);
            let weight = g.weight.into_inner();
            if !(0.0..=1.0).contains(&weight) || !weight.is_finite() {
                return Err(err(w_line, format!("weight {weight} of group {name:?} is outside 0..1")));
            }
            if g.terms.is_empty() && g.patterns.is_empty() {
                return Err(err(name_line, format!("group {name:?} has no terms or patterns")));
            }
            let gi = lex.groups.len();
            lex.groups.push(Group { name: name.clone(), weight });
            for p in g.patterns {
                let line = line_of(text, p.span().start);
                let src = p.into_inner();
                if src.trim().is_empty() {
                    return Err(err(line, format!("empty pattern in group {name:?}")));
                }
                // Patterns see the folded text: 您 -> 你, full-width punctuation -> ASCII.
                let folded: String = src.replace('您', "你");
                let re = regex::Regex::new(&folded).map_err(|e| err(line, format!("pattern {src:?} is not a valid regular expression: {e}")))?;
                if re.is_match("") {
                    return Err(err(line, format!("pattern {src:?} matches empty text")));
                }
                lex.patterns.push((re, gi));
            }
            for t in g.terms {
                let line = line_of(text, t.span().start);
                let raw = t.into_inner();
                let folded = Normalized::new(raw.trim());
                let term_text: String = folded.chars.iter().collect();
                if term_text.is_empty() {
                    return Err(err(line, format!("empty term in group {name:?}")));
                }
                if term_text.chars().any(crate::text::is_clause_break) && !matches!(term_text.as_str(), "!" | "！") {
                    return Err(err(line, format!("term {raw:?} contains punctuation; split it into separate terms")));
                }
                if let Some(prev) = seen.insert((gi, term_text.clone()), line) {
                    return Err(err(line, format!("term {raw:?} is already listed in group {name:?} (line {prev})")));
                }
                let chars: Vec<char> = folded.chars.clone();
                let mode = match g.mode {
                    _ if chars.len() < 2 => MatchMode::Chars,
                    Some(m) => m,
                    None => MatchMode::Chars,
                };
                let syllables: Vec<Option<&'static str>> = chars.iter().map(|c| pinyin_of(*c)).collect();
                lex.terms.push(Term { text: term_text, chars, syllables, mode, group: gi });
            }
        }
        lex.index();
        Ok(lex)
    }

    /// Reads and parses a file.
    pub fn load(path: &Path, allowed: &[&str]) -> Result<Self, LexiconError> {
        let text = std::fs::read_to_string(path).map_err(|e| LexiconError { path: path.to_path_buf(), line: 0, message: e.to_string() })?;
        Self::parse(&text, path, allowed)
    }

    fn index(&mut self) {
        for (i, t) in self.terms.iter().enumerate() {
            self.by_char.entry(t.chars[0]).or_default().push(i);
            if t.mode >= MatchMode::Pinyin {
                if let Some(s) = t.syllables[0] {
                    self.by_syllable.entry(s).or_default().push(i);
                }
            }
        }
    }

    /// Group names present.
    pub fn group_names(&self) -> HashSet<&str> {
        self.groups.iter().map(|g| g.name.as_str()).collect()
    }

    /// Number of terms.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    fn match_at(&self, t: &Term, text: &Normalized, at: usize) -> Option<MatchKind> {
        if at + t.chars.len() > text.len() {
            return None;
        }
        let mut worst = MatchKind::Exact;
        let mut fuzzy_chars = 0;
        for (k, tc) in t.chars.iter().enumerate() {
            let i = at + k;
            let c = text.chars[i];
            if c == *tc {
                continue;
            }
            if !is_han(c) || !is_han(*tc) {
                return None;
            }
            let syl = t.syllables[k]?;
            if t.mode >= MatchMode::Pinyin && text.readings[i].contains(&syl) {
                worst = worst.max(MatchKind::Pinyin);
                continue;
            }
            // Near sounds only after the first syllable: 消货 for 销户, not 信号 for 销号.
            if t.mode == MatchMode::Fuzzy && k > 0 && text.readings[i].iter().any(|r| near_syllable(syl, r)) {
                worst = worst.max(MatchKind::Fuzzy);
                fuzzy_chars += 1;
                continue;
            }
            return None;
        }
        // A fuzzy match needs at least one character heard right or by its exact sound.
        if fuzzy_chars == t.chars.len() {
            return None;
        }
        Some(worst)
    }

    /// All hits in `text`. Within a group, a hit inside a longer hit of the
    /// same group is dropped (转网 inside 携号转网).
    pub fn find(&self, text: &Normalized) -> Vec<Hit> {
        let mut hits: Vec<Hit> = Vec::new();
        let mut cands: Vec<usize> = Vec::new();
        for at in 0..text.len() {
            cands.clear();
            if let Some(v) = self.by_char.get(&text.chars[at]) {
                cands.extend_from_slice(v);
            }
            for r in &text.readings[at] {
                if let Some(v) = self.by_syllable.get(r) {
                    cands.extend_from_slice(v);
                }
            }
            cands.sort_unstable();
            cands.dedup();
            for &ti in &cands {
                let t = &self.terms[ti];
                if let Some(kind) = self.match_at(t, text, at) {
                    let g = &self.groups[t.group];
                    hits.push(Hit {
                        group: g.name.clone(),
                        term: t.text.clone(),
                        heard: text.slice(at, at + t.chars.len()),
                        weight: g.weight * kind.factor(),
                        start: at,
                        end: at + t.chars.len(),
                        kind,
                    });
                }
            }
        }
        if !self.patterns.is_empty() {
            let s: String = text.chars.iter().collect();
            let char_at = |byte: usize| s[..byte].chars().count();
            for (re, gi) in &self.patterns {
                for m in re.find_iter(&s) {
                    let (start, end) = (char_at(m.start()), char_at(m.end()));
                    let g = &self.groups[*gi];
                    hits.push(Hit {
                        group: g.name.clone(),
                        term: m.as_str().to_string(),
                        heard: m.as_str().to_string(),
                        weight: g.weight,
                        start,
                        end,
                        kind: MatchKind::Exact,
                    });
                }
            }
        }
        let keep: Vec<bool> = hits
            .iter()
            .map(|h| !hits.iter().any(|o| o.group == h.group && o.start <= h.start && o.end >= h.end && (o.end - o.start) > (h.end - h.start)))
            .collect();
        let mut out: Vec<Hit> = hits.into_iter().zip(keep).filter(|(_, k)| *k).map(|(h, _)| h).collect();
        // Same span and group from several terms (pinyin duplicates): keep the best.
        out.sort_by(|a, b| (a.start, a.end, &a.group).cmp(&(b.start, b.end, &b.group)).then(b.weight.total_cmp(&a.weight)));
        out.dedup_by(|b, a| a.start == b.start && a.end == b.end && a.group == b.group);
        out
    }
}

/// Very common two-character words. A sound-alike (non-exact) hit that cuts
/// across one of them is a coincidence of syllables, not a misheard word:
/// 家里网络 holds li-wang (离网) across 家里 and 网络.
const COMMON_WORDS: &[&str] = &[
    "网络",
    "家里",
    "知道",
    "什么",
    "时候",
    "我们",
    "你们",
    "他们",
    "现在",
    "已经",
    "这个",
    "那个",
    "没有",
    "可以",
    "因为",
    "所以",
    "还是",
    "就是",
    "不是",
    "一下",
    "一个",
    "怎么",
    "为什么",
    "这样",
    "那样",
    "以后",
    "以前",
    "自己",
    "问题",
    "电话",
    "手机",
    "号码",
    "今天",
    "明天",
    "昨天",
    "时间",
    "东西",
    "地方",
    "有点",
    "一直",
    "还有",
    "然后",
    "但是",
    "如果",
    "觉得",
    "需要",
    "应该",
    "可能",
    "真的",
    "其实",
    "比较",
    "而且",
];

/// Drops sound-alike hits that cut across an exact word: either an exact hit
/// of any lexicon or one of [`COMMON_WORDS`]. Exact hits are never dropped.
pub fn drop_cross_word_guesses(text: &Normalized, lists: &mut [&mut Vec<Hit>]) {
    // Most turns have no sound-alike hit: nothing to drop, nothing to look for.
    if lists.iter().all(|list| list.iter().all(|h| h.kind == MatchKind::Exact)) {
        return;
    }
    let mut anchors: Vec<(usize, usize)> = Vec::new();
    for list in lists.iter() {
        anchors.extend(list.iter().filter(|h| h.kind == MatchKind::Exact && h.end - h.start >= 2).map(|h| (h.start, h.end)));
    }
    // One pass over the text: at each character, only the words it starts.
    for (i, c) in text.chars.iter().enumerate() {
        for w in COMMON_WORD_CHARS.iter().filter(|w| w.first() == Some(c)) {
            if text.chars[i..].starts_with(w) {
                anchors.push((i, i + w.len()));
            }
        }
    }
    let crosses = |h: &Hit| {
        anchors.iter().any(|&(a, b)| {
            let overlap = a < h.end && h.start < b;
            let inside = a >= h.start && b <= h.end;
            let covers = a <= h.start && b >= h.end;
            overlap && !inside && !covers
        })
    };
    for list in lists.iter_mut() {
        list.retain(|h| h.kind == MatchKind::Exact || !crosses(h));
    }
}

/// [`COMMON_WORDS`] as characters, split once.
static COMMON_WORD_CHARS: LazyLock<Vec<Vec<char>>> = LazyLock::new(|| COMMON_WORDS.iter().map(|w| w.chars().collect()).collect());

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: &[&str] = &["action", "negation"];

    fn lex(text: &str) -> Lexicon {
        Lexicon::parse(text, Path::new("t.toml"), ALLOWED).unwrap()
    }

    #[test]
    fn homophones_match_on_pinyin_and_say_so() {
        let l = lex("[[group]]\nname = \"action\"\nweight = 0.9\nmatch = \"pinyin\"\nterms = [\"销户\", \"携号转网\"]\n");
        let hits = l.find(&Normalized::new("我要消户，鞋号转网也行"));
        let explained: Vec<String> = hits.iter().map(Hit::explain).collect();
        assert_eq!(explained, vec!["action:销户~消户", "action:携号转网~鞋号转网"]);
        assert!((hits[0].weight - 0.81).abs() < 1e-6);
    }

    #[test]
    fn patterns_match_on_folded_text() {
        let l = lex("[[group]]\nname = \"action\"\npatterns = [\"你(自己)?没(看|听)清楚\"]\n");
        let hits = l.find(&Normalized::new("您自己没看清楚合同"));
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].term.as_str(), hits[0].start, hits[0].end), ("你自己没看清楚", 0, 7));
    }

    #[test]
    fn single_characters_match_exactly_only() {
        let l = lex("[[group]]\nname = \"negation\"\nterms = [\"不\"]\n");
        assert_eq!(l.find(&Normalized::new("布")).len(), 0);
        assert_eq!(l.find(&Normalized::new("不")).len(), 1);
    }

    #[test]
    fn fuzzy_mode_accepts_near_sounds() {
        let l = lex("[[group]]\nname = \"action\"\nmatch = \"fuzzy\"\nterms = [\"销户\", \"销号\"]\n");
        let hits = l.find(&Normalized::new("我要消货"));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].kind, MatchKind::Fuzzy);
        assert!(l.find(&Normalized::new("信号不好")).is_empty(), "the first syllable must sound the same");
    }

    #[test]
    fn contained_hits_of_the_same_group_are_dropped() {
        let l = lex("[[group]]\nname = \"action\"\nterms = [\"转网\", \"携号转网\"]\n");
        let mut guesses = lex("[[group]]\nname = \"action\"\nmatch = \"pinyin\"\nterms = [\"离网\"]\n").find(&Normalized::new("家里网络不好"));
        assert_eq!(guesses.len(), 1);
        drop_cross_word_guesses(&Normalized::new("家里网络不好"), &mut [&mut guesses]);
        assert!(guesses.is_empty(), "离网 heard across 家里网络 must be dropped");
        let hits = l.find(&Normalized::new("携号转网"));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].term, "携号转网");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = Lexicon::parse("[[group]]\nname = \"action\"\nterms = [\"销户\",\n  \"\"]\n", Path::new("x.toml"), ALLOWED).unwrap_err();
        assert_eq!((e.line, e.to_string().starts_with("x.toml:4:")), (4, true), "{e}");
        let e = Lexicon::parse("[[group]]\nname = \"actoin\"\nterms = [\"a\"]\n", Path::new("x.toml"), ALLOWED).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unknown group name"));
        let e = Lexicon::parse("[[group]]\nname = \"action\"\nterms = [\"销户\", \"销户\"]\n", Path::new("x.toml"), ALLOWED).unwrap_err();
        assert!(e.message.contains("already listed"));
        let e = Lexicon::parse("[[group]]\nname = \"action\"\nweight = 3\nterms = [\"a\"]\n", Path::new("x.toml"), ALLOWED).unwrap_err();
        assert_eq!(e.line, 3);
        let e = Lexicon::parse("[[group]]\nname = \"action\"\npatterns = [\"你(\"]\n", Path::new("x.toml"), ALLOWED).unwrap_err();
        assert!(e.line == 3 && e.message.contains("regular expression"), "{e}");
        let e = Lexicon::parse("[[group]]\nname = \"action\"\nterm = [\"a\"]\n", Path::new("x.toml"), ALLOWED).unwrap_err();
        assert!(e.line >= 1 && e.message.contains("term"), "{e}");
    }
}
