//! wasm-bindgen binding: the `Chat` object the worker uses. Translation only —
//! every decision lives in tabtwin-core; core types cross as JSON strings.
//! Errors become JS exceptions (strings).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use tabtwin_core::{grounding, Message, Overrides, TranscribeOptions};

fn to_js(err: tabtwin_core::Error) -> JsError {
    JsError::new(&err.to_string())
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("core types always serialize")
}

/// A model file arriving in pieces, assembled in wasm memory where the model will
/// use it in place (the worker never holds the whole file in JS).
#[wasm_bindgen]
pub struct ModelBytes {
    inner: tabtwin_core::Incoming,
}

#[wasm_bindgen]
impl ModelBytes {
    /// Room for exactly `total` bytes; `hash` to check them with `verify` afterwards.
    #[wasm_bindgen(constructor)]
    pub fn new(total: usize, hash: bool) -> ModelBytes {
        ModelBytes { inner: tabtwin_core::Incoming::new(total, hash) }
    }

    /// Append the next piece (copied into wasm memory; the caller may drop it).
    pub fn push(&mut self, piece: &[u8]) -> Result<(), JsError> {
        self.inner.push(piece).map_err(to_js)
    }

    pub fn received(&self) -> usize {
        self.inner.received()
    }

    /// End the piece (shard) pushed since the last one ended: kept when its sha256 is `sha256`
    /// (hex), else dropped so it can be pushed again, and thrown.
    pub fn end_piece(&mut self, sha256: &str) -> Result<(), JsError> {
        self.inner.end_piece(sha256).map_err(to_js)
    }

    /// Throw unless every byte arrived and their sha256 is `sha256` (hex).
    pub fn verify(&self, sha256: &str) -> Result<(), JsError> {
        self.inner.verify(sha256).map_err(to_js)
    }
}

#[wasm_bindgen]
pub struct Chat {
    inner: tabtwin_core::Chat,
}

#[wasm_bindgen]
impl Chat {
    /// Parse and load a GGUF model from its assembled bytes (consumed: the model uses them in place).
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: ModelBytes) -> Result<Chat, JsError> {
        let bytes = bytes.inner.into_bytes().map_err(to_js)?;
        Ok(Chat { inner: tabtwin_core::Chat::from_bytes(bytes).map_err(to_js)? })
    }

    /// Model facts as JSON: architecture, name, context_length, vocab_size,
    /// embedded_system_prompt, persona, tools, refusals, sampling (the model's effective defaults).
    pub fn info(&self) -> String {
        json(self.inner.info())
    }

    /// Begin a reply to `prompt`; then call `step()` until it returns undefined.
    /// `options_json`: a JSON object of overrides in snake_case (max_tokens, temperature,
    /// top_k, top_p, repeat_penalty, repeat_last_n, seed); absent keys keep the model's defaults.
    pub fn start(&mut self, prompt: &str, options_json: Option<String>) -> Result<(), JsError> {
        let overrides = Overrides::from_json(options_json.as_deref().unwrap_or_default()).map_err(to_js)?;
        self.inner.start(prompt, &overrides).map_err(to_js)
    }

    /// Feed up to `most` tokens of the prompt a reply to `prompt` would start from (the page
    /// calls it while the visitor types, a chunk at a time), so that `start` with the same or a
    /// longer prompt feeds only what differs. Same options as `start` (max_tokens bounds the
    /// window). Returns JSON {fed, left}: tokens fed now, tokens still to feed.
    pub fn prepare(&mut self, prompt: &str, options_json: Option<String>, most: usize) -> Result<String, JsError> {
        let overrides = Overrides::from_json(options_json.as_deref().unwrap_or_default()).map_err(to_js)?;
        Ok(json(&self.inner.prepare(prompt, &overrides, most).map_err(to_js)?))
    }

    /// The events of the next token as a JSON array (often one `{"kind":"text"}`,
    /// sometimes none), or undefined when the reply is over.
    pub fn step(&mut self) -> Result<Option<String>, JsError> {
        Ok(self.inner.step().map_err(to_js)?.map(|events| json(&events)))
    }

    /// Tokens the current/last reply has so far (the end-of-turn token not counted).
    pub fn generated_tokens(&self) -> usize {
        self.inner.generated_tokens()
    }

    /// Prompt tokens the last `start` fed to the model (what was cached, not counted).
    pub fn prefill_tokens(&self) -> usize {
        self.inner.last_prefill_tokens()
    }

    /// End the current reply now; what was said stays in the conversation.
    pub fn stop(&mut self) {
        self.inner.stop()
    }

    /// Why the last reply ended (end_of_turn, max_tokens, context_full, stopped).
    pub fn stop_reason(&self) -> Option<String> {
        self.inner.stop_reason().map(|r| r.as_str().to_string())
    }

    /// Whether the last reply is the twin saying it does not know (it opens like one of the
    /// refusals in its GGUF): the page then lists the turn's passages as looked in, not as sources.
    pub fn refused(&self) -> bool {
        self.inner.last_reply_refused()
    }

    /// The last reply's names and numbers that nothing the model was told states (its system
    /// prompt, the conversation's user turns with their notes), as a JSON list of strings: the
    /// page lists them under a grounded answer as "not in its notes".
    pub fn unsupported(&self) -> String {
        json(&self.inner.last_reply_unsupported())
    }

    /// Cap the conversation's token window (prompt + answer).
    pub fn set_context_limit(&mut self, tokens: usize) -> Result<(), JsError> {
        self.inner.set_context_limit(tokens).map_err(to_js)
    }

    /// The conversation so far as JSON [{role, content}, ...].
    pub fn history(&self) -> String {
        json(&self.inner.history())
    }

    /// Seed the conversation from JSON [{role, content}, ...] (user first, assistant last).
    pub fn set_history(&mut self, messages: &str) -> Result<(), JsError> {
        let messages: Vec<Message> = serde_json::from_str(messages)
            .map_err(|e| JsError::new(&format!("history is not a JSON list of {{role, content}}: {e}")))?;
        self.inner.set_history(messages).map_err(to_js)
    }

    /// Forget the last question and its reply (the page's "regenerate").
    pub fn forget_last_exchange(&mut self) -> Result<(), JsError> {
        self.inner.forget_last_exchange().map_err(to_js)
    }

    /// Forget the conversation.
    pub fn reset(&mut self) {
        self.inner.reset()
    }
}

/// The site's grounding index: passages of the author's own pages for each question.
#[wasm_bindgen]
pub struct Grounding {
    inner: tabtwin_core::grounding::Grounding,
}

#[wasm_bindgen]
impl Grounding {
    /// From the assembled (and verified) bytes of `grounding.<hash>.json`, as a model arrives.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: ModelBytes) -> Result<Grounding, JsError> {
        let bytes = bytes.inner.into_bytes().map_err(to_js)?;
        Ok(Grounding { inner: tabtwin_core::grounding::Grounding::from_json(&bytes).map_err(to_js)? })
    }

    pub fn passages(&self) -> usize {
        self.inner.passages().len()
    }

    /// `question` as the model sees it, as JSON {text, sources: [{id, source, title, url, score}],
    /// decision, options}: pass `options` to `Chat.start` with the caller's own. `limits_json`:
    /// overrides of the core's limits (top_k, min_score, budget_chars). `previous`: the visitor's
    /// last question as typed (a follow-up is matched with it).
    pub fn ground(
        &self,
        question: &str,
        limits_json: Option<String>,
        previous: Option<String>,
    ) -> Result<String, JsError> {
        let overrides =
            grounding::LimitOverrides::from_json(limits_json.as_deref().unwrap_or_default()).map_err(to_js)?;
        let limits = grounding::LIMITS.with(&overrides).map_err(to_js)?;
        Ok(json(&self.inner.ground_following(question, previous.as_deref(), &limits).map_err(to_js)?))
    }

    /// Match questions by meaning too, with the embedding model the index names (its assembled bytes).
    pub fn attach_embedder(&mut self, bytes: ModelBytes) -> Result<(), JsError> {
        let bytes = bytes.inner.into_bytes().map_err(to_js)?;
        self.inner.attach_embedder(bytes).map_err(to_js)
    }

    /// Whether questions are matched by meaning (an embedder is attached) or by words alone.
    pub fn semantic(&self) -> bool {
        self.inner.semantic()
    }
}

/// Whisper speech-to-text, in the same module as the chat models.
#[wasm_bindgen]
pub struct Transcriber {
    inner: tabtwin_core::Transcriber,
}

#[wasm_bindgen]
impl Transcriber {
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: ModelBytes) -> Result<Transcriber, JsError> {
        let bytes = bytes.inner.into_bytes().map_err(to_js)?;
        Ok(Transcriber { inner: tabtwin_core::Transcriber::from_bytes(bytes).map_err(to_js)? })
    }

    /// 16 kHz mono samples -> JSON {text, tokens, audio_seconds, no_speech_prob, nothing_heard,
    /// window_seconds}. `options_json`: `{"window": "fitted" | "full" | {"seconds": N}}`, or nothing.
    pub fn transcribe(&mut self, samples: Vec<f32>, options_json: Option<String>) -> Result<String, JsError> {
        let options = TranscribeOptions::from_json(options_json.as_deref().unwrap_or_default()).map_err(to_js)?;
        Ok(json(&self.inner.transcribe_with(&samples, &options).map_err(to_js)?))
    }
}

/// True when the simd128 kernels were compiled in.
#[wasm_bindgen]
pub fn with_simd128() -> bool {
    tabtwin_core::with_simd128()
}
