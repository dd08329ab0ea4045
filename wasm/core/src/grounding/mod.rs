//! Grounding: the author's own passages for a visitor's question. The page, `tabtwin eval`,
//! `tabtwin chat` and `tabtwin data build` all retrieve and render through this module.

pub mod answerable;
pub mod asks;
pub mod embedder;
pub mod fit;
pub mod index;
pub mod lexical;
pub mod near_miss;
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
    /// The core's judgement of whether the notes answer (absent: no notes, or no fitted model).
    pub decision: Option<Decision>,
    /// What the reply is generated with because of it (the generation options `verdict` and
    /// `told_only`): the caller passes them to `start` with its own.
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// Whether the notes answer the question (`answerable.rs`), and what decided it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Decision {
    /// The model's probability that the notes answer (1 or 0 where a rule decided).
    pub probability: f32,
    pub verdict: answerable::Verdict,
    /// The model's features (absent where a rule decided).
    pub features: Option<answerable::Features>,
    pub by: DecidedBy,
}

/// What made a turn's decision: the fitted model, or one of the two rules that need none.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// The site's fitted answerability model, over the notes retrieval found.
    Model,
    /// The question asks who the twin is (`asks::identity`): answered from its system prompt,
    /// never refused.
    Identity,
    /// A personal question asking a fact (`asks::asks_fact`) that found no notes at all: nothing
    /// the twin was told answers it.
    NoNotes,
}

impl Decision {
    fn by_rule(verdict: answerable::Verdict, by: DecidedBy) -> Self {
        let probability = if verdict == answerable::Verdict::Answer { 1.0 } else { 0.0 };
        Decision { probability, verdict, features: None, by }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hit {
    /// Position in the index.
    pub passage: usize,
    pub score: f32,
    /// The embedding cosine alone (0 without an embedder).
    pub cosine: f32,
}

/// The words by which a question leans on the one before it ("what's its name?"): such a
/// question, or one of at most `FOLLOW_UP_TERMS` topic words, is matched together with the
/// visitor's previous question, so that "it" finds the cat the previous question asked about.
const REFERRING: &[&str] = &[
    "it", "its", "it's", "that", "there", "they", "them", "their", "he", "she", "his", "her", "this", "those", "these",
];
const FOLLOW_UP_TERMS: usize = 2;

/// What retrieval matches for `question` after `previous` (the visitor's last question, as typed).
pub fn query(question: &str, previous: Option<&str>) -> String {
    let Some(previous) = previous.filter(|p| !p.trim().is_empty()) else { return question.to_string() };
    let lower = question.to_lowercase();
    let refers = lower.split(|c: char| !c.is_alphanumeric() && c != '\'').any(|w| REFERRING.contains(&w));
    if refers || lexical::terms(question).len() <= FOLLOW_UP_TERMS {
        format!("{previous} {question}")
    } else {
        question.to_string()
    }
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
    /// The site's fitted answerability model ([grounding] answerability), when it has one.
    answerability: Option<answerable::Model>,
    /// [grounding] told_only: a grounded reply may not begin a name or number it was not told.
    told_only: bool,
    /// [grounding] nearest: the notes are rendered best last, nearest the question (`render.rs`).
    nearest: bool,
    /// [grounding] contrast: a grounded reply is decoded against its question without the notes
    /// (`contrast.rs`).
    contrast: bool,
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
        if let Some(model) = &file.answerability {
            model.check()?;
        }
        Ok(Self {
            passages: file.passages,
            lexical,
            embedder_record: file.embedder,
            vectors,
            embedder: None,
            answerability: file.answerability,
            told_only: file.told_only,
            nearest: file.nearest,
            contrast: file.contrast,
        })
    }

    /// The fitted answerability model, if the index carries one.
    pub fn answerability(&self) -> Option<&answerable::Model> {
        self.answerability.as_ref()
    }

    /// Use `model` (or none) from now on: `tabtwin eval` measures each method alone this way.
    pub fn set_answerability(&mut self, model: Option<answerable::Model>) -> Result<()> {
        if let Some(m) = &model {
            m.check()?;
        }
        self.answerability = model;
        Ok(())
    }

    pub fn set_told_only(&mut self, on: bool) {
        self.told_only = on;
    }

    pub fn told_only(&self) -> bool {
        self.told_only
    }

    pub fn set_nearest(&mut self, on: bool) {
        self.nearest = on;
    }

    pub fn nearest(&self) -> bool {
        self.nearest
    }

    pub fn set_contrast(&mut self, on: bool) {
        self.contrast = on;
    }

    pub fn contrast(&self) -> bool {
        self.contrast
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
        Ok(self.ranked(question)?.0)
    }

    /// `rank`, and the question's embedding it was ranked with (None without an embedder): the
    /// answerability features compare it with the notes' sentences without embedding it again.
    fn ranked(&self, question: &str) -> Result<(Vec<Hit>, Option<Vec<f32>>)> {
        let lexical = self.lexical.scores(question);
        let embedded = self.embed(question)?;
        let cosines: Vec<f32> = match &embedded {
            Some(q) => self.vectors.iter().map(|v| q.iter().zip(v).map(|(a, b)| a * b).sum::<f32>().max(0.0)).collect(),
            None => vec![0.0; lexical.len()],
        };
        let semantic = self.semantic();
        let mut hits: Vec<Hit> = lexical
            .iter()
            .zip(&cosines)
            .enumerate()
            .map(|(passage, (&lex, &cosine))| {
                let score = if semantic { SEMANTIC_WEIGHT * cosine + (1.0 - SEMANTIC_WEIGHT) * lex } else { lex };
                Hit { passage, score, cosine }
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok((hits, embedded))
    }

    /// The passages for `question` under `limits`: the best `top_k` above `min_score`, within
    /// `budget_chars` (the best one always fits: passages are shorter than the budget), leaving out
    /// the passages whose ids are in `exclude` (training data: a question whose answer is not there).
    pub fn search(&self, question: &str, limits: &Limits, exclude: &[String]) -> Result<Vec<Hit>> {
        Ok(self.searched(question, limits, exclude)?.0)
    }

    /// `search`, and the question's embedding (see `ranked`).
    fn searched(&self, question: &str, limits: &Limits, exclude: &[String]) -> Result<(Vec<Hit>, Option<Vec<f32>>)> {
        let mut chars = 0;
        let mut out = Vec::new();
        let (ranked, embedded) = self.ranked(question)?;
        let ranked = ranked.into_iter().filter(|h| !exclude.contains(&self.passages[h.passage].id));
        for hit in ranked.take(limits.top_k) {
            let len = self.passages[hit.passage].text.chars().count();
            if hit.score < limits.min_score || (!out.is_empty() && chars + len > limits.budget_chars) {
                break;
            }
            chars += len;
            out.push(hit);
        }
        Ok((out, embedded))
    }

    /// `question` as the model sees it with its passages, and those passages (for source links).
    pub fn ground(&self, question: &str, limits: &Limits) -> Result<Grounded> {
        self.ground_without(question, limits, &[])
    }

    /// `ground` for a question that follows `previous` (the visitor's last question as typed):
    /// a follow-up is matched with it (`query`); the notes then go before this question alone.
    pub fn ground_following(&self, question: &str, previous: Option<&str>, limits: &Limits) -> Result<Grounded> {
        self.ground_as(question, &query(question, previous), limits, &[])
    }

    /// `ground`, leaving out the passages whose ids are in `exclude`.
    pub fn ground_without(&self, question: &str, limits: &Limits, exclude: &[String]) -> Result<Grounded> {
        self.ground_as(question, question, limits, exclude)
    }

    /// The features of `question` against the notes retrieval gives it, and those notes' texts;
    /// None when it gets no notes.
    pub fn assess(
        &self,
        question: &str,
        limits: &Limits,
        exclude: &[String],
    ) -> Result<Option<(answerable::Features, Vec<String>)>> {
        let (hits, embedded) = self.searched(question, limits, exclude)?;
        self.features(question, embedded.as_deref(), &hits)
    }

    /// `question`'s features against `hits`; `embedded`: its embedding, when retrieval had one.
    fn features(
        &self,
        question: &str,
        embedded: Option<&[f32]>,
        hits: &[Hit],
    ) -> Result<Option<(answerable::Features, Vec<String>)>> {
        let Some(first) = hits.first() else { return Ok(None) };
        let notes: Vec<String> = hits.iter().map(|h| self.passages[h.passage].text.clone()).collect();
        let texts: Vec<&str> = notes.iter().map(String::as_str).collect();
        let cosine = hits.iter().map(|h| h.cosine).fold(0.0, f32::max);
        let sentence = match (&self.embedder, embedded) {
            (Some(embedder), Some(q)) => {
                let mut best = 0.0f32;
                for s in texts.iter().flat_map(|t| answerable::sentences(t)).take(answerable::MAX_SENTENCES) {
                    let v = embedder.embed(s)?;
                    best = best.max(q.iter().zip(&v).map(|(a, b)| a * b).sum());
                }
                best
            }
            _ => 0.0,
        };
        let f = answerable::features(question, &texts, first.score, cosine, sentence, |t| self.lexical.knows(t));
        Ok(Some((f, notes)))
    }

    fn ground_as(&self, question: &str, matched: &str, limits: &Limits, exclude: &[String]) -> Result<Grounded> {
        let (hits, embedded) = self.searched(matched, limits, exclude)?;
        let passages: Vec<&Passage> = hits.iter().map(|h| &self.passages[h.passage]).collect();
        let notes = passages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ");
        let identity = asks::identity(question);
        let personal = !identity && asks::personal(question, &notes);
        let about_the_twin = asks::about_the_twin(question, &notes);
        let decision = match &self.answerability {
            None => None,
            Some(_) if identity => Some(Decision::by_rule(answerable::Verdict::Answer, DecidedBy::Identity)),
            Some(_) if hits.is_empty() => (personal && asks::asks_fact(question))
                .then(|| Decision::by_rule(answerable::Verdict::Refuse, DecidedBy::NoNotes)),
            Some(model) => self.features(matched, embedded.as_deref(), &hits)?.map(|(features, _)| {
                let probability = model.probability(&features);
                let verdict = model.verdict(probability, personal);
                Decision { probability, verdict, features: Some(features), by: DecidedBy::Model }
            }),
        };
        let mut options = serde_json::Map::new();
        if let Some(d) = &decision {
            options.insert("verdict".into(), serde_json::to_value(d.verdict).unwrap_or_default());
        }
        // Only what the twin says of its person is held to what it was told, with notes or without:
        // "What is the capital of France?" may say "Paris" (told_only cost half the general-knowledge
        // answers when it held all).
        if self.told_only && about_the_twin {
            options.insert("told_only".into(), true.into());
        }
        // Only a turn with notes has something to contrast; a refusal decided already has no reply to.
        let refused = decision.as_ref().is_some_and(|d| d.verdict == answerable::Verdict::Refuse);
        if self.contrast && !hits.is_empty() && !refused {
            let rule = crate::contrast::Contrast::new(question);
            options.insert("contrast".into(), serde_json::to_value(rule).unwrap_or_default());
        }
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
        let text =
            if self.nearest { render::render_nearest(question, &passages) } else { render_turn(question, &passages) };
        Ok(Grounded { text, sources, decision, options })
    }
}

#[cfg(test)]
mod tests;
