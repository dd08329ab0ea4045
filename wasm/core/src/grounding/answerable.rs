//! Whether the retrieved notes answer the question, decided before the model writes a word.
//!
//! A 135M twin cannot tell "my notes hold the answer" from "my notes hold the topic": asked "What
//! breed is Mercator?" beside "my cat is called Mercator" it either invents a breed or, trained to
//! refuse more, refuses "What's your cat called?" too. So the core judges, from a few features it
//! computes anyway, with a logistic model fitted per site on the author's own Q&A (answerable) and
//! near-miss questions generated from it (`near_miss.rs`, unanswerable): `fit.rs`. The verdict has
//! three values, because a small feature set is only sure at its ends: `Answer` (a refusal may not
//! win), `Refuse` (the twin gives one of its own trained refusals, and the page shows where it
//! looked), `Open` (the twin decides, as before).

use serde::{Deserialize, Serialize};

use super::asks::{holds, wants};
use super::lexical;
use crate::error::{Error, Result};

/// The features, in the order the model's weights read them (also the fitted file's `features`,
/// checked on load so that a file fitted for another list is refused, not misread).
pub const FEATURES: [&str; 7] = ["score", "cosine", "sentence", "coverage", "unknown", "type_ok", "terms"];

/// What the core computes for a question and its notes (`FEATURES`, same order).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Features(pub [f32; 7]);

/// How many sentences of the notes (best passage first) are compared with the question: each is
/// one run of the embedder (~25 ms natively), which a grounded turn waits for before its first word.
pub const MAX_SENTENCES: usize = 6;

/// The sentences of the notes, each compared with the question by meaning: a Q&A passage's
/// question ("Q: ...") and each answer sentence are one each, so that "whats ur cats name" meets
/// "Q: What's your cat called?" and "What breed is Mercator?" meets no sentence that says a breed.
pub fn sentences(note: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = note.as_bytes();
    for (i, c) in note.char_indices() {
        let ends = matches!(c, '.' | '!' | '?') && bytes.get(i + 1).is_none_or(|b| *b == b' ');
        let marker = note[i..].starts_with(" A: ") || note[i..].starts_with(" Q: ");
        if ends || marker {
            let end = if ends { i + 1 } else { i };
            if note[start..end].trim().len() > 1 {
                out.push(note[start..end].trim());
            }
            start = end;
        }
    }
    if note[start..].trim().len() > 1 {
        out.push(note[start..].trim());
    }
    out.into_iter().map(|s| s.trim_start_matches("Q: ").trim_start_matches("A: ")).collect()
}

/// The features of `question` against the notes a turn carries: the best passage's blended score
/// and embedding cosine, the best cosine of a sentence of the notes (`sentences`), the share of
/// the question's words the notes hold, the share no passage of the whole index holds (`in_index`
/// says which words the index has), whether the notes hold the
/// kind of fact the question asks for, and how many words the question has (a short question says
/// little that the notes could miss).
pub fn features(
    question: &str,
    notes: &[&str],
    best_score: f32,
    best_cosine: f32,
    best_sentence: f32,
    in_index: impl Fn(&str) -> bool,
) -> Features {
    let mut asked = lexical::terms(question);
    asked.sort();
    asked.dedup();
    let joined = notes.join(" ");
    let held: std::collections::HashSet<String> = lexical::terms(&joined).into_iter().collect();
    let n = asked.len().max(1) as f32;
    let coverage = if asked.is_empty() { 1.0 } else { asked.iter().filter(|t| held.contains(*t)).count() as f32 / n };
    let unknown = if asked.is_empty() { 0.0 } else { asked.iter().filter(|t| !in_index(t)).count() as f32 / n };
    let type_ok = wants(question).is_none_or(|w| holds(&joined, w));
    let type_ok = if type_ok { 1.0 } else { 0.0 };
    Features([best_score, best_cosine, best_sentence, coverage, unknown, type_ok, asked.len().min(6) as f32 / 6.0])
}

/// What the core lets the twin do with a turn's notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The notes answer it: a refusal may not open the reply.
    Answer,
    /// The notes do not: the twin gives one of its trained refusals.
    Refuse,
    /// Not sure either way: the twin decides.
    Open,
}

/// The fitted model, as `tabtwin ground fit` writes it and the site's index carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// `FEATURES` when fitted: a file for another list is refused.
    pub features: Vec<String>,
    /// Each feature's mean and spread over the fitting examples (the weights read standardized values).
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: f32,
    /// Below this probability the notes do not answer: the twin refuses.
    pub refuse_below: f32,
    /// At or above it they do: a refusal may not win.
    pub answer_above: f32,
    /// What it was fitted on, for a reader: counts, and the rule that chose the thresholds.
    #[serde(default)]
    pub fitted: serde_json::Value,
}

impl Model {
    pub fn check(&self) -> Result<()> {
        let n = FEATURES.len();
        if self.features != FEATURES || self.mean.len() != n || self.scale.len() != n || self.weights.len() != n {
            return Err(Error::Invalid(format!(
                "the answerability model reads features {:?}; this core computes {FEATURES:?}: fit it again (tabtwin ground fit)",
                self.features
            )));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !finite(&self.mean) || !finite(&self.weights) || !self.scale.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(Error::Invalid("the answerability model has a weight that is not a finite number".into()));
        }
        if !(0.0..=1.0).contains(&self.refuse_below) || !(0.0..=1.0).contains(&self.answer_above) {
            return Err(Error::Invalid("the answerability thresholds must be within 0..1".into()));
        }
        Ok(())
    }

    /// The probability that the notes answer the question.
    pub fn probability(&self, f: &Features) -> f32 {
        let z: f32 = self.bias
            + f.0
                .iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .zip(&self.weights)
                .map(|(((x, m), s), w)| w * (x - m) / s)
                .sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }

    /// The verdict for a probability; "answer" wins where the bands meet (refusing what the notes
    /// answer is the failure visitors meet most).
    pub fn verdict(&self, probability: f32, personal: bool) -> Verdict {
        if probability >= self.answer_above {
            Verdict::Answer
        } else if probability < self.refuse_below && personal {
            Verdict::Refuse
        } else {
            Verdict::Open
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_word_and_a_missing_kind_of_fact_show_in_the_features() {
        let notes = ["Q: What's your cat called? A: My cat is called Mercator."];
        let known = |t: &str| ["cat", "call", "mercator"].contains(&t);
        let name = features("What is your cat called?", &notes, 0.8, 0.7, 0.9, known);
        let breed = features("What breed is Mercator?", &notes, 0.6, 0.5, 0.4, known);
        let age = features("How old is Mercator?", &notes, 0.6, 0.5, 0.4, known);
        assert_eq!(name.0[3], 1.0);
        assert_eq!(breed.0[3], 0.5);
        assert_eq!(breed.0[4], 0.5, "'breed' is in no passage of the index");
        assert_eq!(age.0[5], 0.0, "no number in the notes");
        assert_eq!(name.0[5], 1.0);
    }

    #[test]
    fn notes_split_into_sentences_and_a_q_and_a_into_its_question_and_answers() {
        assert_eq!(
            sentences("Q: What's your cat called? A: Mercator. He is grey. A: Mercator, after the mapmaker."),
            ["What's your cat called?", "Mercator.", "He is grey.", "Mercator, after the mapmaker."]
        );
        assert_eq!(sentences("Version 1.2 is out. Done"), ["Version 1.2 is out.", "Done"]);
    }

    fn model() -> Model {
        Model {
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            mean: vec![0.0; 7],
            scale: vec![1.0; 7],
            weights: vec![0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0],
            bias: -2.0,
            refuse_below: 0.3,
            answer_above: 0.8,
            fitted: serde_json::Value::Null,
        }
    }

    #[test]
    fn the_verdict_has_three_bands_and_refuses_only_a_personal_question() {
        let m = model();
        m.check().unwrap();
        let p = |coverage: f32| m.probability(&Features([0.0, 0.0, 0.0, coverage, 0.0, 1.0, 0.5]));
        assert_eq!(m.verdict(p(1.0), true), Verdict::Answer);
        assert_eq!(m.verdict(p(0.5), true), Verdict::Open);
        assert_eq!(m.verdict(p(0.0), true), Verdict::Refuse);
        assert_eq!(m.verdict(p(0.0), false), Verdict::Open);
    }

    #[test]
    fn a_model_for_other_features_or_with_bad_numbers_is_refused() {
        let mut m = model();
        m.features.pop();
        assert!(m.check().unwrap_err().to_string().contains("fit it again"));
        let mut m = model();
        m.scale[1] = 0.0;
        assert!(m.check().is_err());
        let mut m = model();
        m.refuse_below = 1.5;
        assert!(m.check().is_err());
    }
}
