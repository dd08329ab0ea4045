//! Whether a reply is the twin saying it does not know. A twin's GGUF carries the refusals it
//! was trained to give (`tabtwin.refusals`, the run config's `[data] dont_know`); a reply that
//! opens the way one of them opens is one. The page then shows the passages the turn carried
//! as "looked in", not as the sources of an answer: a refusal used none of them.
//!
//! Only the opening is compared (up to the first `;`, `.`, `,`, `:`, `!` or `?`): a small twin
//! keeps the start of a line it was trained on and varies the rest. Case, curly apostrophes,
//! runs of spaces and contractions do not count: "That's not in" opens like "That isn't in".

use crate::error::{Error, Result};
use crate::keys;

/// How any reply opens that admits not knowing, normalized: a reply the core has judged answerable
/// may not open with these either (`blocks`), whatever the twin was trained to say.
const COMMON_OPENINGS: &[&str] = &[
    "i don't know",
    "i do not know",
    "i'm not sure",
    "i am not sure",
    "i have no idea",
    "i can't say",
    "i cannot say",
    "i've never written",
    "i haven't written",
    "my notes don't say",
];

/// The openings of a twin's refusals, normalized; empty for a model without `tabtwin.refusals`.
#[derive(Debug, Clone, Default)]
pub struct Refusals {
    openings: Vec<String>,
    /// The refusals as written: what the twin says when the core decides its notes cannot answer.
    lines: Vec<String>,
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
        Ok(Self { openings, lines })
    }

    /// The trained refusal the twin gives to `question` when its notes cannot answer: one of its
    /// own lines, chosen by the question's words so the same question gets the same line.
    pub fn for_question(&self, question: &str) -> Option<&str> {
        if self.lines.is_empty() {
            return None;
        }
        // FNV-1a: the same on every target, so the page and `tabtwin eval` pick the same line.
        let hash = normalize(question)
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        Some(&self.lines[(hash % self.lines.len() as u64) as usize])
    }

    /// Whether a reply that begins `reply` is on its way to a refusal: it opens with one (the
    /// twin's or a common one), or it has gone past its first word into one.
    pub fn blocks(&self, reply: &str) -> bool {
        let written = normalize(reply);
        // Past the first word as written: "That's" alone expands to two words, and may still open
        // "That's right".
        let past_first_word = written.trim_end().contains(' ') || written.ends_with(' ');
        let expanded = expand(&written);
        let openings = self.openings.iter().map(String::as_str).chain(COMMON_OPENINGS.iter().copied());
        openings.into_iter().any(|o| {
            let on_its_way =
                |reply: &str, o: &str| reply.starts_with(o) || (past_first_word && o.starts_with(reply.trim_end()));
            // As written, so that "That isn" is caught before its "'t"; and expanded, so that a
            // contraction the twin was not trained on is caught too.
            on_its_way(&written, o) || on_its_way(&expanded, &expand(o))
        })
    }

    /// The openings a reply is compared with, normalized.
    pub fn openings(&self) -> &[String] {
        &self.openings
    }

    /// Whether `reply` (the text a visitor reads: no think block, no TOOL line) is a refusal.
    pub fn is_refusal(&self, reply: &str) -> bool {
        let reply = expand(&normalize(reply));
        self.openings.iter().any(|o| reply.starts_with(&expand(o)))
    }
}

/// A line's words up to its first punctuation, normalized.
fn opening(line: &str) -> String {
    let end = line.find([';', '.', ',', ':', '!', '?']).unwrap_or(line.len());
    normalize(&line[..end])
}

/// Normalized `text` with its contractions written out ("that's" -> "that is", "isn't" -> "is not"):
/// a small twin keeps a refusal's words and swaps its contractions. "'s" is read as "is" even where
/// it is a possessive; only openings are compared, and a refusal does not open with one.
fn expand(text: &str) -> String {
    const WHOLE: &[(&str, &str)] = &[("can't", "can not"), ("cannot", "can not"), ("won't", "will not")];
    const ENDINGS: &[(&str, &str)] = &[
        ("n't", " not"),
        ("'m", " am"),
        ("'re", " are"),
        ("'ve", " have"),
        ("'ll", " will"),
        ("'d", " would"),
        ("'s", " is"),
    ];
    let words = text.split(' ').map(|word| {
        if let Some((_, full)) = WHOLE.iter().find(|(short, _)| *short == word) {
            return full.to_string();
        }
        match ENDINGS.iter().find(|(end, _)| word.len() > end.len() && word.ends_with(end)) {
            Some((end, full)) => format!("{}{full}", &word[..word.len() - end.len()]),
            None => word.to_string(),
        }
    });
    words.collect::<Vec<_>>().join(" ")
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
            "That's not in anything I have written, so I don't know.",
            "I do not know; my notes do not say.",
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
    fn a_reply_on_its_way_to_a_refusal_is_blocked_and_an_answer_is_not() {
        let r = demo();
        for begun in ["I don", "I don't know", "That isn't", "I'm not sure", "i do not", "That's not", "That is not in"]
        {
            assert!(r.blocks(begun), "{begun}");
        }
        for begun in ["I", "I live", "That", "That's", "That's right", "My cat", "I don't think so", "Mercator"] {
            assert!(!r.blocks(begun), "{begun}");
        }
        assert!(Refusals::default().blocks("I have no idea"), "the common openings hold without a list");
    }

    #[test]
    fn a_question_gets_one_of_the_twins_own_refusals_the_same_each_time() {
        let r = demo();
        let line = r.for_question("What breed is Mercator?").unwrap();
        assert!(r.is_refusal(line));
        assert_eq!(r.for_question("what breed is  Mercator?"), Some(line));
        assert_eq!(Refusals::default().for_question("anything"), None);
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
