//! A conversation with one model: the public face the bindings call. It holds
//! the loaded model (`bundle.rs`), the system prompt policy (`system_prompt.rs`),
//! the token window and KV cache (`session.rs`) and the reply being generated
//! (`generate.rs`), and keeps them in step.

use crate::bundle::{Bundle, ModelInfo};
use crate::channels::{visible_text, Event};
use crate::error::{Error, Result};
use crate::generate::{Guard, StopReason, Turn};
use crate::grounding::answerable::Verdict;
use crate::options::{GenerateOptions, Overrides};
use crate::session::{Prepared, Session};
use crate::system_prompt::SystemPrompt;
use crate::template::Message;
use crate::tokenizer::TextTokenizer;

pub struct Chat {
    pub(crate) bundle: Bundle,
    pub(crate) system_prompt: SystemPrompt,
    pub(crate) session: Session,
    /// The current reply, or the last one until the next `start` files it in the session.
    pub(crate) turn: Option<Turn>,
}

impl Chat {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        Ok(Self::new(Bundle::from_bytes(bytes)?))
    }

    pub fn new(bundle: Bundle) -> Self {
        Self {
            system_prompt: SystemPrompt::new(bundle.info.embedded_system_prompt.clone()),
            session: Session::new(bundle.info.context_length),
            bundle,
            turn: None,
        }
    }

    pub fn info(&self) -> &ModelInfo {
        &self.bundle.info
    }

    /// What a reply is generated with when the caller overrides nothing.
    pub fn defaults(&self) -> &GenerateOptions {
        &self.bundle.info.sampling
    }

    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.bundle.tokenizer
    }

    pub fn system_prompt(&self) -> Option<&str> {
        self.system_prompt.get()
    }

    /// Use `prompt` as the system message (a twin's embedded one is replaced only
    /// with `force`); the conversation starts over.
    pub fn set_system_prompt(&mut self, prompt: Option<String>, force: bool) -> Result<()> {
        self.system_prompt.set(prompt, force)?;
        self.reset();
        Ok(())
    }

    /// The conversation so far, including a finished (or stopped) last reply.
    pub fn history(&self) -> Vec<Message> {
        let mut messages = self.session.history().to_vec();
        if let Some(turn) = self.turn.as_ref().filter(|t| t.finished().is_some()) {
            messages.push(Message::new("user", turn.user()));
            messages.push(Message::new("assistant", &self.decode(turn.generated())));
        }
        messages
    }

    /// Seed the conversation with earlier turns (a saved chat, a multi-turn eval):
    /// user and assistant messages alternating, starting with the user and ending
    /// with the assistant. The system prompt is the model's, never part of a history.
    /// The next `start` drops the oldest turns if they do not fit, as in a live chat.
    pub fn set_history(&mut self, messages: Vec<Message>) -> Result<()> {
        self.session.set_history(messages, self.bundle.model.as_mut())?;
        self.turn = None;
        Ok(())
    }

    /// Forget the last question and its reply: "regenerate" then asks the question again on
    /// the conversation before it. A conversation of one exchange becomes empty.
    pub fn forget_last_exchange(&mut self) -> Result<()> {
        let mut kept = self.history();
        if kept.last().is_some_and(|m| m.role == "assistant") {
            kept.pop();
        }
        if kept.last().is_some_and(|m| m.role == "user") {
            kept.pop();
        }
        if kept.is_empty() {
            self.reset();
            return Ok(());
        }
        self.set_history(kept)
    }

    /// Forget the conversation (the system prompt stays).
    pub fn reset(&mut self) {
        self.turn = None;
        self.session.reset(self.bundle.model.as_mut());
    }

    /// Cap the conversation's token window below the model's context (the
    /// browser keeps conversations short to bound memory and prefill time).
    /// Cap the token window; the model's KV cache is sized for exactly this window.
    pub fn set_context_limit(&mut self, tokens: usize) -> Result<()> {
        self.session.set_context_limit(tokens)?;
        self.bundle.model.set_window(self.session.context_limit());
        Ok(())
    }

    pub fn context_limit(&self) -> usize {
        self.session.context_limit()
    }

    /// The prompt text the template renders for `conversation` (after the system prompt).
    pub fn render(&self, conversation: &[Message]) -> Result<String> {
        self.bundle.render(self.system_prompt.get(), conversation)
    }

    /// Begin a reply to `user` with the model's defaults and the caller's `overrides`;
    /// then call `step` until it returns `None`.
    pub fn start(&mut self, user: &str, overrides: &Overrides) -> Result<()> {
        if user.trim().is_empty() {
            return Err(Error::Invalid("the message is empty".into()));
        }
        let options = self.defaults().with(overrides)?;
        self.finish_turn();
        let guard = self.guard(user, &options)?;
        // A reply decided already (a forced refusal) has nothing to contrast.
        let contrast = options.contrast.clone().filter(|_| guard.forced.is_empty());
        let without = contrast.as_ref().map(|c| c.without.as_str());
        let system = self.system_prompt.get();
        let (logits, without_notes) =
            self.session.begin_turn(&mut self.bundle, system, user, options.max_tokens, without)?;
        let contrast = contrast.zip(without_notes);
        self.turn = Some(Turn::new(user, &options, logits, self.bundle.allowed_apps(), guard, contrast));
        Ok(())
    }

    /// What the turn's verdict and `told_only` hold the reply to. A refusal is one of the twin's
    /// own lines (a model without `tabtwin.refusals` has none to give, and decides itself).
    fn guard(&self, user: &str, options: &GenerateOptions) -> Result<Guard> {
        let mut guard = Guard::default();
        match options.verdict {
            Some(Verdict::Refuse) => {
                if let Some(line) = self.bundle.refusals.for_question(user) {
                    guard.forced = self.bundle.tokenizer.encode(line)?.into();
                }
            }
            Some(Verdict::Answer) => guard.no_refusal = true,
            Some(Verdict::Open) | None => {}
        }
        if options.told_only {
            guard.known = Some(crate::support::known(&self.told(user)));
        }
        Ok(guard)
    }

    /// Everything the model is told when it answers `user`: its system prompt and every user turn
    /// (a grounded one carries its notes).
    fn told<'a>(&'a self, user: &'a str) -> Vec<&'a str> {
        let mut told: Vec<&str> = self.system_prompt.get().into_iter().collect();
        told.extend(self.session.history().iter().filter(|m| m.role == "user").map(|m| m.content.as_str()));
        told.push(user);
        told
    }

    /// Feed up to `most` tokens of the prompt a reply to `user` would start from (with the
    /// caller's `overrides`, whose max_tokens bounds the window), so that `start` with the same
    /// or a longer `user` feeds only what changed: the page calls it while the visitor is still
    /// typing, a chunk at a time, until nothing is left. The last reply is filed in the history
    /// first, as `start` would. Nothing is fed when the prompt would only fit by dropping turns,
    /// which `start` alone decides.
    pub fn prepare(&mut self, user: &str, overrides: &Overrides, most: usize) -> Result<Prepared> {
        if self.turn.as_ref().is_some_and(|t| t.finished().is_none()) {
            return Err(Error::Invalid("a reply is being generated; prepare the next one after it ends".into()));
        }
        let options = self.defaults().with(overrides)?;
        self.finish_turn();
        self.session.prepare(&mut self.bundle, self.system_prompt.get(), user, options.max_tokens, most)
    }

    /// The events of the next token (see `Turn::step`); `Ok(None)` once the reply is over.
    pub fn step(&mut self) -> Result<Option<Vec<Event>>> {
        match self.turn.as_mut() {
            Some(turn) => turn.step(&mut self.bundle, &mut self.session),
            None => Ok(None),
        }
    }

    /// End the current reply now (the Stop button). What was said so far is kept.
    pub fn stop(&mut self) {
        if let Some(turn) = self.turn.as_mut() {
            turn.finish(StopReason::Stopped);
        }
    }

    /// Why the current/last reply ended, if it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.turn.as_ref().and_then(Turn::finished)
    }

    /// Prompt tokens the last `start` fed to the model: the cached prefix (the conversation so
    /// far, a prepared prompt) is not fed again.
    pub fn last_prefill_tokens(&self) -> usize {
        self.session.last_prefill()
    }

    /// Tokens the current/last reply has so far (the end-of-turn token not counted).
    pub fn generated_tokens(&self) -> usize {
        self.turn.as_ref().map_or(0, |t| t.generated().len())
    }

    /// One whole reply, calling `on_event` for each event; `on_event` returns
    /// `false` to stop early. Returns the text channel of the reply.
    pub fn generate(
        &mut self,
        user: &str,
        overrides: &Overrides,
        mut on_event: impl FnMut(&Event) -> bool,
    ) -> Result<String> {
        self.start(user, overrides)?;
        let mut reply = String::new();
        while let Some(events) = self.step()? {
            for event in &events {
                if let Event::Text { text } = event {
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
        self.bundle.tokenizer.decode(turn.generated()).ok()
    }

    /// Whether the last reply is the twin saying it does not know (`refusal.rs`): what a visitor
    /// reads of it (no think block, no TOOL line) opens like a refusal it was trained to give.
    pub fn last_reply_refused(&self) -> bool {
        self.last_reply_text().is_some_and(|text| self.bundle.refusals.is_refusal(&text))
    }

    /// The names and numbers of the last reply (what a visitor reads of it) that nothing the
    /// model was told states (`support.rs`): not its system prompt, not a user turn of the
    /// conversation, whose grounded turns carry their notes. Empty when there is no reply.
    pub fn last_reply_unsupported(&self) -> Vec<String> {
        let (Some(text), Some(turn)) = (self.last_reply_text(), self.turn.as_ref()) else { return Vec::new() };
        crate::support::unsupported(&text, &self.told(turn.user()))
    }

    /// What a visitor reads of the last reply: its text, without a think block or TOOL line.
    fn last_reply_text(&self) -> Option<String> {
        Some(visible_text(&self.last_reply_raw()?, self.bundle.allowed_apps()))
    }

    /// File the active reply in the session's history and transcript.
    pub(crate) fn finish_turn(&mut self) {
        if let Some(turn) = self.turn.take() {
            let reply = self.decode(turn.generated());
            self.session.end_turn(turn.user(), &reply, turn.generated());
        }
    }

    fn decode(&self, tokens: &[u32]) -> String {
        self.bundle.tokenizer.decode(tokens).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
