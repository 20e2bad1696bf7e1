//! Personal data stays on the agent's PC: runs of digits that look like a
//! phone, ID card or bank card number, written in Arabic or Chinese
//! numerals (幺三八…, 一三八…), are masked in every event before it leaves
//! for the board. Short numbers (amounts, a four-digit job number) stay.

use crate::events::{Event, TimedEvent};

/// A run of this many digits or more is masked (Chinese mobile numbers have
/// 11, ID cards 15/18, bank cards 16-19; a landline without area code 7-8).
pub const MIN_DIGITS: usize = 7;

/// The mask character.
pub const MASK: char = '*';

fn digit_like(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c) || "零〇一二三四五六七八九幺两".contains(c)
}

/// Inside a number: spaces and dashes people put between digit groups, and
/// the X that ends some ID numbers.
fn joiner(c: char) -> bool {
    matches!(c, ' ' | '-' | '－' | '—' | '\u{3000}')
}

/// Masks every run of at least [`MIN_DIGITS`] digits (Arabic, full-width or
/// Chinese numerals, groups joined by spaces or dashes, a trailing X).
/// Returns None when nothing was masked.
pub fn mask(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if !digit_like(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The run: digits, with single joiners between digits.
        let mut j = i;
        let mut digits = 0;
        while j < chars.len() {
            if digit_like(chars[j]) {
                digits += 1;
                j += 1;
            } else if joiner(chars[j]) && j + 1 < chars.len() && digit_like(chars[j + 1]) {
                j += 1;
            } else {
                break;
            }
        }
        if digits >= MIN_DIGITS && j < chars.len() && matches!(chars[j], 'x' | 'X' | 'ｘ' | 'Ｘ') {
            j += 1;
        }
        if digits >= MIN_DIGITS {
            out.extend(std::iter::repeat_n(MASK, j - i));
            changed = true;
        } else {
            out.extend(&chars[i..j]);
        }
        i = j;
    }
    changed.then_some(out)
}

fn mask_in_place(s: &mut String) {
    if let Some(m) = mask(s) {
        *s = m;
    }
}

/// Masks every text an event carries (recognised speech, the analysis's
/// copy and its `why`, card reasons, alerts, notes).
pub fn mask_event(ev: &mut TimedEvent) {
    match &mut ev.event {
        Event::Segment(s) => mask_in_place(&mut s.text),
        Event::Analysis(a) => {
            mask_in_place(&mut a.text);
            a.why.iter_mut().for_each(mask_in_place);
        }
        Event::Card(c) => {
            c.why.iter_mut().for_each(mask_in_place);
            c.say.iter_mut().for_each(mask_in_place);
        }
        Event::Alert(a) => mask_in_place(&mut a.text),
        Event::Note(n) => mask_in_place(&mut n.text),
        Event::Status(s) => mask_in_place(&mut s.message),
        Event::CallStarted(_) | Event::CardFeedback(_) | Event::CallEnded(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_id_and_card_numbers_are_masked_in_both_scripts() {
        assert_eq!(mask("我的号码是13812345678").as_deref(), Some("我的号码是***********"));
        assert_eq!(mask("号码幺三八一二三四五六七八").as_deref(), Some("号码***********"));
        assert_eq!(mask("一三八 一二三四 五六七八，对").as_deref(), Some("*************，对"));
        assert_eq!(mask("身份证11010119900307123X").as_deref(), Some("身份证******************"));
        assert_eq!(mask("卡号6222-0212-3456-7890").as_deref(), Some("卡号*******************"));
        assert_eq!(mask("１３８１２３４５６７８").as_deref(), Some("***********"));
    }

    #[test]
    fn short_numbers_stay() {
        assert_eq!(mask("每月减免20元话费"), None);
        assert_eq!(mask("我的工号是一零八六"), None);
        assert_eq!(mask("套餐一百二十八元"), None);
        assert_eq!(mask("这都第三次了"), None);
    }
}
