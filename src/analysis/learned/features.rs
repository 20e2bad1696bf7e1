//! What the learned models see of a turn: character n-grams of the folded
//! text (您 -> 你, traditional -> simplified), toneless pinyin (so a word
//! Whisper mishears by sound still looks the same), the lexicon groups that
//! matched, what the rules decided, and frames: which kinds of words share
//! a clause (a first-person subject with a leaving verb and an object; a
//! negation right before the verb; a condition; the past; someone else).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::analysis::lexicon::Hit;
use crate::text::Normalized;

/// Kinds of words that make up a frame.
const FRAME_WORDS: &[(&str, &[&str])] = &[
    ("me", &["我", "俺", "咱", "本人"]),
    (
        "other",
        &[
            "朋友",
            "同事",
            "我妈",
            "我爸",
            "家里人",
            "邻居",
            "他们",
            "亲戚",
            "同学",
            "老公",
            "老婆",
            "儿子",
            "女儿",
            "表姐",
            "表哥",
            "姐姐",
            "哥哥",
            "别人",
            "他",
            "她",
        ],
    ),
    (
        "leave",
        &[
            "销",
            "注销",
            "转网",
            "携号",
            "拆",
            "退",
            "停",
            "撤",
            "换",
            "转",
            "走",
            "不用",
            "不要",
            "不续",
            "不交",
            "取消",
            "关掉",
            "关了",
            "解约",
            "办掉",
            "去别",
            "别家",
            "另一家",
            "其他家",
            "隔壁",
            "不干",
            "不玩",
            "跑",
            "离开",
            "断",
            "掐",
            "扔",
            "丢",
            "销户",
        ],
    ),
    ("object", &["号", "卡", "宽带", "套餐", "合约", "业务", "网", "手机", "固话", "座机", "流量包", "会员", "副卡", "光猫", "机顶盒", "彩铃", "服务"]),
    ("plan", &["明天", "下个月", "下月", "到期", "马上", "现在", "今天", "这就", "回头", "打算", "准备", "决定", "已经", "月底", "年底", "等", "过两天"]),
    ("want", &["想", "要", "得", "非要", "必须", "一定"]),
    ("neg", &["不", "没", "别", "甭", "不是", "没有"]),
    ("question", &["吗", "么", "?", "怎么", "如何", "能不能", "可不可以", "多久", "什么", "哪", "是不是", "有没有"]),
    ("cond", &["再", "如果", "要是", "不然", "否则", "的话", "万一", "除非"]),
    ("past", &["去年", "以前", "之前", "上次", "曾经", "前年", "那时", "当初", "以前"]),
    ("downgrade", &["便宜点", "降", "低一点", "低档", "小一点", "少一点", "保号"]),
    ("carrier", &["联通", "电信", "移动", "广电", "别家", "人家", "隔壁"]),
    ("money", &["钱", "费", "元", "块", "扣", "账单", "贵", "价格", "资费"]),
    ("again", &["又", "再次", "第几次", "好几次", "多少次", "三次", "几遍", "一直", "总是", "老是", "天天"]),
    ("sarcasm", &["真行", "真好", "呵呵", "厉害", "佩服", "服了", "可真", "好意思"]),
    ("apology", &["抱歉", "对不起", "不好意思", "理解", "明白", "着急", "辛苦", "委屈", "换成是我", "感同身受", "心情"]),
    ("options", &["还是", "或者", "一是", "二是", "第一", "第二", "两种", "两个", "挑", "选", "哪个", "哪种", "要么", "也可以", "其一", "方案"]),
    (
        "refuse",
        &["不能", "没办法", "规定", "不归", "必须", "不可能", "自己", "搞错", "冷静", "激动", "听我说", "不是我们", "没法", "管不了", "制度", "早就", "不清楚"],
    ),
];

/// Kinds of words only a customer's frames hold: what turns a leaving
/// verb around (porting *in*: 转过来; a leaving that is already done:
/// 销过, 早就; one taken back: 算了, 接着用; taking up an offer), and what
/// tells a package that does not fit from a card no longer needed (what a
/// package holds, a thing unused, a change of life).
const CUSTOMER_FRAME_WORDS: &[(&str, &[&str])] = &[
    ("port_in", &["转进", "转入", "转过来", "转到你们", "转来你们", "转到你家", "换到你们", "换过来", "携入", "迁入你们", "过来你们"]),
    ("done", &["办过", "销过", "转过", "拆过", "退过", "停过", "注销过", "早就", "过了", "那会儿", "当年", "已经办", "已经销", "已经转", "已经拆", "已经退"]),
    (
        "withdraw",
        &[
            "算了",
            "不换了",
            "不转了",
            "不走了",
            "不销了",
            "不退了",
            "不拆了",
            "先不",
            "留着",
            "留下",
            "接着用",
            "继续用",
            "续吧",
            "就续",
            "再用",
            "不折腾",
            "不弄了",
            "不办了",
        ],
    ),
    ("accept", &["好的", "好吧", "行吧", "可以", "那就", "办吧", "就这个", "听你的", "没问题", "就按"]),
    // What a package holds and how it is used: with `unused`, the package
    // does not fit (套餐里的流量用不上: plan); `unused` with a change of
    // life and no package (老伴走了，号用不上了) names no reason.
    ("usage", &["流量", "通话", "分钟", "定向", "会员", "月租", "档", "兆", "合约期", "违约金", "副卡", "套餐"]),
    (
        "unused",
        &[
            "用不上",
            "用不完",
            "用不着",
            "用不了",
            "没人用",
            "很少用",
            "不怎么用",
            "白交",
            "浪费",
            "闲置",
            "吃灰",
            "不够用",
            "不够打",
            "不对路",
            "不合适",
            "不实用",
            "多余",
        ],
    ),
    ("life", &["走了", "去世", "过世", "毕业", "辞职", "退休", "住院", "瘫", "项目", "新号", "新卡", "自己办了", "结婚", "离婚"]),
];

/// The kinds whose order across two clauses in a row is a feature of a
/// customer's turn (本来想转网，算了: `fs:leave>withdraw`).
const SEQUENCE_KINDS: &[&str] =
    &["me", "other", "leave", "neg", "cond", "past", "done", "withdraw", "accept", "port_in", "question", "plan", "downgrade", "carrier", "want"];

/// Every word of a frame table in one automaton, with the kind of each
/// pattern.
pub(super) struct FrameMatcher {
    automaton: AhoCorasick,
    kinds: Vec<&'static str>,
}

impl FrameMatcher {
    /// The matcher of a table of kinds and their words. The words are fixed
    /// and small; building cannot fail, but if it did the frames would
    /// simply be missing, not the analysis.
    pub(super) fn new(table: &[(&'static str, &[&'static str])]) -> Option<Self> {
        let (kinds, words): (Vec<&'static str>, Vec<&'static str>) = table.iter().flat_map(|(kind, words)| words.iter().map(move |w| (*kind, *w))).unzip();
        AhoCorasick::new(&words).ok().map(|automaton| Self { automaton, kinds })
    }

    /// Calls `found(kind, character index)` for every word of the table in
    /// the text, overlapping ones too.
    pub(super) fn each(&self, norm: &Normalized, mut found: impl FnMut(&'static str, usize)) {
        let text: String = norm.chars.iter().collect();
        let char_idx: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        for m in self.automaton.find_overlapping_iter(&text) {
            let Some(kind) = self.kinds.get(m.pattern().as_usize()).copied() else { continue };
            let Ok(ci) = char_idx.binary_search(&m.start()) else { continue };
            found(kind, ci);
        }
    }

    /// The kinds found in each clause, each once.
    pub(super) fn clause_kinds(&self, norm: &Normalized) -> Vec<Vec<&'static str>> {
        self.clause_kinds_and(norm, |_, _| {})
    }

    /// [`Self::clause_kinds`], calling `also(kind, character index)` for
    /// every word found on the way (one pass over the text for both).
    pub(super) fn clause_kinds_and(&self, norm: &Normalized, mut also: impl FnMut(&'static str, usize)) -> Vec<Vec<&'static str>> {
        let n_clauses = norm.clause.last().map_or(0, |c| c + 1);
        let mut kinds: Vec<Vec<&'static str>> = vec![Vec::new(); n_clauses.max(1)];
        self.each(norm, |kind, ci| {
            also(kind, ci);
            let clause = norm.clause.get(ci).copied().unwrap_or(0);
            if let Some(v) = kinds.get_mut(clause) {
                if !v.contains(&kind) {
                    v.push(kind);
                }
            }
        });
        kinds
    }
}

/// Adds each clause's kinds, alone and in pairs (`prefix` + `a+b`).
pub(super) fn add_kinds(prefix: &str, clause_kinds: &mut [Vec<&str>], out: &mut Features) {
    for kinds in clause_kinds {
        kinds.sort_unstable();
        for k in kinds.iter() {
            out.add_parts(prefix, &[k]);
        }
        for i in 0..kinds.len() {
            for j in i + 1..kinds.len() {
                out.add_parts(prefix, &[kinds[i], "+", kinds[j]]);
            }
        }
    }
}

static FRAME_MATCHER: LazyLock<Option<FrameMatcher>> = LazyLock::new(|| FrameMatcher::new(FRAME_WORDS));
static CUSTOMER_FRAME_MATCHER: LazyLock<Option<FrameMatcher>> = LazyLock::new(|| FrameMatcher::new(CUSTOMER_FRAME_WORDS));

/// FNV-1a, 64 bit: byte by byte, so a name hashed in pieces has the id of
/// the whole name.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// A feature's id: the 64-bit FNV-1a hash of its name. Models are stored
/// by name and looked up by id, so the analysis never builds a name (two
/// names with one id, under one chance in 10^8 for the largest model's
/// 400 000 features, would share a weight).
pub fn id(name: &str) -> u64 {
    fnv(FNV_OFFSET, name.as_bytes())
}

/// The features of one text: their ids, sorted and each once, and (for
/// training and `why`) their names when asked for.
#[derive(Debug, Clone, Default)]
pub struct Features {
    ids: Vec<u64>,
    /// `(id, name)` when names are kept.
    names: Option<Vec<(u64, String)>>,
    /// The feature being written.
    hash: u64,
    name: String,
}

impl Features {
    /// Ids only (the live analysis).
    pub fn new() -> Self {
        Self { ids: Vec::with_capacity(512), ..Self::default() }
    }

    /// Ids and names (training).
    pub fn named() -> Self {
        Self { names: Some(Vec::with_capacity(512)), ..Self::new() }
    }

    fn begin(&mut self) {
        self.hash = FNV_OFFSET;
        self.name.clear();
    }

    fn push_str(&mut self, s: &str) {
        self.hash = fnv(self.hash, s.as_bytes());
        if self.names.is_some() {
            self.name.push_str(s);
        }
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push_str(c.encode_utf8(&mut buf));
    }

    fn end(&mut self) {
        self.ids.push(self.hash);
        if let Some(names) = &mut self.names {
            names.push((self.hash, self.name.clone()));
        }
    }

    /// Adds the feature `name`.
    pub fn add(&mut self, name: &str) {
        self.begin();
        self.push_str(name);
        self.end();
    }

    /// Adds the feature named by `prefix` and `parts`, without building it.
    pub fn add_parts(&mut self, prefix: &str, parts: &[&str]) {
        self.begin();
        self.push_str(prefix);
        for p in parts {
            self.push_str(p);
        }
        self.end();
    }

    /// Adds the feature named by `prefix` and `chars`.
    fn add_chars(&mut self, prefix: &str, chars: &[char]) {
        self.begin();
        self.push_str(prefix);
        for c in chars {
            self.push_char(*c);
        }
        self.end();
    }

    /// Empties the set for another text (keeps whether names are kept).
    pub fn clear(&mut self) {
        self.ids.clear();
        if let Some(names) = &mut self.names {
            names.clear();
        }
    }

    /// Each feature once, sorted by id.
    pub fn finish(&mut self) {
        self.ids.sort_unstable();
        self.ids.dedup();
        if let Some(names) = &mut self.names {
            names.sort_unstable_by_key(|(id, _)| *id);
            names.dedup_by_key(|(id, _)| *id);
        }
    }

    /// The ids.
    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    /// `(id, name)` of each feature (empty unless made with [`Features::named`]).
    pub fn names(&self) -> &[(u64, String)] {
        self.names.as_deref().unwrap_or(&[])
    }
}

fn push_ngrams(chars: &[char], out: &mut Features) {
    let marked: Vec<char> = std::iter::once('^').chain(chars.iter().copied()).chain(std::iter::once('$')).collect();
    for n in 1..=3 {
        for w in marked.windows(n) {
            if n == 1 && (w[0] == '^' || w[0] == '$') {
                continue;
            }
            out.add_chars("c:", w);
        }
    }
    // Pairs with one or two characters between: 不续 in 不再续, 不用 in 不想用.
    for gap in [2, 3] {
        for (a, b) in chars.iter().zip(chars.iter().skip(gap)) {
            out.begin();
            out.push_str("k:");
            out.push_char(*a);
            out.push_str("_");
            out.push_char(*b);
            out.end();
        }
    }
}

/// Character n-grams (1-3, clause-bounded), character pairs with one or
/// two characters between, pinyin syllables (1-2), question marks and the
/// length.
pub fn text(norm: &Normalized, out: &mut Features) {
    let mut start = 0;
    let mut clause: Vec<char> = Vec::with_capacity(norm.len());
    for i in 1..=norm.len() {
        if i == norm.len() || norm.clause[i] != norm.clause[i - 1] {
            clause.clear();
            clause.extend(norm.chars[start..i].iter().copied().filter(|c| !crate::text::is_punctuation(*c)));
            push_ngrams(&clause, out);
            start = i;
        }
    }
    let syllables: Vec<&str> = norm.readings.iter().filter_map(|r| r.first().copied()).collect();
    for s in &syllables {
        out.add_parts("p:", &[s]);
    }
    for w in syllables.windows(2) {
        out.add_parts("p:", &[w[0], " ", w[1]]);
    }
    // A question mark, not an exclamation mark: written text marks anger
    // with ！, a recogniser's punctuation does not (a shout often comes out
    // with 。 or nothing), so ！ would teach the models a cue live calls lack.
    let asks = norm.chars.iter().filter(|x| **x == '?').count();
    if asks > 0 {
        out.add("punct:ask");
        if asks > 1 {
            out.add("punct:ask2");
        }
    }
    let len = match norm.len() {
        0..=5 => LENGTHS[0],
        6..=12 => LENGTHS[1],
        13..=25 => LENGTHS[2],
        _ => LENGTHS[3],
    };
    out.add(len);
}

/// The length features of [`text`], shortest first.
pub const LENGTHS: [&str; 4] = ["len:xs", "len:s", "len:m", "len:l"];

/// The ids of [`LENGTHS`].
pub fn length_ids() -> [u64; 4] {
    LENGTHS.map(id)
}

/// The lexicon groups (and terms) that matched.
pub fn lexicon(prefix: &str, hits: &[Hit], out: &mut Features) {
    // Not the exclamation marks (see `text`).
    for h in hits.iter().filter(|h| h.group != "exclamation") {
        out.add_parts("lex:", &[prefix, ":", &h.group]);
        out.add_parts("lex:", &[prefix, ":", &h.group, ":", &h.term]);
    }
}

/// Frames: the kinds of words in each clause, alone and in pairs, and a
/// negation or a question right at a leaving verb.
pub fn frames(norm: &Normalized, out: &mut Features) {
    let _ = frame_kinds(norm, out);
}

/// [`frames`] of a customer's turn, with the customer's own kinds (see
/// [`CUSTOMER_FRAME_WORDS`]), the kinds of two clauses in a row in their
/// order (`fs:leave>withdraw`) and the kinds of the last clause
/// (`fl:withdraw`: what the customer ends on). Linear in the length: only
/// neighbouring clauses are paired.
pub fn customer_frames(norm: &Normalized, out: &mut Features) {
    let mut kinds = frame_kinds(norm, out);
    let Some(matcher) = CUSTOMER_FRAME_MATCHER.as_ref() else { return };
    let mut own = matcher.clause_kinds(norm);
    for (k, o) in kinds.iter_mut().zip(&own) {
        k.extend(o.iter().copied());
    }
    // The customer's kinds alone and with every kind of their clause.
    for (all, o) in kinds.iter().zip(own.iter_mut()) {
        o.sort_unstable();
        for a in o.iter() {
            out.add_parts("fr:", &[a]);
            for b in all.iter().filter(|b| *b != a) {
                let (x, y) = if a < b { (*a, *b) } else { (*b, *a) };
                out.add_parts("fr:", &[x, "+", y]);
            }
        }
    }
    let key = |k: &&&'static str| SEQUENCE_KINDS.contains(*k);
    for w in kinds.windows(2) {
        for a in w[0].iter().filter(key) {
            for b in w[1].iter().filter(key) {
                out.add_parts("fs:", &[a, ">", b]);
            }
        }
    }
    if kinds.len() > 1 {
        if let Some(last) = kinds.last() {
            for k in last.iter().filter(key) {
                out.add_parts("fl:", &[k]);
            }
        }
    }
}

/// Adds the frames of [`frames`] and returns each clause's kinds.
fn frame_kinds(norm: &Normalized, out: &mut Features) -> Vec<Vec<&'static str>> {
    let Some(matcher) = FRAME_MATCHER.as_ref() else { return Vec::new() };
    let (mut neg_at_leave, mut want_at_leave) = (false, false);
    let mut kinds = matcher.clause_kinds_and(norm, |kind, ci| {
        if kind == "leave" {
            // What stands right before the verb.
            let before = &norm.chars[ci.saturating_sub(3)..ci];
            neg_at_leave |= before.iter().any(|c| matches!(c, '不' | '没' | '别'));
            want_at_leave |= before.iter().any(|c| matches!(c, '想' | '要' | '得'));
        }
    });
    if neg_at_leave {
        out.add("fr:neg_at_leave");
    }
    if want_at_leave {
        out.add("fr:want_at_leave");
    }
    add_kinds("fr:", &mut kinds, out);
    kinds
}

/// The names of the features `add` gives `text` (for tests).
#[cfg(test)]
pub(super) fn names_with<R>(text: &str, add: impl FnOnce(&Normalized, &mut Features) -> R) -> Vec<String> {
    let mut f = Features::named();
    let _ = add(&Normalized::new(text), &mut f);
    f.finish();
    f.names().iter().map(|(_, n)| n.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_written_in_pieces_has_the_id_of_its_name() {
        let mut f = Features::named();
        f.add_parts("lex:", &["churn", ":", "leave"]);
        f.add_chars("c:", &['销', '户']);
        f.add("c:销户");
        f.finish();
        let mut want = vec![id("lex:churn:leave"), id("c:销户")];
        want.sort_unstable();
        assert_eq!(f.ids(), want.as_slice());
        assert!(f.names().iter().all(|(i, n)| id(n) == *i), "{:?}", f.names());
    }

    fn names_of(text: &str) -> Vec<String> {
        names_with(text, customer_frames)
    }

    #[test]
    fn a_customer_turn_is_read_in_the_order_of_its_clauses() {
        // Leaving taken back in the next clause, and what the turn ends on.
        let n = names_of("本来想转网的，算了，还是接着用吧");
        for want in ["fs:leave>withdraw", "fl:withdraw", "fr:leave+want"] {
            assert!(n.iter().any(|x| x == want), "{want} not in {n:?}");
        }
        // The other order is another feature: withdrawn first, then leaving.
        let n = names_of("先不续了，我要转网");
        assert!(n.iter().any(|x| x == "fs:withdraw>leave"), "{n:?}");
        assert!(!n.iter().any(|x| x == "fs:leave>withdraw"), "{n:?}");
        // Porting in and a leaving already done are kinds of their own.
        assert!(names_of("我从联通转过来的").iter().any(|x| x == "fr:port_in"));
        assert!(names_of("那张副卡我去年就销过了").iter().any(|x| x == "fr:done+leave"));
        // One clause: nothing to order, no last clause.
        assert!(!names_of("我要转网").iter().any(|x| x.starts_with("fs:") || x.starts_with("fl:")));
    }

    #[test]
    fn a_package_that_does_not_fit_is_read_apart_from_a_card_no_longer_needed() {
        // The package's content unused: plan.
        let plan = names_of("套餐里那些流量我根本用不上");
        assert!(plan.iter().any(|x| x == "fr:unused+usage"), "{plan:?}");
        // A change of life: the card is not needed, the package is not at fault.
        let life = names_of("老伴走了，她那个号用不上了");
        assert!(life.iter().any(|x| x == "fr:life") && life.iter().any(|x| x == "fr:unused"), "{life:?}");
        assert!(!life.iter().any(|x| x.contains("usage")), "{life:?}");
        // A move is relocation, its own reason, not a change of life.
        let moving = names_of("我下个月搬到外地去了，这号用不上了");
        assert!(!moving.iter().any(|x| x.contains("life")), "{moving:?}");
    }

    #[test]
    fn ids_alone_and_with_names_are_the_same_features() {
        let norm = Normalized::new("我下个月不续了，换别家？！");
        let (mut a, mut b) = (Features::new(), Features::named());
        text(&norm, &mut a);
        customer_frames(&norm, &mut a);
        text(&norm, &mut b);
        customer_frames(&norm, &mut b);
        a.finish();
        b.finish();
        assert_eq!(a.ids(), b.ids());
        assert!(b.names().iter().any(|(_, n)| n == "k:不_了"), "{:?}", b.names());
        assert!(b.names().iter().all(|(_, n)| !n.contains("bang")), "{:?}", b.names());
    }
}
