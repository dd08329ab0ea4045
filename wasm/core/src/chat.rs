//! A conversation with one model: history, prompt rendering, the token budget,
//! KV-cache reuse between turns, and generation one token at a time.
//!
//! Generation is a small state machine (`start` then `step` until it returns
//! `None`) rather than a blocking loop, so the browser worker can yield to its
//! event loop between tokens and a Stop message lands at once.

use crate::arch;
use crate::channels::{ChannelParser, Event};
use crate::error::{Error, Result};
use crate::gguf::GgufFile;
use crate::keys;
use crate::models::CausalLm;
use crate::sampler::{Sampler, SamplingOptions};
use crate::stream::TextStream;
use crate::template::{ChatTemplate, Message};
use crate::tokenizer::TextTokenizer;

/// Tokens that end an assistant turn in the chat formats we know, besides `eos_token_id`.
const END_OF_TURN_TOKENS: &[&str] = &["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>"];

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub max_new_tokens: usize,
    pub sampling: SamplingOptions,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self { max_new_tokens: 256, sampling: SamplingOptions::default() }
    }
}

/// Why a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    EndOfTurn,
    MaxTokens,
    ContextFull,
    Stopped,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::EndOfTurn => "end_of_turn",
            StopReason::MaxTokens => "max_tokens",
            StopReason::ContextFull => "context_full",
            StopReason::Stopped => "stopped",
        }
    }
}

/// Facts about the loaded model, read from its header.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub architecture: String,
    pub name: Option<String>,
    pub context_length: usize,
    pub vocab_size: usize,
    pub embedded_system_prompt: Option<String>,
    pub persona: Option<String>,
    pub tools: Option<String>,
}

struct Turn {
    user: String,
    sampler: Sampler,
    generated: Vec<u32>,
    stream: TextStream,
    channels: ChannelParser,
    logits: Vec<f32>,
    max_new_tokens: usize,
    finished: Option<StopReason>,
    /// The held-back tail has been handed out after `finished` was set.
    flushed: bool,
}

pub struct Chat {
    model: Box<dyn CausalLm>,
    tokenizer: TextTokenizer,
    template: ChatTemplate,
    stop_ids: Vec<u32>,
    info: ModelInfo,
    system_prompt: Option<String>,
    history: Vec<Message>,
    /// The tokens whose keys and values sit in the model's cache, in order.
    cached_tokens: Vec<u32>,
    /// The last prompt plus the reply, as text and as the tokens the model actually
    /// saw and produced. The model may generate a tokenization that re-encoding
    /// its text would not give back; building the next prompt on these tokens keeps
    /// the cached prefix valid and shows the model its own words unchanged.
    transcript_text: String,
    transcript_tokens: Vec<u32>,
    turn: Option<Turn>,
    /// How many prompt tokens the last `start` fed to the model (after reuse).
    last_prefill: usize,
    /// The token window: prompt + answer never exceed this.
    context_limit: usize,
}

impl Chat {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let file = GgufFile::parse(bytes)?;
        let architecture = arch::detect(&file)?.to_string();
        let tokenizer = TextTokenizer::from_gguf(&file)?;
        let token_at = |key: &str| -> Option<String> {
            file.opt_u32(key).and_then(|id| tokenizer.id_to_token(id))
        };
        let bos = token_at("tokenizer.ggml.bos_token_id").unwrap_or_default();
        let eos = token_at("tokenizer.ggml.eos_token_id").unwrap_or_default();
        let template_src = file.string("tokenizer.chat_template").map_err(|_| {
            Error::Template("the file has no tokenizer.chat_template; tabtwin needs the model's own chat format".into())
        })?;
        let template = ChatTemplate::new(template_src, bos, eos)?;

        let mut stop_ids: Vec<u32> = END_OF_TURN_TOKENS.iter().filter_map(|t| tokenizer.token_to_id(t)).collect();
        if let Some(eos_id) = file.opt_u32("tokenizer.ggml.eos_token_id") {
            stop_ids.push(eos_id);
        }
        let context_length = file.u32(&format!("{architecture}.context_length"))? as usize;
        let info = ModelInfo {
            context_length,
            vocab_size: file.strings("tokenizer.ggml.tokens")?.len(),
            name: file.opt_string("general.name").map(str::to_string),
            embedded_system_prompt: file.opt_string(keys::SYSTEM_PROMPT).map(str::to_string),
            persona: file.opt_string(keys::PERSONA).map(str::to_string),
            tools: file.opt_string(keys::TOOLS).map(str::to_string),
            architecture,
        };
        let model = arch::load(file)?;
        Ok(Self {
            model,
            tokenizer,
            template,
            stop_ids,
            system_prompt: info.embedded_system_prompt.clone(),
            info,
            history: Vec::new(),
            cached_tokens: Vec::new(),
            transcript_text: String::new(),
            transcript_tokens: Vec::new(),
            turn: None,
            last_prefill: 0,
            context_limit: context_length,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    pub fn system_prompt(&self) -> Option<&str> {
        self.system_prompt.as_deref()
    }

    /// Use `prompt` as the system message. A twin's file carries the prompt it was
    /// trained with, and any other one degrades it: refuse unless `force`.
    pub fn set_system_prompt(&mut self, prompt: Option<String>, force: bool) -> Result<()> {
        if let Some(embedded) = &self.info.embedded_system_prompt {
            if !force && prompt.as_deref() != Some(embedded.as_str()) {
                return Err(Error::Invalid(format!(
                    "this model carries its training system prompt ({}); \
                     replacing it degrades the twin, so it needs an explicit override",
                    keys::SYSTEM_PROMPT
                )));
            }
        }
        self.system_prompt = prompt;
        self.reset();
        Ok(())
    }

    /// The conversation so far, including a finished (or stopped) last reply.
    pub fn history(&self) -> Vec<Message> {
        let mut messages = self.history.clone();
        if let Some(turn) = self.turn.as_ref().filter(|t| t.finished.is_some()) {
            messages.push(Message::new("user", &turn.user));
            messages.push(Message::new("assistant", &self.tokenizer.decode(&turn.generated).unwrap_or_default()));
        }
        messages
    }

    /// Seed the conversation with earlier turns (a saved chat, a multi-turn eval):
    /// user and assistant messages alternating, starting with the user and ending
    /// with the assistant. The system prompt is the model's, never part of a history.
    /// The next `start` drops the oldest turns if they do not fit, as in a live chat.
    pub fn set_history(&mut self, messages: Vec<Message>) -> Result<()> {
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
        self.reset();
        self.history = messages;
        Ok(())
    }

    /// Forget the conversation (the system prompt stays).
    pub fn reset(&mut self) {
        self.history.clear();
        self.turn = None;
        self.cached_tokens.clear();
        self.transcript_text.clear();
        self.transcript_tokens.clear();
        self.model.reset();
    }

    /// Cap the conversation's token window below the model's context (the
    /// browser keeps conversations short to bound memory and prefill time).
    pub fn set_context_limit(&mut self, tokens: usize) -> Result<()> {
        if tokens < 16 {
            return Err(Error::Invalid(format!("a context limit of {tokens} tokens is too small")));
        }
        self.context_limit = tokens.min(self.info.context_length);
        Ok(())
    }

    pub fn context_limit(&self) -> usize {
        self.context_limit
    }

    /// Drop the KV cache but keep the conversation: the next turn recomputes the
    /// whole prompt (used to prove that reuse changes nothing).
    pub fn forget_cache(&mut self) {
        self.finish_turn();
        self.cached_tokens.clear();
        self.model.reset();
    }

    /// Prompt tokens fed to the model by the last `start`, after KV reuse.
    pub fn last_prefill_tokens(&self) -> usize {
        self.last_prefill
    }

    /// The prompt text the template renders for `messages` (after the system prompt).
    pub fn render(&self, conversation: &[Message]) -> Result<String> {
        let mut messages = Vec::with_capacity(conversation.len() + 1);
        if let Some(system) = &self.system_prompt {
            messages.push(Message::new("system", system));
        }
        messages.extend_from_slice(conversation);
        self.template.render(&messages)
    }

    /// Begin a reply to `user`. Older turns are dropped whole, oldest first,
    /// until prompt + `max_new_tokens` fits the context; the system prompt stays.
    pub fn start(&mut self, user: &str, options: &GenerateOptions) -> Result<()> {
        if user.trim().is_empty() {
            return Err(Error::Invalid("the message is empty".into()));
        }
        self.finish_turn();
        let budget = self.context_limit.saturating_sub(options.max_new_tokens);
        let prompt_tokens = loop {
            let mut conversation = self.history.clone();
            conversation.push(Message::new("user", user));
            let text = self.render(&conversation)?;
            let tokens = self.prompt_tokens(&text)?;
            if tokens.len() <= budget {
                self.transcript_text = text;
                break tokens;
            }
            if self.history.is_empty() {
                return Err(Error::Invalid(format!(
                    "the message needs {} prompt tokens; with {} reserved for the answer the model's context of {} is too small",
                    tokens.len(),
                    options.max_new_tokens,
                    self.context_limit
                )));
            }
            let drop = self.history.iter().skip(1).position(|m| m.role == "user").map_or(self.history.len(), |i| i + 1);
            self.history.drain(..drop);
        };
        let logits = self.prefill(&prompt_tokens)?;
        self.transcript_tokens = prompt_tokens;
        self.turn = Some(Turn {
            user: user.to_string(),
            sampler: Sampler::new(options.sampling.clone()),
            generated: Vec::new(),
            stream: TextStream::default(),
            channels: ChannelParser::new(self.allowed_apps()),
            logits,
            max_new_tokens: options.max_new_tokens,
            finished: None,
            flushed: false,
        });
        Ok(())
    }

    /// Tokens for a rendered prompt: the transcript's own tokens for the part that
    /// repeats it, fresh tokens for what is new.
    fn prompt_tokens(&self, text: &str) -> Result<Vec<u32>> {
        match text.strip_prefix(self.transcript_text.as_str()) {
            Some(rest) if !self.transcript_text.is_empty() && !rest.is_empty() => {
                let mut tokens = self.transcript_tokens.clone();
                tokens.extend(self.tokenizer.encode(rest)?);
                Ok(tokens)
            }
            _ => self.tokenizer.encode(text),
        }
    }

    /// Feed the prompt, reusing the cached prefix when the new prompt extends it.
    fn prefill(&mut self, prompt: &[u32]) -> Result<Vec<f32>> {
        let reusable = !self.cached_tokens.is_empty()
            && prompt.len() > self.cached_tokens.len()
            && prompt.starts_with(&self.cached_tokens);
        let start = if reusable { self.cached_tokens.len() } else { 0 };
        if start == 0 {
            self.model.reset();
            self.cached_tokens.clear();
        }
        let logits = self.model.forward(&prompt[start..], start)?;
        self.cached_tokens.extend_from_slice(&prompt[start..]);
        self.last_prefill = prompt.len() - start;
        Ok(logits)
    }

    /// The apps a TOOL line may open: the file's `tabtwin.tools` list, else any.
    fn allowed_apps(&self) -> Option<Vec<String>> {
        let tools = self.info.tools.as_deref()?;
        serde_json::from_str::<Vec<String>>(tools).ok()
    }

    /// Generate one token and return the events it completes (often one text
    /// piece, sometimes none while a character, tag or TOOL line is incomplete).
    /// `Ok(None)` once the reply is over and everything held back was handed out.
    pub fn step(&mut self) -> Result<Option<Vec<Event>>> {
        let Some(turn) = self.turn.as_mut() else { return Ok(None) };
        if turn.finished.is_some() {
            if turn.flushed {
                return Ok(None);
            }
            turn.flushed = true;
            let tail = turn.stream.flush();
            let mut events = turn.channels.push(&tail);
            events.extend(turn.channels.finish());
            return Ok(Some(events));
        }
        let token = turn.sampler.sample(&mut turn.logits, &turn.generated);
        if self.stop_ids.contains(&token) {
            turn.finished = Some(StopReason::EndOfTurn);
            return Ok(Some(Vec::new()));
        }
        turn.generated.push(token);
        let piece = turn.stream.push(&self.tokenizer, &turn.generated)?;
        let events = turn.channels.push(&piece);
        if turn.generated.len() >= turn.max_new_tokens {
            turn.finished = Some(StopReason::MaxTokens);
        } else if self.cached_tokens.len() + 1 >= self.context_limit {
            turn.finished = Some(StopReason::ContextFull);
        } else {
            let pos = self.cached_tokens.len();
            turn.logits = self.model.forward(&[token], pos)?;
            self.cached_tokens.push(token);
        }
        Ok(Some(events))
    }

    /// End the current reply now (the Stop button). What was said so far is kept.
    pub fn stop(&mut self) {
        if let Some(turn) = self.turn.as_mut() {
            turn.finished.get_or_insert(StopReason::Stopped);
        }
    }

    /// Why the current/last reply ended, if it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.turn.as_ref().and_then(|t| t.finished)
    }

    /// Close the active turn and append it to the history.
    fn finish_turn(&mut self) {
        if let Some(turn) = self.turn.take() {
            let reply = self.tokenizer.decode(&turn.generated).unwrap_or_default();
            self.transcript_text.push_str(&reply);
            self.transcript_tokens.extend_from_slice(&turn.generated);
            self.history.push(Message::new("user", &turn.user));
            self.history.push(Message::new("assistant", &reply));
        }
    }

    /// One whole reply, calling `on_event` for each event; `on_event` returns
    /// `false` to stop early. Returns the text channel of the reply.
    pub fn generate(
        &mut self,
        user: &str,
        options: &GenerateOptions,
        mut on_event: impl FnMut(&Event) -> bool,
    ) -> Result<String> {
        self.start(user, options)?;
        let mut reply = String::new();
        while let Some(events) = self.step()? {
            for event in &events {
                if let Event::Text(text) = event {
                    reply.push_str(text);
                }
                if !on_event(event) {
                    self.stop();
                }
            }
        }
        Ok(reply)
    }

    /// The raw text of the last reply, as the model produced it (tags and TOOL lines included).
    pub fn last_reply_raw(&self) -> Option<String> {
        let turn = self.turn.as_ref()?;
        self.tokenizer.decode(&turn.generated).ok()
    }

    /// Next-token logits after feeding `tokens[..prefix]` at once and the rest one
    /// token at a time through the KV cache, as generation does (for exactness tests).
    pub fn logits_stepwise(&mut self, tokens: &[u32], prefix: usize) -> Result<Vec<f32>> {
        if prefix == 0 || prefix > tokens.len() {
            return Err(Error::Invalid(format!("prefix {prefix} must be in 1..={}", tokens.len())));
        }
        let mut logits = self.logits_for(&tokens[..prefix])?;
        for (pos, token) in tokens.iter().enumerate().skip(prefix) {
            logits = self.model.forward(&[*token], pos)?;
        }
        self.model.reset();
        Ok(logits)
    }

    /// Next-token logits for a raw token sequence from position 0 (for exactness tests).
    pub fn logits_for(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        self.turn = None;
        self.cached_tokens.clear();
        self.model.reset();
        self.model.forward(tokens, 0)
    }
}
