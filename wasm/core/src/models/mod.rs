//! The models the core runs: one decoder ([`decoder`]) over shared blocks
//! ([`blocks`]), and one short file per architecture saying how it differs.
//! `arch.rs` is the only place that chooses between them.

pub mod blocks;
pub mod decoder;
pub mod gemma3;
pub mod llama;
pub mod qwen2;
pub mod qwen3;
#[cfg(test)]
pub mod scripted;

use crate::error::Result;

/// A decoder-only language model with its own KV cache.
pub trait CausalLm {
    /// Feed `tokens` starting at absolute position `pos` (0 starts a fresh
    /// sequence and drops the cache) and return the logits of the last position.
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>>;
    /// Forget the KV cache.
    fn reset(&mut self);
    /// Exchange the KV cache for the model's second one (empty at first, the same window): context-
    /// aware decoding keeps the prompt without its notes there, so one set of weights serves both.
    fn swap_cache(&mut self);
    /// Make the second cache hold the first `tokens` positions of this one (a copy): the prompt
    /// without notes shares the conversation before the question with the prompt with them.
    fn fork_cache(&mut self, tokens: usize);
    /// The most tokens the cache must hold (the conversation's window): its storage
    /// is sized for exactly this many.
    fn set_window(&mut self, _tokens: usize) {}
}
