//! Anger of a customer turn: text cues (insults, threats, exasperation,
//! complaints, intensifiers, exclamations; calming words lower it) combined
//! with acoustic arousal against the speaker's own baseline in this call.

use super::lexicon::Hit;
use crate::events::AcousticFeatures;
use crate::text::Normalized;

/// Text part of the anger score, 0..1, and the cues behind it.
pub fn text_anger(text: &Normalized, hits: &[Hit]) -> (f32, Vec<String>) {
    let negations: Vec<&Hit> = hits.iter().filter(|h| h.group == "negation").collect();
    let not_cues: Vec<&Hit> = hits.iter().filter(|h| h.group == "not_complaint").collect();
    let mut keep = 1.0f32;
    let mut why = Vec::new();
    let mut calming = 0.0f32;
    let mut bangs = 0;
    for h in hits {
        match h.group.as_str() {
            "negation" | "not_complaint" => continue,
            "calming" => {
                calming += h.weight;
                continue;
            }
            "exclamation" => {
                bangs += 1;
                if bangs > 2 {
                    continue;
                }
            }
            _ => {}
        }
        if not_cues.iter().any(|n| n.start <= h.start && n.end >= h.end) {
            continue;
        }
        let negated = negations
            .iter()
            .filter(|n| !super::churn::is_question_form(text, n))
            .any(|n| n.end <= h.start && h.start - n.end <= 1 && text.clause[n.start] == text.clause[h.start]);
        if negated {
            why.push(format!("negated:{}", h.heard));
            continue;
        }
        keep *= 1.0 - h.weight.min(0.95);
        if h.weight >= 0.25 {
            why.push(h.explain());
        }
    }
    let mut anger = 1.0 - keep;
    if calming > 0.0 {
        anger *= (1.0 - calming).max(0.5);
    }
    (anger.clamp(0.0, 1.0), why)
}

/// Running mean and spread of one acoustic measure for one speaker.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    n: u32,
    mean: f64,
    m2: f64,
}

impl Baseline {
    /// Adds an observation (Welford).
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// z-score of `x` with a floor on the spread; None before any data.
    pub fn z(&self, x: f64, min_sd: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let sd = if self.n > 1 { (self.m2 / (self.n - 1) as f64).sqrt() } else { 0.0 };
        Some((x - self.mean) / sd.max(min_sd))
    }
}

/// A speaker's acoustic baselines in this call.
#[derive(Debug, Clone, Default)]
pub struct Arousal {
    rms_db: Baseline,
    f0_hz: Baseline,
    rate_cpm: Baseline,
}

impl Arousal {
    /// Arousal of this turn (0..1) against the previous turns, then adds
    /// the turn to the baseline. Louder, higher and faster than usual raise it.
    pub fn observe(&mut self, f: &AcousticFeatures) -> (f32, Vec<String>) {
        let mut zs = Vec::new();
        let mut why = Vec::new();
        if let Some(z) = self.rms_db.z(f.rms_db as f64, 3.0) {
            zs.push(z);
            if z > 1.0 {
                why.push(format!("louder:+{:.1}sd", z));
            }
        }
        if let Some(f0) = f.f0_median_hz {
            if let Some(z) = self.f0_hz.z(f0 as f64, 15.0) {
                zs.push(z);
                if z > 1.0 {
                    why.push(format!("higher_pitch:+{:.1}sd", z));
                }
            }
            self.f0_hz.add(f0 as f64);
        }
        if let Some(r) = f.chars_per_min {
            if let Some(z) = self.rate_cpm.z(r as f64, 30.0) {
                zs.push(z * 0.5);
            }
            self.rate_cpm.add(r as f64);
        }
        self.rms_db.add(f.rms_db as f64);
        if zs.is_empty() {
            return (0.0, why);
        }
        let positive: f64 = zs.iter().map(|z| z.max(0.0)).sum::<f64>() / zs.len() as f64;
        (((positive / 2.0).min(1.0)) as f32, why)
    }
}

/// Combines text and acoustic evidence. Voice alone raises anger only a
/// little: a loud, cheerful customer is not angry.
pub fn combine(text_anger: f32, arousal: f32) -> f32 {
    let gain = if text_anger > 0.05 { 0.3 } else { 0.12 };
    (text_anger + gain * arousal).clamp(0.0, 1.0)
}
