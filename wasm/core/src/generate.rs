//! One reply, generated one token at a time.
//!
//! Generation is a small state machine (`Turn::new` after the prompt is fed, then
//! `step` until it returns `None`) rather than a blocking loop, so the browser worker
//! can yield to its event loop between tokens and a Stop message lands at once.
//! Each step samples a token, turns the tokens so far into displayable text (a
//! character split across tokens is held back until it is whole) and splits that
//! text into channels (answer, thinking, TOOL lines).

use serde::Serialize;

use std::collections::{HashSet, VecDeque};

use crate::bundle::Bundle;
use crate::channels::{visible_text, ChannelParser, Event};
use crate::contrast::Contrast;
use crate::error::Result;
use crate::options::GenerateOptions;
use crate::sampler::Sampler;
use crate::session::Session;
use crate::stream::TextStream;

/// Why a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model produced an end-of-turn token.
    EndOfTurn,
    /// The reply reached its `max_tokens`.
    MaxTokens,
    /// The token window is full.
    ContextFull,
    /// The caller stopped it.
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

/// What the core holds a reply to beyond sampling (`grounding::answerable`, `support.rs`).
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// The reply, decided already: the tokens of one of the twin's refusals.
    pub forced: VecDeque<u32>,
    /// The notes answer: a refusal may not open the reply (`Refusals::blocks`).
    pub no_refusal: bool,
    /// The words the model was told: a name or number outside them may not begin.
    pub known: Option<HashSet<String>>,
}

impl Guard {
    fn constrains(&self) -> bool {
        self.no_refusal || self.known.is_some()
    }
}

pub struct Turn {
    user: String,
    guard: Guard,
    allowed_apps: Option<Vec<String>>,
    sampler: Sampler,
    generated: Vec<u32>,
    stream: TextStream,
    channels: ChannelParser,
    /// The next token's logits.
    logits: Vec<f32>,
    /// Context-aware decoding (`contrast.rs`): the rule, and the next token's logits without notes.
    contrast: Option<(Contrast, Vec<f32>)>,
    max_tokens: usize,
    finished: Option<StopReason>,
    /// The held-back tail has been handed out after `finished` was set.
    flushed: bool,
}

impl Turn {
    /// A reply to `user` whose prompt has been fed; `logits` are its last position's (and, with
    /// `contrast`, the prompt without notes' last position's).
    pub fn new(
        user: &str,
        options: &GenerateOptions,
        logits: Vec<f32>,
        allowed_apps: Option<Vec<String>>,
        guard: Guard,
        contrast: Option<(Contrast, Vec<f32>)>,
    ) -> Self {
        Self {
            user: user.to_string(),
            guard,
            allowed_apps: allowed_apps.clone(),
            sampler: Sampler::new(options.sampling.clone()),
            generated: Vec::new(),
            stream: TextStream::default(),
            channels: ChannelParser::new(allowed_apps),
            logits,
            contrast,
            max_tokens: options.max_tokens,
            finished: None,
            flushed: false,
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The reply's tokens so far (the end-of-turn token is not part of the reply).
    pub fn generated(&self) -> &[u32] {
        &self.generated
    }

    pub fn finished(&self) -> Option<StopReason> {
        self.finished
    }

    /// End the reply (the first reason given is the one kept).
    pub fn finish(&mut self, reason: StopReason) {
        self.finished.get_or_insert(reason);
    }

    /// Generate one token and return the events it completes (often one text piece,
    /// sometimes none while a character, tag or TOOL line is incomplete). Once the
    /// reply is over, one more call hands out what was held back; then `Ok(None)`.
    pub fn step(&mut self, bundle: &mut Bundle, session: &mut Session) -> Result<Option<Vec<Event>>> {
        if self.finished.is_some() {
            return Ok(self.flush());
        }
        let forced = self.guard.forced.pop_front();
        if let (None, Some((rule, without_notes))) = (forced, &self.contrast) {
            rule.apply(&mut self.logits, without_notes);
        }
        let token = match forced {
            Some(token) => token,
            None if self.guard.constrains() => self.sample_guarded(bundle),
            None => self.sampler.sample(&mut self.logits, &self.generated),
        };
        if forced.is_none() && bundle.is_end_of_turn(token) {
            self.finish(StopReason::EndOfTurn);
            return Ok(Some(Vec::new()));
        }
        self.generated.push(token);
        let piece = self.stream.push(&bundle.tokenizer, &self.generated)?;
        let events = self.channels.push(&piece);
        if forced.is_some() && self.guard.forced.is_empty() {
            self.finish(StopReason::EndOfTurn);
        } else if self.generated.len() >= self.max_tokens {
            self.finish(StopReason::MaxTokens);
        } else if !session.has_room() {
            self.finish(StopReason::ContextFull);
        } else {
            self.logits = session.feed(bundle.model.as_mut(), token)?;
            if let Some((_, without_notes)) = &mut self.contrast {
                *without_notes = session.feed_contrast(bundle.model.as_mut(), token)?;
            }
        }
        Ok(Some(events))
    }

    /// The best token the guard lets through: what a visitor would read with it (no think block,
    /// no TOOL line) may not be on its way to a refusal, nor begin an untold name or number.
    fn sample_guarded(&mut self, bundle: &Bundle) -> u32 {
        let Self { sampler, logits, generated, guard, allowed_apps, .. } = self;
        let allowed = |candidate: u32| {
            // The end of the turn ends the last word too: "Gun" may begin "Gunnar", not end a reply.
            let ended = bundle.is_end_of_turn(candidate);
            let mut tokens = generated.clone();
            if !ended {
                tokens.push(candidate);
            }
            let Ok(raw) = bundle.tokenizer.decode(&tokens) else { return true };
            let visible = visible_text(&raw, allowed_apps.clone());
            !(guard.no_refusal && bundle.refusals.blocks(&visible))
                && guard.known.as_ref().is_none_or(|known| crate::support::may_continue(&visible, known, ended))
        };
        sampler.sample_allowed(logits, generated, allowed)
    }

    /// The events still held back when the reply ends, once.
    fn flush(&mut self) -> Option<Vec<Event>> {
        if self.flushed {
            return None;
        }
        self.flushed = true;
        let tail = self.stream.flush();
        let mut events = self.channels.push(&tail);
        events.extend(self.channels.finish());
        Some(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons_serialize_as_their_names() {
        for reason in [StopReason::EndOfTurn, StopReason::MaxTokens, StopReason::ContextFull, StopReason::Stopped] {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
    }
}
