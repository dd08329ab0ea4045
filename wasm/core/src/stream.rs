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
