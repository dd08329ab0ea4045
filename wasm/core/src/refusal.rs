//! Whether a reply is the twin saying it does not know. A twin's GGUF carries the refusals it
//! was trained to give (`tabtwin.refusals`, the run config's `[data] dont_know`); a reply that
//! opens the way one of them opens is one. The page then shows the passages the turn carried
//! as "looked in", not as the sources of an answer: a refusal used none of them.
//!
//! Only the opening is compared (up to the first `;`, `.`, `,`, `:`, `!` or `?`): a small twin
//! keeps the start of a line it was trained on and varies the rest. Case, curly apostrophes and
//! runs of spaces do not count.

use crate::error::{Error, Result};
use crate::keys;

/// The openings of a twin's refusals, normalized; empty for a model without `tabtwin.refusals`.
#[derive(Debug, Clone, Default)]
pub struct Refusals {
    openings: Vec<String>,
}

impl Refusals {
    /// `tabtwin.refusals` as the file holds it: refused unless it is a JSON list of non-empty
    /// strings (read as "no list", a bad one would quietly turn the marking off).
    pub fn from_metadata(raw: Option<&str>) -> Result<Self> {
        let Some(raw) = raw else { return Ok(Self::default()) };
        let bad = |why: String| Error::Metadata {
            key: keys::REFUSALS.to_string(),
            problem: format!(
                "expected a JSON list of the twin's refusals like [\"I don't know.\"], found {raw:.80?} ({why})"
            ),
        };
        let lines: Vec<String> = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        let mut openings = Vec::with_capacity(lines.len());
        for line in &lines {
            let opening = opening(line);
            if opening.is_empty() {
                return Err(bad(format!("{line:?} has no words before its first punctuation")));
            }
            openings.push(opening);
        }
        Ok(Self { openings })
    }

    /// The openings a reply is compared with, normalized.
    pub fn openings(&self) -> &[String] {
        &self.openings
    }

    /// Whether `reply` (the text a visitor reads: no think block, no TOOL line) is a refusal.
    pub fn is_refusal(&self, reply: &str) -> bool {
        let reply = normalize(reply);
        self.openings.iter().any(|o| reply.starts_with(o.as_str()))
    }
}

/// A line's words up to its first punctuation, normalized.
fn opening(line: &str) -> String {
    let end = line.find([';', '.', ',', ':', '!', '?']).unwrap_or(line.len());
    normalize(&line[..end])
}

fn normalize(text: &str) -> String {
    text.replace(['\u{2019}', '\u{2018}'], "'").split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Refusals {
        let lines = r#"["I don't know; my notes don't say, and I'd rather not guess.",
            "That isn't in anything I've written, so I don't know."]"#;
        Refusals::from_metadata(Some(lines)).unwrap()
    }

    #[test]
    fn a_reply_that_opens_like_a_trained_refusal_is_one() {
        let r = demo();
        for reply in [
            "I don't know; my notes don't say, and I'd rather not guess.",
            "I don't know. I've never written about that, so I won't make it up.",
            "  i DON\u{2019}T   know, sorry.",
            "That isn't in anything I've written.",
        ] {
            assert!(r.is_refusal(reply), "{reply}");
        }
    }

    #[test]
    fn an_answer_is_not_a_refusal() {
        let r = demo();
        for reply in [
            "I was born in Uppsala.",
            "Rust. I don't know a language I like more.",
            "I don't think so; Tärnan is a Folkboat.",
            "That is in my notes: Majorna.",
            "",
        ] {
            assert!(!r.is_refusal(reply), "{reply}");
        }
    }

    #[test]
    fn a_model_without_the_key_marks_nothing() {
        assert!(!Refusals::from_metadata(None).unwrap().is_refusal("I don't know."));
    }

    #[test]
    fn a_bad_list_is_refused_naming_the_key() {
        for raw in ["\"I don't know\"", "[1, 2]", "{}", "[\"; nothing before\"]", "not json"] {
            let err = Refusals::from_metadata(Some(raw)).unwrap_err().to_string();
            assert!(err.contains("tabtwin.refusals") && err.contains("JSON list"), "{raw}: {err}");
        }
    }
}
