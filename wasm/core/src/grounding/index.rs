//! The site's grounding index: passages of the author's own pages and Q&A, written by
//! `python build.py` (python/tabtwin/site/grounding.py) as `grounding.<hash>.json`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The index format this core reads; the build writes the same number.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Passage {
    /// Unique and stable: source + slug ("about/where-i-live").
    pub id: String,
    /// Which part of the site it comes from: about, projects, books, musings, talks, qa.
    pub source: String,
    /// The page's name, shown as the source link ("About", "Musing: Slack water").
    pub title: String,
    /// Relative to the site root; "" when the passage has no page (the author's Q&A).
    pub url: String,
    pub text: String,
    /// The passage's embedding (base64 of little-endian f16), present when the index names an embedder.
    #[serde(default, skip_serializing)]
    pub vector: Option<String>,
}

/// The embedding model the passages' vectors were computed with (the core's embedder, run by the
/// build through the host wasm, on the very GGUF the page downloads): its sha256 must be that file's.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmbedderRecord {
    pub name: String,
    pub sha256: String,
    pub dim: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    format: u32,
    #[serde(default)]
    pub embedder: Option<EmbedderRecord>,
    /// The site's fitted answerability model (`answerable.rs`), when [grounding] has one.
    #[serde(default)]
    pub answerability: Option<super::answerable::Model>,
    /// [grounding] told_only (`support.rs`): a grounded reply may not begin an untold name or number.
    #[serde(default)]
    pub told_only: bool,
    /// [grounding] nearest (`render.rs`): the best passage goes last, nearest the question.
    #[serde(default)]
    pub nearest: bool,
    /// [grounding] contrast (`contrast.rs`): a grounded reply is decoded against its question
    /// without the notes.
    #[serde(default)]
    pub contrast: bool,
    pub passages: Vec<Passage>,
}

/// A passage's vector, decoded and checked for length.
pub fn vector(p: &Passage, dim: usize) -> Result<Vec<f32>> {
    let missing =
        || Error::Invalid(format!("grounding index passage {:?} has no vector, but the index names an embedder", p.id));
    let bytes = base64::decode(p.vector.as_deref().ok_or_else(missing)?)
        .map_err(|e| Error::Invalid(format!("grounding index passage {:?}: vector is not base64: {e}", p.id)))?;
    if bytes.len() != dim * 2 {
        return Err(Error::Invalid(format!(
            "grounding index passage {:?}: vector has {} values, the embedder gives {dim}",
            p.id,
            bytes.len() / 2
        )));
    }
    Ok(bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect())
}

pub fn parse(bytes: &[u8]) -> Result<File> {
    let file: File = serde_json::from_slice(bytes)
        .map_err(|e| Error::Invalid(format!("the grounding index is not valid JSON of format {FORMAT}: {e}")))?;
    if file.format != FORMAT {
        return Err(Error::Invalid(format!(
            "the grounding index has format {}; this core reads format {FORMAT} (rebuild the site)",
            file.format
        )));
    }
    for (i, p) in file.passages.iter().enumerate() {
        if p.text.trim().is_empty() || p.id.is_empty() {
            return Err(Error::Invalid(format!(
                "grounding index passage {} ({:?}) has an empty id or text",
                i + 1,
                p.id
            )));
        }
    }
    Ok(file)
}
