//! A fake [`CausalLm`] for the conversation tests: it answers with a script of
//! tokens (one-hot logits, so greedy sampling follows the script), records every
//! call, and checks that positions follow its cache as a real KV cache needs.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::CausalLm;
use crate::error::{Error, Result};

/// One `forward` call: the tokens fed and the position of the first.
pub type Call = (Vec<u32>, usize);

/// What the test keeps to steer the model and to read what it was fed.
#[derive(Clone, Default)]
pub struct Script {
    /// The tokens the model will predict next, in order; when empty it predicts `fallback`.
    pub replies: Rc<RefCell<VecDeque<u32>>>,
    /// Every `forward` as (tokens, pos); a `reset` is recorded as `(vec![], usize::MAX)`.
    pub calls: Rc<RefCell<Vec<Call>>>,
}

impl Script {
    pub fn say(&self, tokens: &[u32]) {
        self.replies.borrow_mut().extend(tokens);
    }

    /// The forward calls since the last reset.
    pub fn calls_since_reset(&self) -> Vec<Call> {
        let calls = self.calls.borrow();
        let start = calls.iter().rposition(|(_, pos)| *pos == usize::MAX).map_or(0, |i| i + 1);
        calls[start..].to_vec()
    }
}

pub struct ScriptedLm {
    vocab_size: usize,
    /// Predicted when the script is exhausted (the end-of-turn token, say).
    fallback: u32,
    script: Script,
    cached: usize,
    /// The second cache's length (`swap_cache`).
    spare: usize,
}

impl ScriptedLm {
    pub fn new(vocab_size: usize, fallback: u32, script: Script) -> Self {
        Self { vocab_size, fallback, script, cached: 0, spare: 0 }
    }
}

impl CausalLm for ScriptedLm {
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        if pos > self.cached {
            return Err(Error::Invalid(format!("fed at position {pos} but the cache holds {} tokens", self.cached)));
        }
        self.cached = pos + tokens.len(); // like the decoder: what lay past `pos` is dropped
        self.script.calls.borrow_mut().push((tokens.to_vec(), pos));
        let next = self.script.replies.borrow_mut().pop_front().unwrap_or(self.fallback);
        let mut logits = vec![0.0; self.vocab_size];
        logits[next as usize] = 10.0;
        Ok(logits)
    }

    fn reset(&mut self) {
        self.cached = 0;
        self.script.calls.borrow_mut().push((Vec::new(), usize::MAX));
    }

    fn swap_cache(&mut self) {
        std::mem::swap(&mut self.cached, &mut self.spare);
    }

    fn fork_cache(&mut self, tokens: usize) {
        self.spare = tokens.min(self.cached);
    }
}
