//! Test-only views into a conversation (exactness and KV-reuse tests in Python).
//! Compiled with the `probes` feature, which only the Python binding enables, so
//! the browser build does not carry them.

use crate::chat::Chat;
use crate::error::{Error, Result};

impl Chat {
    /// Drop the KV cache but keep the conversation: the next turn recomputes the
    /// whole prompt (used to prove that reuse changes nothing).
    pub fn forget_cache(&mut self) {
        self.finish_turn();
        self.session.forget_cache(self.bundle.model.as_mut());
    }

    /// Next-token logits after feeding `tokens[..prefix]` at once and the rest one
    /// token at a time through the KV cache, as generation does.
    pub fn logits_stepwise(&mut self, tokens: &[u32], prefix: usize) -> Result<Vec<f32>> {
        if prefix == 0 || prefix > tokens.len() {
            return Err(Error::Invalid(format!("prefix {prefix} must be in 1..={}", tokens.len())));
        }
        let mut logits = self.logits_for(&tokens[..prefix])?;
        for (pos, token) in tokens.iter().enumerate().skip(prefix) {
            logits = self.bundle.model.forward(&[*token], pos)?;
        }
        self.bundle.model.reset();
        Ok(logits)
    }

    /// Next-token logits for a raw token sequence from position 0 (drops the cache).
    pub fn logits_for(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        self.turn = None;
        self.session.forget_cache(self.bundle.model.as_mut());
        self.bundle.model.forward(tokens, 0)
    }
}
