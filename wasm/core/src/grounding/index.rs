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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: u32,
    passages: Vec<Passage>,
}

pub fn parse(bytes: &[u8]) -> Result<Vec<Passage>> {
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
    Ok(file.passages)
}
