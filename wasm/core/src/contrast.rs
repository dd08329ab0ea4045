//! Context-aware decoding (Shi et al. 2023, "Trusting Your Evidence: Hallucinate Less with
//! Context-aware Decoding"): each next token is chosen from the logits with the turn's notes,
//! pushed away from the logits of the same conversation without them,
//!
//! ```text
//! logits = (1 + alpha) * with_notes - alpha * without_notes
//! ```
//!
//! so that what the notes add counts more than what the twin would say anyway (a trained "I don't
//! know", a guess from its weights). A token the notes themselves make unlikely (below `PLAUSIBLE`
//! times the likeliest) is not chosen while a plausible one is allowed, however the contrast ranks
//! it: a small model's logits far from its top are noise, and contrasting noise gives junk (the
//! adaptive plausibility constraint of Li et al. 2023, "Contrastive Decoding").
//!
//! The prompt without notes is the same conversation with the bare question; its keys and values
//! sit in the model's second cache (`CausalLm::swap_cache`), so a reply costs two decode passes a
//! token and the few tokens of the bare question to prefill.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The paper's weight for the contrast (its summarization setting; 1.0 for knowledge conflicts).
pub const ALPHA: f32 = 0.5;
/// A token less likely than this fraction of the likeliest, with the notes, is never chosen.
pub const PLAUSIBLE: f32 = 0.1;

/// A turn decoded against its question without notes: per turn, from the grounding's `options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contrast {
    pub alpha: f32,
    /// The user turn without notes (the question as the visitor asked it).
    pub without: String,
}

impl Contrast {
    pub fn new(without: &str) -> Self {
        Contrast { alpha: ALPHA, without: without.to_string() }
    }

    pub fn check(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha <= 4.0) || self.without.trim().is_empty() {
            return Err(Error::Invalid(format!(
                "generation option 'contrast': alpha must be within (0, 4] and the question without notes \
                 not empty (got {} and {:?})",
                self.alpha, self.without
            )));
        }
        Ok(())
    }

    /// `with_notes` contrasted with `without_notes`, in place.
    /// Implausible tokens stay below every plausible one, in their order with notes: when a guard
    /// (`generate.rs`) refuses every plausible token, the next choice is still the notes' best, not
    /// whichever token has the lowest id.
    pub fn apply(&self, with_notes: &mut [f32], without_notes: &[f32]) {
        let top = with_notes.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        // p >= PLAUSIBLE * p_max  <=>  logit >= top + ln(PLAUSIBLE).
        let floor = top + PLAUSIBLE.ln();
        let mut lowest = f32::INFINITY;
        for (l, &plain) in with_notes.iter_mut().zip(without_notes) {
            if *l >= floor {
                *l = (1.0 + self.alpha) * *l - self.alpha * plain;
                lowest = lowest.min(*l);
            }
        }
        for l in with_notes.iter_mut() {
            if *l < floor {
                *l = lowest - 1.0 + (*l - floor);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_notes_add_wins_over_what_the_twin_says_anyway() {
        // Token 0: "I don't know", likeliest with notes and far likelier without them.
        // Token 1: the answer the notes hold, a close second with notes, unlikely without.
        let mut with_notes = vec![3.0, 2.8, -5.0];
        let without = vec![4.0, 0.0, -5.0];
        Contrast::new("Where do you live?").apply(&mut with_notes, &without);
        assert!(with_notes[1] > with_notes[0], "{with_notes:?}");
    }

    #[test]
    fn a_token_the_notes_make_unlikely_is_never_chosen() {
        // Token 2 is unlikely with notes (e^-5 of the top) and even less so without: the contrast
        // alone would lift it over the top.
        let mut with_notes = vec![0.0, -1.0, -5.0];
        let without = vec![0.0, -1.0, -30.0];
        Contrast::new("q").apply(&mut with_notes, &without);
        assert!(with_notes[2] < with_notes[0].min(with_notes[1]), "{with_notes:?}");
    }

    #[test]
    fn implausible_tokens_keep_their_order_below_the_plausible_ones() {
        // A guard that refuses both plausible tokens gets token 3 next (the notes' third), not 2.
        let mut with_notes = vec![0.0, -0.5, -9.0, -4.0];
        Contrast::new("q").apply(&mut with_notes, &[0.0, 3.0, -9.0, -4.0]);
        assert!(with_notes[3] > with_notes[2] && with_notes[3] < with_notes[0].min(with_notes[1]), "{with_notes:?}");
    }

    #[test]
    fn a_bad_contrast_is_refused_naming_the_option() {
        for c in [Contrast { alpha: 0.0, without: "q".into() }, Contrast { alpha: 0.5, without: " ".into() }] {
            assert!(c.check().unwrap_err().to_string().contains("'contrast'"));
        }
    }
}
