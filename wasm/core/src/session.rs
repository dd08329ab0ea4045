//! The conversation as the model sees it: the turns so far, the token window they
//! must fit (oldest turns drop out whole), and the KV cache carried between turns
//! so that a new turn feeds the model only its new tokens.

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::models::CausalLm;
use crate::template::Message;

/// What one `prepare` call did: prompt tokens fed, and those still to feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Prepared {
    pub fed: usize,
    pub left: usize,
}

/// The smallest token window that can hold a prompt and an answer.
const MIN_CONTEXT_LIMIT: usize = 16;

pub struct Session {
    /// Finished turns: user, assistant, user, assistant...
    history: Vec<Message>,
    /// The tokens whose keys and values sit in the model's cache, in order.
    cached_tokens: Vec<u32>,
    /// The last prompt plus the reply, as text and as the tokens the model actually
    /// saw and produced. The model may generate a tokenization that re-encoding
    /// its text would not give back; building the next prompt on these tokens keeps
    /// the cached prefix valid and shows the model its own words unchanged.
    transcript_text: String,
    transcript_tokens: Vec<u32>,
    /// How many prompt tokens the last turn fed to the model (after reuse).
    last_prefill: usize,
    /// The token window: prompt + answer never exceed this.
    context_limit: usize,
    /// The model's own context length, the most `context_limit` may be.
    context_length: usize,
    /// Tokens in the model's second cache (the prompt without notes and the reply so far), while
    /// a turn is decoded against it.
    contrast_len: Option<usize>,
}

impl Session {
    pub fn new(context_length: usize) -> Self {
        Self {
            history: Vec::new(),
            cached_tokens: Vec::new(),
            transcript_text: String::new(),
            transcript_tokens: Vec::new(),
            last_prefill: 0,
            context_limit: context_length,
            context_length,
            contrast_len: None,
        }
    }

    pub fn history(&self) -> &[Message] {
        &self.history
    }

    /// Replace the turns (validated: user first, alternating, ending with the
    /// assistant; never a system message) and drop the cache.
    pub fn set_history(&mut self, messages: Vec<Message>, model: &mut dyn CausalLm) -> Result<()> {
        for (i, message) in messages.iter().enumerate() {
            let expected = if i % 2 == 0 { "user" } else { "assistant" };
            if message.role != expected {
                let why = if message.role == "system" {
                    "the system prompt comes from the model (or set_system_prompt), not the history".to_string()
                } else {
                    format!("turns alternate user, assistant; this one should be {expected}")
                };
                return Err(Error::Invalid(format!("history message {} has role {:?}: {why}", i + 1, message.role)));
            }
        }
        if messages.len() % 2 == 1 {
            return Err(Error::Invalid(format!(
                "the history ends with a user message (message {}); the next user message is what start() answers",
                messages.len()
            )));
        }
        self.reset(model);
        self.history = messages;
        Ok(())
    }

    /// Forget the turns and the cache.
    pub fn reset(&mut self, model: &mut dyn CausalLm) {
        self.history.clear();
        self.transcript_text.clear();
        self.transcript_tokens.clear();
        self.forget_cache(model);
    }

    /// Drop the KV cache but keep the turns: the next turn recomputes its whole prompt.
    pub fn forget_cache(&mut self, model: &mut dyn CausalLm) {
        self.cached_tokens.clear();
        model.reset();
    }

    pub fn set_context_limit(&mut self, tokens: usize) -> Result<()> {
        if tokens < MIN_CONTEXT_LIMIT {
            return Err(Error::Invalid(format!(
                "a context limit of {tokens} tokens is too small (at least {MIN_CONTEXT_LIMIT})"
            )));
        }
        self.context_limit = tokens.min(self.context_length);
        Ok(())
    }

    pub fn context_limit(&self) -> usize {
        self.context_limit
    }

    pub fn last_prefill(&self) -> usize {
        self.last_prefill
    }

    /// Feed the prompt for `user` and return the logits of its last position. Older
    /// turns are dropped whole, oldest first, until prompt + `max_tokens` fits the
    /// window; the system prompt stays. With `without` (context-aware decoding, `contrast.rs`),
    /// the same turns followed by `without` go into the model's second cache too, and the logits
    /// of its last position come second.
    pub fn begin_turn(
        &mut self,
        bundle: &mut Bundle,
        system: Option<&str>,
        user: &str,
        max_tokens: usize,
        without: Option<&str>,
    ) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
        let budget = self.context_limit.saturating_sub(max_tokens);
        let (prompt, contrast) = loop {
            let (text, tokens) = self.prompt(bundle, system, user)?;
            if tokens.len() <= budget {
                // Before the transcript moves on: both prompts reuse the tokens of the turns so far.
                let contrast = without.map(|w| self.prompt(bundle, system, w)).transpose()?;
                self.transcript_text = text;
                break (tokens, contrast.map(|(_, tokens)| tokens));
            }
            if self.history.is_empty() {
                return Err(Error::Invalid(format!(
                    "the message needs {} prompt tokens; with {max_tokens} reserved for the answer \
                     the model's context of {} is too small",
                    tokens.len(),
                    self.context_limit
                )));
            }
            let drop = self.history.iter().skip(1).position(|m| m.role == "user").map_or(self.history.len(), |i| i + 1);
            self.history.drain(..drop);
        };
        let (logits, fed) = self.prefill(bundle.model.as_mut(), &prompt, usize::MAX)?;
        self.last_prefill = fed;
        self.transcript_tokens = prompt;
        self.contrast_len = None;
        let contrast = contrast.map(|tokens| self.prefill_contrast(bundle.model.as_mut(), &tokens)).transpose()?;
        Ok((logits, contrast))
    }

    /// Feed the prompt without notes into the second cache: the turns before the question, which
    /// it shares with the prompt just fed, are copied from the first cache, not fed again.
    fn prefill_contrast(&mut self, model: &mut dyn CausalLm, prompt: &[u32]) -> Result<Vec<f32>> {
        let shared = self.cached_tokens.iter().zip(prompt).take_while(|(a, b)| a == b).count();
        let start = shared.min(prompt.len().saturating_sub(1));
        model.fork_cache(start);
        model.swap_cache();
        let logits = model.forward(&prompt[start..], start);
        model.swap_cache();
        self.contrast_len = Some(prompt.len());
        logits
    }

    /// Feed one generated token to the prompt without notes, after `feed`: its next logits.
    pub fn feed_contrast(&mut self, model: &mut dyn CausalLm, token: u32) -> Result<Vec<f32>> {
        let pos =
            self.contrast_len.ok_or_else(|| Error::Invalid("no prompt without notes was fed for this turn".into()))?;
        model.swap_cache();
        let logits = model.forward(&[token], pos);
        model.swap_cache();
        self.contrast_len = Some(pos + 1);
        logits
    }

    /// Feed up to `most` tokens of the prompt `user` would have, past what the cache already
    /// shares with it, so that its keys and values are there before the turn begins (the page
    /// calls this while the visitor types, a chunk at a time so that Enter never waits long):
    /// `begin_turn` then feeds only what differs. Nothing else changes: no turn is dropped, the
    /// transcript stays. Nothing is fed when the prompt would not fit without dropping a turn.
    pub fn prepare(
        &mut self,
        bundle: &mut Bundle,
        system: Option<&str>,
        user: &str,
        max_tokens: usize,
        most: usize,
    ) -> Result<Prepared> {
        let (_, prompt) = self.prompt(bundle, system, user)?;
        if prompt.len() > self.context_limit.saturating_sub(max_tokens) || most == 0 {
            return Ok(Prepared { fed: 0, left: 0 });
        }
        let fed = self.prefill(bundle.model.as_mut(), &prompt, most)?.1;
        Ok(Prepared { fed, left: prompt.len() - self.cached_tokens.len() })
    }

    /// The prompt a reply to `user` starts from, after the turns so far: its text and tokens.
    fn prompt(&self, bundle: &Bundle, system: Option<&str>, user: &str) -> Result<(String, Vec<u32>)> {
        let mut conversation = self.history.clone();
        conversation.push(Message::new("user", user));
        let text = bundle.render(system, &conversation)?;
        let tokens = self.prompt_tokens(bundle, &text)?;
        Ok((text, tokens))
    }

    /// Tokens for a rendered prompt: the transcript's own tokens for the part that
    /// repeats it, fresh tokens for what is new.
    fn prompt_tokens(&self, bundle: &Bundle, text: &str) -> Result<Vec<u32>> {
        match text.strip_prefix(self.transcript_text.as_str()) {
            Some(rest) if !self.transcript_text.is_empty() && !rest.is_empty() => {
                let mut tokens = self.transcript_tokens.clone();
                tokens.extend(bundle.tokenizer.encode(rest)?);
                Ok(tokens)
            }
            _ => bundle.tokenizer.encode(text),
        }
    }

    /// Feed the prompt, reusing the longest prefix it shares with the cached tokens (the last
    /// turn's, or a prepared prompt's); at least its last token is fed, for the logits. A token's
    /// keys and values depend only on the tokens before it, so the logits are those of feeding
    /// the whole prompt afresh. Feeds at most `most` tokens (≥ 1); returns the logits after the
    /// last one fed and how many were fed.
    fn prefill(&mut self, model: &mut dyn CausalLm, prompt: &[u32], most: usize) -> Result<(Vec<f32>, usize)> {
        let shared = self.cached_tokens.iter().zip(prompt).take_while(|(a, b)| a == b).count();
        let start = shared.min(prompt.len().saturating_sub(1));
        if start == 0 {
            self.forget_cache(model);
        }
        self.cached_tokens.truncate(start);
        let end = prompt.len().min(start.saturating_add(most.max(1)));
        let logits = model.forward(&prompt[start..end], start)?;
        self.cached_tokens.extend_from_slice(&prompt[start..end]);
        Ok((logits, end - start))
    }

    /// Whether one more token fits the window after the cached ones.
    pub fn has_room(&self) -> bool {
        self.cached_tokens.len() + 1 < self.context_limit
    }

    /// Feed one generated token and return the next position's logits.
    pub fn feed(&mut self, model: &mut dyn CausalLm, token: u32) -> Result<Vec<f32>> {
        let logits = model.forward(&[token], self.cached_tokens.len())?;
        self.cached_tokens.push(token);
        Ok(logits)
    }

    /// Append a finished (or stopped) turn: its text to the history, its tokens to the transcript.
    pub fn end_turn(&mut self, user: &str, reply: &str, generated: &[u32]) {
        self.transcript_text.push_str(reply);
        self.transcript_tokens.extend_from_slice(generated);
        self.history.push(Message::new("user", user));
        self.history.push(Message::new("assistant", reply));
    }
}
