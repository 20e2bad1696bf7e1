//! Turns for the second pass: the final utterances of one speaker put
//! together until the turn is over (the other side has spoken since, a
//! pause longer than `max_gap`, the call ends, or the turn would not fit in
//! Whisper's window). A finished turn waits here until the recogniser has
//! nothing live to do.

use std::collections::VecDeque;

use super::queue::CallTag;
use crate::events::Speaker;

const SAMPLE_RATE_HZ: f64 = 16_000.0;
/// Silence put between two utterances of a turn (their real gap, at most this).
const JOIN_GAP_S: f64 = 0.3;

/// One final utterance as the live decode left it.
#[derive(Debug, Clone)]
pub struct Piece {
    /// First sample (16 kHz, stream time).
    pub start_sample: u64,
    /// One past the last sample.
    pub end_sample: u64,
    /// Its audio.
    pub samples: Vec<f32>,
    /// The live text (may be empty: the filters dropped it).
    pub text: String,
}

/// A finished turn, ready to be decoded again.
#[derive(Debug, Clone)]
pub struct Turn {
    /// The call.
    pub call: CallTag,
    /// Whose.
    pub speaker: Speaker,
    /// Its utterances in order.
    pub pieces: Vec<Piece>,
}

impl Turn {
    /// First sample of the first utterance.
    pub fn start_sample(&self) -> u64 {
        self.pieces.first().map_or(0, |p| p.start_sample)
    }

    /// One past the last sample of the last utterance.
    pub fn end_sample(&self) -> u64 {
        self.pieces.last().map_or(0, |p| p.end_sample)
    }

    /// What the live decodes said, one after the other.
    pub fn live_text(&self) -> String {
        self.pieces.iter().map(|p| p.text.as_str()).collect()
    }

    /// The utterances joined, their gaps shortened to at most 0.3 s.
    pub fn audio(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.pieces.iter().map(|p| p.samples.len()).sum());
        let mut prev_end: Option<u64> = None;
        for p in &self.pieces {
            if let Some(end) = prev_end {
                let gap = p.start_sample.saturating_sub(end).min((JOIN_GAP_S * SAMPLE_RATE_HZ) as u64);
                out.resize(out.len() + gap as usize, 0.0);
            }
            out.extend_from_slice(&p.samples);
            prev_end = Some(p.end_sample);
        }
        out
    }
}

/// Collects turns from finals and hands out the finished ones, oldest first.
#[derive(Debug)]
pub struct TurnCollector {
    open: [Option<Turn>; 2],
    ready: VecDeque<Turn>,
    max_gap_samples: u64,
    max_turn_s: f64,
}

fn slot(s: Speaker) -> usize {
    match s {
        Speaker::Agent => 0,
        Speaker::Customer => 1,
    }
}

impl TurnCollector {
    /// Turns end after a pause of `max_gap_s` and are at most `max_turn_s` long.
    pub fn new(max_gap_s: f64, max_turn_s: f64) -> Self {
        Self { open: [None, None], ready: VecDeque::new(), max_gap_samples: (max_gap_s * SAMPLE_RATE_HZ) as u64, max_turn_s }
    }

    /// A final utterance of `speaker` in `call`.
    pub fn push(&mut self, call: CallTag, speaker: Speaker, piece: Piece) {
        let me = slot(speaker);
        // The other side spoke after our turn: our turn is over.
        if let Some(other) = self.open[1 - me].as_ref() {
            if other.call != call || other.end_sample() <= piece.start_sample {
                self.finish(1 - me);
            }
        }
        if let Some(t) = self.open[me].as_ref() {
            let after_pause = piece.start_sample.saturating_sub(t.end_sample()) > self.max_gap_samples;
            let too_long = piece.end_sample.saturating_sub(t.start_sample()) as f64 / SAMPLE_RATE_HZ > self.max_turn_s;
            if t.call != call || after_pause || too_long {
                self.finish(me);
            }
        }
        match self.open[me].as_mut() {
            Some(t) => t.pieces.push(piece),
            None => self.open[me] = Some(Turn { call, speaker, pieces: vec![piece] }),
        }
    }

    /// The stream has reached `now_sample` (real time): a turn whose last
    /// utterance ended a pause ago is over.
    pub fn tick(&mut self, now_sample: u64) {
        for i in 0..2 {
            if self.open[i].as_ref().is_some_and(|t| now_sample.saturating_sub(t.end_sample()) > self.max_gap_samples) {
                self.finish(i);
            }
        }
    }

    /// The call ends: its turns are over.
    pub fn close_call(&mut self, call: CallTag) {
        for i in 0..2 {
            if self.open[i].as_ref().is_some_and(|t| t.call == call) {
                self.finish(i);
            }
        }
    }

    /// The oldest finished turn.
    pub fn next_ready(&mut self) -> Option<Turn> {
        self.ready.pop_front()
    }

    /// Puts back a turn whose decode gave way to live work.
    pub fn retry_later(&mut self, turn: Turn) {
        self.ready.push_front(turn);
    }

    /// Finished turns waiting.
    pub fn waiting(&self) -> usize {
        self.ready.len()
    }

    fn finish(&mut self, i: usize) {
        if let Some(t) = self.open[i].take() {
            self.ready.push_back(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(start_s: f64, end_s: f64, text: &str) -> Piece {
        let (a, b) = ((start_s * SAMPLE_RATE_HZ) as u64, (end_s * SAMPLE_RATE_HZ) as u64);
        Piece { start_sample: a, end_sample: b, samples: vec![0.1; (b - a) as usize], text: text.into() }
    }

    #[test]
    fn a_turn_ends_when_the_other_side_speaks() {
        let mut c = TurnCollector::new(1.5, 28.0);
        c.push(1, Speaker::Customer, piece(0.0, 2.0, "我要"));
        c.push(1, Speaker::Customer, piece(2.4, 4.0, "销户"));
        assert!(c.next_ready().is_none());
        c.push(1, Speaker::Agent, piece(4.6, 6.0, "您好"));
        let t = c.next_ready().expect("the customer's turn is over");
        assert_eq!((t.speaker, t.pieces.len(), t.live_text().as_str()), (Speaker::Customer, 2, "我要销户"));
        // 2.0 s + 0.3 s of the 0.4 s gap + 1.6 s.
        assert_eq!(t.audio().len(), (3.9 * SAMPLE_RATE_HZ) as usize);
        assert_eq!((t.start_sample(), t.end_sample()), (0, 64_000));
    }

    #[test]
    fn a_pause_a_long_turn_and_the_end_of_the_call_end_a_turn() {
        let mut c = TurnCollector::new(1.5, 6.0);
        c.push(1, Speaker::Agent, piece(0.0, 2.0, "一"));
        c.push(1, Speaker::Agent, piece(4.0, 6.0, "二"));
        assert_eq!(c.next_ready().map(|t| t.live_text()), Some("一".into()));
        c.push(1, Speaker::Agent, piece(6.5, 11.0, "三"));
        assert_eq!(c.next_ready().map(|t| t.live_text()), Some("二".into()), "would be 7 s long");
        c.tick((11.5 * SAMPLE_RATE_HZ) as u64);
        assert!(c.next_ready().is_none());
        c.tick((13.0 * SAMPLE_RATE_HZ) as u64);
        assert_eq!(c.next_ready().map(|t| t.live_text()), Some("三".into()));
        c.push(1, Speaker::Customer, piece(20.0, 21.0, "四"));
        c.close_call(2);
        assert!(c.next_ready().is_none());
        c.close_call(1);
        let t = c.next_ready().expect("closed with the call");
        c.retry_later(t);
        assert_eq!(c.waiting(), 1);
    }
}
