//! Transcripts from other systems: one turn per line, `C: text` or `A:
//! text` (also 客户/坐席), optionally with a time `[mm:ss]`, `[seconds]` or a
//! range `[00:05-00:09]` first. What `callcoach analyze` reads.

use crate::events::Speaker;
use crate::text::spoken_units;

/// One parsed transcript line.
#[derive(Debug, PartialEq)]
pub struct TranscriptLine {
    /// Who spoke.
    pub speaker: Speaker,
    /// When the turn started, if the line says.
    pub time_s: Option<f64>,
    /// When it ended, if the line gives a range.
    pub end_s: Option<f64>,
    /// What was said.
    pub text: String,
}

/// Parses `[mm:ss] C: text`, `[12.5] A: text`, `[00:05-00:09] A: text`,
/// `C：text` and the like.
pub fn parse_line(line: &str) -> Result<Option<TranscriptLine>, String> {
    let mut rest = line.trim();
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let (mut time_s, mut end_s) = (None, None);
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']').ok_or("a `[` time prefix has no closing `]`")?;
        let t = after[..close].trim();
        let bad = |t: &str| format!("time {t:?} is neither mm:ss, hh:mm:ss nor seconds");
        match t.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_time(a.trim()).ok_or_else(|| bad(a))?, parse_time(b.trim()).ok_or_else(|| bad(b))?);
                if b <= a {
                    return Err(format!("time range {t:?} ends before it starts"));
                }
                (time_s, end_s) = (Some(a), Some(b));
            }
            None => time_s = Some(parse_time(t).ok_or_else(|| bad(t))?),
        }
        rest = after[close + 1..].trim_start();
    }
    let (who, text) = rest.split_once([':', '：']).ok_or("expected `C: text` or `A: text` (C = customer, A = agent)")?;
    let speaker = match who.trim() {
        "C" | "c" | "customer" | "客户" | "用户" => Speaker::Customer,
        "A" | "a" | "agent" | "坐席" | "客服" | "话务员" => Speaker::Agent,
        other => return Err(format!("unknown speaker {other:?}: use C (customer) or A (agent)")),
    };
    let text = text.trim();
    if text.is_empty() {
        return Err("the turn has no text".into());
    }
    Ok(Some(TranscriptLine { speaker, time_s, end_s, text: text.to_string() }))
}

/// Seconds of `mm:ss`, `hh:mm:ss` or plain seconds.
pub fn parse_time(t: &str) -> Option<f64> {
    if t.contains(':') {
        let parts: Vec<&str> = t.split(':').collect();
        let mut secs = 0.0;
        for p in &parts {
            let v = p.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)?;
            secs = secs * 60.0 + v;
        }
        (parts.len() <= 3 && secs.is_finite()).then_some(secs)
    } else {
        t.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0 && *v < 1e9)
    }
}

/// Spoken duration of a turn when the transcript gives none: about 4
/// characters per second, at least one second.
pub fn estimated_duration_s(text: &str) -> f64 {
    (spoken_units(text) as f64 / 4.0).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_lines_parse_with_and_without_times() {
        let l = parse_line("[01:05] C: 我要销户").unwrap().unwrap();
        assert_eq!((l.speaker, l.time_s, l.text.as_str()), (Speaker::Customer, Some(65.0), "我要销户"));
        let l = parse_line("[12.5] A：您好").unwrap().unwrap();
        assert_eq!((l.speaker, l.time_s), (Speaker::Agent, Some(12.5)));
        let l = parse_line("[00:05-00:09.5] A: 您好").unwrap().unwrap();
        assert_eq!((l.time_s, l.end_s), (Some(5.0), Some(9.5)));
        assert!(parse_line("[9-5] A: x").unwrap_err().contains("ends before"));
        assert_eq!(parse_line("客户: 你好").unwrap().unwrap().speaker, Speaker::Customer);
        assert!(parse_line("   ").unwrap().is_none());
        assert!(parse_line("# comment").unwrap().is_none());
        assert!(parse_line("X: hi").unwrap_err().contains("unknown speaker"));
        assert!(parse_line("[1:xx] C: hi").unwrap_err().contains("time"));
        assert!(parse_line("我要销户").unwrap_err().contains("expected"));
    }
}
