//! Frames of an agent's words: which kinds of words share a clause. A
//! phrase that inflames is seldom a fixed word; it is a shape: the
//! customer as the subject of a fault (是你自己没关, 这得怪你), the
//! customer sent to a third party (你去找物业), a feeling told to stop
//! (你别这么激动), a rule or the system as the answer (系统设置就是这样),
//! "we can't" (我们改变不了), "not ours" (不归我们这组). The models learn
//! which shapes inflame from the labelled turns; the counter-kinds (the
//! agent taking the problem on: 我来, 马上给你) let them learn the
//! look-alikes (这件事归我们管，我来处理).
//!
//! A clause's own kinds are `af:` features; the kinds of the whole turn
//! around it are `at:` features, so a clause is read in its turn (an
//! apology before it, an offer of help after it).

use std::sync::LazyLock;

use super::features::{add_kinds, Features, FrameMatcher};
use crate::text::Normalized;

/// Kinds of words in an agent's frames (您 is folded to 你 before matching).
const AGENT_FRAME_WORDS: &[(&str, &[&str])] = &[
    ("you", &["你"]),
    ("we", &["我们", "我这边", "我这里", "咱们", "公司", "我"]),
    (
        "fault",
        &[
            "自己",
            "错",
            "怪",
            "没看",
            "没问",
            "没仔细",
            "没注意",
            "本来",
            "根本",
            "早就",
            "早点",
            "早说",
            "记错",
            "肯定是",
            "用掉的",
            "同意了",
            "签字",
            "签过",
            "不会骗",
            "不会算错",
            "清清楚楚",
            "白纸黑字",
            "明明",
        ],
    ),
    (
        "third",
        &[
            "物业",
            "厂家",
            "快递",
            "营业厅",
            "部门",
            "售后",
            "商家",
            "银行",
            "第三方",
            "代理商",
            "网络部",
            "技术部",
            "工信部",
            "那边",
            "别的组",
            "其他部门",
            "专线",
            "总部",
        ],
    ),
    ("send", &["去找", "找", "去问", "问问", "联系", "打过去", "咨询", "再打", "再来电", "自己去", "自己打", "自己看", "自己查"]),
    ("feeling", &["激动", "冷静", "理智", "情绪", "发火", "小一点", "小声", "别急", "叫", "嚷", "吵", "喊", "火气", "生气"]),
    ("rule", &["规定", "流程", "制度", "系统", "合同", "合约", "默认", "条款", "政策", "上面定", "规矩", "要求", "按"]),
    (
        "cannot",
        &["不了", "不能", "没法", "不可能", "不行", "做不到", "爱莫能助", "无能为力", "没办法", "不认", "不上门", "不好弄", "不好说", "改变不了", "不存在"],
    ),
    ("not_ours", &["不归", "不是我们", "不关", "不属于", "不在我们", "无关", "不管", "管不着", "不负责", "不是我的事"]),
    ("interrupt", &["讲完", "说完", "听我", "先听", "打断", "让我说"]),
    ("hurry", &["到底", "快点", "重点", "还有事", "挂了", "行了", "好了好了", "知道了", "在忙", "忙着", "别的客户"]),
    ("only", &["只能", "只管", "只是", "就是这样", "就这样", "都一样", "一般人"]),
    ("help", &["我来", "帮你", "给你", "马上", "现在就", "申请", "升级", "不会让", "不可能让", "负责到底", "跟进", "盯着", "处理", "核实"]),
    ("sorry", &["抱歉", "对不起", "不好意思", "理解", "着急", "辛苦", "委屈", "心情", "谢谢", "感谢"]),
    // The look-alikes' own kinds: the customer cleared of a fault (不是您的问题,
    // 您没记错), the fault owned by us (这是我们的不对), and a rule that gives
    // (按规定可以免违约金).
    ("cleared", &["不是你", "不怪你", "没记错", "没搞错", "没弄错", "没有记错", "没有搞错", "说得对", "说的对", "没错"]),
    ("own", &["我们的问题", "我们的不对", "我们的错", "我们的疏忽", "我们没做好", "我们没做到", "怪我们", "我的问题", "我的错", "我们这边的问题"]),
    ("benefit", &["免", "退回", "全额", "补偿", "能领", "送你", "赔"]),
];

static AGENT_FRAMES: LazyLock<Option<FrameMatcher>> = LazyLock::new(|| FrameMatcher::new(AGENT_FRAME_WORDS));

/// The agent frames of `norm` (a turn or one clause), as `af:` features;
/// returns the kinds found, for the clauses of a turn to be read in it.
pub fn agent_frames(norm: &Normalized, out: &mut Features) -> TurnKinds {
    let Some(m) = AGENT_FRAMES.as_ref() else { return TurnKinds::default() };
    let mut clause_kinds = m.clause_kinds(norm);
    add_kinds("af:", &mut clause_kinds, out);
    let mut kinds: Vec<&'static str> = clause_kinds.into_iter().flatten().collect();
    kinds.sort_unstable();
    kinds.dedup();
    TurnKinds(kinds)
}

/// The kinds of words in a whole agent turn (from [`agent_frames`] of the
/// turn), added to the features of each of its clauses as `at:` features:
/// a turn of many clauses is matched once, not once per clause.
#[derive(Debug, Clone, Default)]
pub struct TurnKinds(Vec<&'static str>);

impl TurnKinds {
    /// Adds the kinds to a clause's features.
    pub fn add_to(&self, out: &mut Features) {
        for k in &self.0 {
            out.add_parts("at:", &[k]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        super::super::features::names_with(text, agent_frames)
    }

    #[test]
    fn a_clause_is_read_as_the_kinds_of_words_it_holds() {
        let sent = names("您去找物业问问");
        assert!(sent.iter().any(|n| n == "af:send+third"), "{sent:?}");
        assert!(sent.iter().any(|n| n == "af:send+you"), "{sent:?}");
        // Kinds pair within a clause, not across one.
        let split = names("这是规定，您别激动");
        assert!(split.iter().any(|n| n == "af:feeling+you"), "{split:?}");
        assert!(!split.iter().any(|n| n == "af:feeling+rule"), "{split:?}");
    }

    #[test]
    fn restating_is_not_read_as_only_and_helping_is_not_hurrying() {
        let restate = names("也就是说您觉得套餐不太合适");
        assert!(!restate.iter().any(|n| n.contains("only")), "{restate:?}");
        let help = names("这个忙我一定帮");
        assert!(!help.iter().any(|n| n.contains("hurry")), "{help:?}");
    }

    #[test]
    fn a_clause_knows_the_turn_around_it() {
        let mut f = Features::named();
        agent_frames(&Normalized::new("非常抱歉，这个不归我们管"), &mut Features::new()).add_to(&mut f);
        f.finish();
        let got: Vec<&str> = f.names().iter().map(|(_, n)| n.as_str()).collect();
        assert!(got.contains(&"at:sorry") && got.contains(&"at:not_ours"), "{got:?}");
    }
}
