//! Grounding: the author's own passages for a visitor's question. The page, `tabtwin eval`,
//! `tabtwin chat` and `tabtwin data build` all retrieve and render through this module.

pub mod embedder;
pub mod index;
pub mod lexical;
pub mod render;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use embedder::Embedder;
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

/// How much the meaning (embedding cosine) and the shared words (BM25) count in a passage's score.
/// Measured on the 96 recall canaries (`tabtwin eval` with [grounding]): the facts asked for were in
/// the best three passages for 93% at 0.6, 95% at 0.7, 97% at 0.8 and at 1.0; words still break ties
/// between passages on the same topic and carry retrieval alone when no embedder is loaded.
const SEMANTIC_WEIGHT: f32 = 0.8;

pub struct Grounding {
    passages: Vec<Passage>,
    lexical: Lexical,
    /// The index's embedder record and the passages' vectors (unit length), when it has them.
    embedder_record: Option<index::EmbedderRecord>,
    vectors: Vec<Vec<f32>>,
    /// The model that embeds questions; retrieval is lexical until it is attached.
    embedder: Option<Embedder>,
}

impl Grounding {
    /// From the bytes of `grounding.<hash>.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let file = index::parse(bytes)?;
        let vectors = match &file.embedder {
            Some(record) => file.passages.iter().map(|p| index::vector(p, record.dim)).collect::<Result<_>>()?,
            None => Vec::new(),
        };
        let lexical = Lexical::new(&file.passages);
        Ok(Self { passages: file.passages, lexical, embedder_record: file.embedder, vectors, embedder: None })
    }

    /// The embedding model the index names (the bytes of its GGUF): from now on questions are
    /// matched by meaning too. Refused unless they are the file the passages were embedded with.
    pub fn attach_embedder(&mut self, bytes: Vec<u8>) -> Result<()> {
        let record = self.embedder_record.as_ref().ok_or_else(|| {
            Error::Invalid("the grounding index has no passage vectors: rebuild it with an embedder".into())
        })?;
        let sha256 = crate::incoming::sha256_hex(&bytes);
        if sha256 != record.sha256 {
            return Err(Error::Invalid(format!(
                "this embedding model (sha256 {}...) is not the {} the index was built with ({}...)",
                &sha256[..12],
                record.name,
                &record.sha256[..record.sha256.len().min(12)]
            )));
        }
        let embedder = Embedder::from_bytes(bytes)?;
        if embedder.dim() != record.dim {
            return Err(Error::Invalid(format!(
                "the embedder gives {} values, the index {}",
                embedder.dim(),
                record.dim
            )));
        }
        self.embedder = Some(embedder);
        Ok(())
    }

    /// Whether questions are matched by meaning (an embedder is attached) or by words alone.
    pub fn semantic(&self) -> bool {
        self.embedder.is_some()
    }

    /// The embedder's vector for `text` (None without one).
    pub fn embed(&self, text: &str) -> Result<Option<Vec<f32>>> {
        self.embedder.as_ref().map(|e| e.embed(text)).transpose()
    }

    pub fn passages(&self) -> &[Passage] {
        &self.passages
    }

    /// Every passage's score for `question`, best first (ties keep index order): the BM25 score,
    /// blended with the embedding cosine when an embedder is attached.
    pub fn rank(&self, question: &str) -> Result<Vec<Hit>> {
        let lexical = self.lexical.scores(question);
        let scores: Vec<f32> = match self.embed(question)? {
            Some(q) => lexical
                .iter()
                .zip(&self.vectors)
                .map(|(lex, v)| {
                    let cosine: f32 = q.iter().zip(v).map(|(a, b)| a * b).sum();
                    SEMANTIC_WEIGHT * cosine.max(0.0) + (1.0 - SEMANTIC_WEIGHT) * lex
                })
                .collect(),
            None => lexical,
        };
        let mut hits: Vec<Hit> =
            scores.into_iter().enumerate().map(|(passage, score)| Hit { passage, score }).collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(hits)
    }

    /// The passages for `question` under `limits`: the best `top_k` above `min_score`, within
    /// `budget_chars` (the best one always fits: passages are shorter than the budget), leaving out
    /// the passages whose ids are in `exclude` (training data: a question whose answer is not there).
    pub fn search(&self, question: &str, limits: &Limits, exclude: &[String]) -> Result<Vec<Hit>> {
        let mut chars = 0;
        let mut out = Vec::new();
        let ranked = self.rank(question)?.into_iter().filter(|h| !exclude.contains(&self.passages[h.passage].id));
        for hit in ranked.take(limits.top_k) {
            let len = self.passages[hit.passage].text.chars().count();
            if hit.score < limits.min_score || (!out.is_empty() && chars + len > limits.budget_chars) {
                break;
            }
            chars += len;
            out.push(hit);
        }
        Ok(out)
    }

    /// `question` as the model sees it with its passages, and those passages (for source links).
    pub fn ground(&self, question: &str, limits: &Limits) -> Result<Grounded> {
        self.ground_without(question, limits, &[])
    }

    /// `ground`, leaving out the passages whose ids are in `exclude`.
    pub fn ground_without(&self, question: &str, limits: &Limits, exclude: &[String]) -> Result<Grounded> {
        let hits = self.search(question, limits, exclude)?;
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
        Ok(Grounded { text: render_turn(question, &passages), sources })
    }
}

#[cfg(test)]
mod tests;
