//! Turning generated token ids into text that is safe to display piece by piece.
//!
//! Byte-level BPE splits multi-byte characters (emoji, CJK) across tokens; decoding
//! one token at a time would show U+FFFD. We decode the whole reply and hand out
//! only the new suffix, holding it back while it ends in an incomplete character.

use crate::error::Result;
use crate::tokenizer::TextTokenizer;

#[derive(Default)]
pub struct TextStream {
    emitted: String,
    pending: String,
}

impl TextStream {
    /// The new text after `generated` grew by one token (may be empty).
    pub fn push(&mut self, tokenizer: &TextTokenizer, generated: &[u32]) -> Result<String> {
        let text = tokenizer.decode(generated)?;
        if text.ends_with('\u{FFFD}') {
            self.pending = text;
            return Ok(String::new());
        }
        self.pending.clear();
        let piece = text.get(self.emitted.len()..).unwrap_or_default().to_string();
        self.emitted = text;
        Ok(piece)
    }

    /// Whatever is held back when the reply ends (a genuinely invalid tail is shown as U+FFFD).
    pub fn flush(&mut self) -> String {
        if self.pending.is_empty() {
            return String::new();
        }
        let text = std::mem::take(&mut self.pending);
        let piece = text.get(self.emitted.len()..).unwrap_or_default().to_string();
        self.emitted = text;
        piece
    }
}
