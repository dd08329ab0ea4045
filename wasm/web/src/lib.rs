//! wasm-bindgen binding: the `Chat` object the worker uses. Translation only —
//! every decision lives in tabtwin-core. Errors become JS exceptions (strings).

use wasm_bindgen::prelude::*;

use tabtwin_core::{GenerateOptions, SamplingOptions};

fn to_js(err: tabtwin_core::Error) -> JsError {
    JsError::new(&err.to_string())
}

#[wasm_bindgen]
pub struct Chat {
    inner: tabtwin_core::Chat,
}

#[wasm_bindgen]
impl Chat {
    /// Parse and load a GGUF model from its bytes (moved, not copied, into wasm memory).
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: Vec<u8>) -> Result<Chat, JsError> {
        Ok(Chat { inner: tabtwin_core::Chat::from_bytes(bytes).map_err(to_js)? })
    }

    /// Model facts as a JSON string.
    pub fn info(&self) -> String {
        let i = self.inner.info();
        format!(
            "{{\"architecture\":{},\"name\":{},\"context_length\":{},\"vocab_size\":{},\"system_prompt\":{},\"persona\":{},\"tools\":{}}}",
            json(&i.architecture),
            i.name.as_deref().map_or("null".into(), json),
            i.context_length,
            i.vocab_size,
            self.inner.system_prompt().map_or("null".into(), json),
            i.persona.as_deref().map_or("null".into(), json),
            i.tools.as_deref().map_or("null".into(), json),
        )
    }

    /// Begin a reply to `prompt`; then call `step()` until it returns undefined.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &mut self,
        prompt: &str,
        max_tokens: usize,
        temperature: f32,
        top_k: usize,
        top_p: f32,
        repeat_penalty: f32,
        seed: u64,
    ) -> Result<(), JsError> {
        let options = GenerateOptions {
            max_new_tokens: max_tokens,
            sampling: SamplingOptions { temperature, top_k, top_p, repeat_penalty, seed, ..Default::default() },
        };
        self.inner.start(prompt, &options).map_err(to_js)
    }

    /// The events of the next token as a JSON array (often one `{"kind":"text"}`,
    /// sometimes none), or undefined when the reply is over.
    pub fn step(&mut self) -> Result<Option<String>, JsError> {
        let events = self.inner.step().map_err(to_js)?;
        Ok(events.map(|events| {
            let list: Vec<_> = events.iter().map(|e| e.to_json()).collect();
            serde_json::Value::Array(list).to_string()
        }))
    }

    /// End the current reply now; what was said stays in the conversation.
    pub fn stop(&mut self) {
        self.inner.stop()
    }

    /// Why the last reply ended (end_of_turn, max_tokens, context_full, stopped).
    pub fn stop_reason(&self) -> Option<String> {
        self.inner.stop_reason().map(|r| r.as_str().to_string())
    }

    /// Cap the conversation's token window (prompt + answer).
    pub fn set_context_limit(&mut self, tokens: usize) -> Result<(), JsError> {
        self.inner.set_context_limit(tokens).map_err(to_js)
    }

    /// The conversation so far as JSON [{role, content}, ...].
    pub fn history(&self) -> String {
        serde_json::to_string(&self.inner.history()).unwrap_or_else(|_| "[]".into())
    }

    /// Seed the conversation from JSON [{role, content}, ...] (user first, assistant last).
    pub fn set_history(&mut self, messages: &str) -> Result<(), JsError> {
        let messages: Vec<tabtwin_core::Message> = serde_json::from_str(messages)
            .map_err(|e| JsError::new(&format!("history is not a JSON list of {{role, content}}: {e}")))?;
        self.inner.set_history(messages).map_err(to_js)
    }

    /// Forget the conversation.
    pub fn reset(&mut self) {
        self.inner.reset()
    }
}

/// Whisper speech-to-text, in the same module as the chat models.
#[wasm_bindgen]
pub struct Transcriber {
    inner: tabtwin_core::whisper::Transcriber,
}

#[wasm_bindgen]
impl Transcriber {
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: Vec<u8>) -> Result<Transcriber, JsError> {
        Ok(Transcriber { inner: tabtwin_core::whisper::Transcriber::from_bytes(bytes).map_err(to_js)? })
    }

    /// 16 kHz mono samples -> JSON {text, tokens, audio_seconds, no_speech_prob, nothing_heard}.
    pub fn transcribe(&mut self, samples: Vec<f32>) -> Result<String, JsError> {
        let t = self.inner.transcribe(&samples).map_err(to_js)?;
        Ok(serde_json::json!({
            "text": t.text,
            "tokens": t.tokens,
            "audio_seconds": t.audio_seconds,
            "no_speech_prob": t.no_speech_prob,
            "nothing_heard": t.nothing_heard,
        })
        .to_string())
    }
}

/// True when the simd128 kernels were compiled in.
#[wasm_bindgen]
pub fn with_simd128() -> bool {
    tabtwin_core::with_simd128()
}

fn json(s: &str) -> String {
    tabtwin_core::json_string(s)
}
