//! Grounding: the author's own passages for a visitor's question. The page, `tabtwin eval`,
//! `tabtwin chat` and `tabtwin data build` all retrieve and render through this module.

pub mod index;
pub mod lexical;
pub mod render;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use index::Passage;
use lexical::Lexical;
pub use render::render_turn;

/// How many passages, how relevant, and how much text a turn may carry: one table, read by
/// every caller (the bindings expose it as `grounding_defaults`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Limits {
    /// At most this many passages per turn.
    pub top_k: usize,
    /// A passage scoring below this is not shown to the model: an off-map question gets no
    /// notes rather than the least irrelevant ones (which small models then repeat as fact).
    pub min_score: f32,
    /// Characters of passage text per turn (~4 characters a token in English): bounds the
    /// prefill a grounded turn adds.
    pub budget_chars: usize,
}

pub const LIMITS: Limits = Limits { top_k: 3, min_score: 0.2, budget_chars: 1000 };

/// A caller's changes to `LIMITS` (absent: keep the default).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    pub top_k: Option<usize>,
    pub min_score: Option<f32>,
    pub budget_chars: Option<usize>,
}

impl LimitOverrides {
    pub fn from_json(json: &str) -> Result<Self> {
        if json.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(json).map_err(|e| Error::Invalid(format!("grounding limits: {e}")))
    }
}

impl Limits {
    pub fn with(self, overrides: &LimitOverrides) -> Result<Self> {
        let limits = Limits {
            top_k: overrides.top_k.unwrap_or(self.top_k),
            min_score: overrides.min_score.unwrap_or(self.min_score),
            budget_chars: overrides.budget_chars.unwrap_or(self.budget_chars),
        };
        if limits.top_k == 0 || !(0.0..=1.0).contains(&limits.min_score) {
            return Err(Error::Invalid(format!(
                "grounding limits: top_k must be at least 1 and min_score within 0..1 (got {} and {})",
                limits.top_k, limits.min_score
            )));
        }
        Ok(limits)
    }
}

/// A passage used for a turn, as the page links it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Source {
    pub id: String,
    pub source: String,
    pub title: String,
    pub url: String,
    pub score: f32,
}

/// A user turn as the model sees it, and the passages in it (best first; empty: ungrounded).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Grounded {
    pub text: String,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hit {
    /// Position in the index.
    pub passage: usize,
    pub score: f32,
}

pub struct Grounding {
    passages: Vec<Passage>,
    lexical: Lexical,
}

impl Grounding {
    /// From the bytes of `grounding.<hash>.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let passages = index::parse(bytes)?;
        let lexical = Lexical::new(&passages);
        Ok(Self { passages, lexical })
    }

    pub fn passages(&self) -> &[Passage] {
        &self.passages
    }

    /// Every passage's score for `question`, best first (ties keep index order).
    pub fn rank(&self, question: &str) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self
            .lexical
            .scores(question)
            .into_iter()
            .enumerate()
            .map(|(passage, score)| Hit { passage, score })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits
    }

    /// The passages for `question` under `limits`: the best `top_k` above `min_score`, within
    /// `budget_chars` (the best one always fits: passages are shorter than the budget).
    pub fn search(&self, question: &str, limits: &Limits) -> Vec<Hit> {
        let mut chars = 0;
        let mut out = Vec::new();
        for hit in self.rank(question).into_iter().take(limits.top_k) {
            let len = self.passages[hit.passage].text.chars().count();
            if hit.score < limits.min_score || (!out.is_empty() && chars + len > limits.budget_chars) {
                break;
            }
            chars += len;
            out.push(hit);
        }
        out
    }

    /// `question` as the model sees it with its passages, and those passages (for source links).
    pub fn ground(&self, question: &str, limits: &Limits) -> Grounded {
        let hits = self.search(question, limits);
        let passages: Vec<&Passage> = hits.iter().map(|h| &self.passages[h.passage]).collect();
        let sources = hits
            .iter()
            .zip(&passages)
            .map(|(h, p)| Source {
                id: p.id.clone(),
                source: p.source.clone(),
                title: p.title.clone(),
                url: p.url.clone(),
                score: h.score,
            })
            .collect();
        Grounded { text: render_turn(question, &passages), sources }
    }
}

#[cfg(test)]
mod tests;
