//! Turning generated token ids into text that is safe to display piece by piece.
//!
//! Byte-level BPE splits multi-byte characters (emoji, CJK) across tokens; decoding
//! one token at a time would show U+FFFD. We decode a short window of recent tokens
//! twice (with and without the newest ones) and hand out the difference, holding it
//! back while it ends in an incomplete character. The window starts a few tokens
//! before the unread ones so that decoding in context (merged bytes, spaces) is the
//! same as decoding the whole reply, while each step costs O(1) instead of O(reply).

use crate::error::Result;
use crate::tokenizer::TextTokenizer;

/// Tokens of already-shown context decoded again with the new ones.
const CONTEXT_TOKENS: usize = 4;

#[derive(Default)]
pub struct TextStream {
    /// Start of the decode window.
    prefix_offset: usize,
    /// Tokens before this have been handed out.
    read_offset: usize,
    /// Text held back at the end of the reply (an incomplete character), if any.
    pending: String,
}

impl TextStream {
    /// The new text after `generated` grew by one token (may be empty).
    pub fn push(&mut self, tokenizer: &TextTokenizer, generated: &[u32]) -> Result<String> {
        let shown = tokenizer.decode(&generated[self.prefix_offset..self.read_offset])?;
        let text = tokenizer.decode(&generated[self.prefix_offset..])?;
        if text.ends_with('\u{FFFD}') || text.len() < shown.len() || !text.starts_with(shown.as_str()) {
            self.pending = text.get(shown.len()..).unwrap_or_default().to_string();
            return Ok(String::new());
        }
        self.pending.clear();
        let piece = text[shown.len()..].to_string();
        self.read_offset = generated.len();
        self.prefix_offset = self.read_offset.saturating_sub(CONTEXT_TOKENS);
        Ok(piece)
    }

    /// Whatever is held back when the reply ends (a genuinely invalid tail is shown as U+FFFD).
    pub fn flush(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;

    use super::*;

    /// One token per byte (byte-level BPE without merges): every multi-byte character is split.
    fn bytes_tokenizer() -> TextTokenizer {
        let mut alphabet: Vec<char> = ByteLevel::alphabet().into_iter().collect();
        alphabet.sort();
        let tokens: Vec<String> = alphabet.iter().map(char::to_string).collect();
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        TextTokenizer::byte_level_bpe("gpt2", &refs, &[], &vec![1; refs.len()]).unwrap()
    }

    /// Random replies (ASCII, accents, CJK, emoji, and bytes that are no character at all),
    /// streamed a token at a time: the pieces and the flushed tail always add up to the whole
    /// reply decoded at once, and no step fails.
    #[test]
    fn streamed_pieces_add_up_to_the_whole_reply() {
        let tokenizer = bytes_tokenizer();
        let samples = ["a", " ", "é", "漢字", "🙂", "\n", "\u{301}"];
        let mut rng = crate::test_rng::Rng(0x0dec_0de5_u64);
        let mut next = move |n: usize| rng.below(n);
        for iteration in crate::test_rng::fuzz_iterations(3_000) {
            let mut ids = Vec::new();
            for _ in 0..1 + next(10) {
                if next(8) == 0 {
                    ids.push(tokenizer.encode("\u{80}").unwrap()[0]); // a lone lead byte: never a whole character
                } else {
                    ids.extend(tokenizer.encode(samples[next(samples.len())]).unwrap());
                }
            }
            let mut stream = TextStream::default();
            let mut shown = String::new();
            for end in 1..=ids.len() {
                shown += &stream.push(&tokenizer, &ids[..end]).unwrap();
            }
            shown += &stream.flush();
            assert_eq!(shown, tokenizer.decode(&ids).unwrap(), "iteration {iteration}: {ids:?}");
        }
    }
}
