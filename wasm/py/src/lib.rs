//! PyO3 binding: `tabtwin._core`. Translation only — every decision lives in tabtwin-core.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use tabtwin_core::{Event, GenerateOptions, Message, SamplingOptions};

fn to_py(err: tabtwin_core::Error) -> PyErr {
    match err {
        tabtwin_core::Error::Candle(_) => PyRuntimeError::new_err(err.to_string()),
        _ => PyValueError::new_err(err.to_string()),
    }
}

/// A conversation with one GGUF chat model, run by the same core as the browser.
#[pyclass(unsendable)]
struct Chat {
    inner: tabtwin_core::Chat,
}

#[pymethods]
impl Chat {
    #[new]
    fn new(data: Vec<u8>) -> PyResult<Self> {
        Ok(Self { inner: tabtwin_core::Chat::from_bytes(data).map_err(to_py)? })
    }

    #[staticmethod]
    fn from_path(path: std::path::PathBuf) -> PyResult<Self> {
        let data = std::fs::read(&path)
            .map_err(|e| PyValueError::new_err(format!("cannot read {}: {e}", path.display())))?;
        let inner = tabtwin_core::Chat::from_bytes(data)
            .map_err(|e| PyValueError::new_err(format!("{}: {e}", path.display())))?;
        Ok(Self { inner })
    }

    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let info = self.inner.info();
        let d = PyDict::new(py);
        d.set_item("architecture", &info.architecture)?;
        d.set_item("name", &info.name)?;
        d.set_item("context_length", info.context_length)?;
        d.set_item("vocab_size", info.vocab_size)?;
        d.set_item("embedded_system_prompt", &info.embedded_system_prompt)?;
        d.set_item("persona", &info.persona)?;
        d.set_item("tools", &info.tools)?;
        Ok(d)
    }

    #[getter]
    fn system_prompt(&self) -> Option<String> {
        self.inner.system_prompt().map(str::to_string)
    }

    #[pyo3(signature = (prompt, force=false))]
    fn set_system_prompt(&mut self, prompt: Option<String>, force: bool) -> PyResult<()> {
        self.inner.set_system_prompt(prompt, force).map_err(to_py)
    }

    fn reset(&mut self) {
        self.inner.reset()
    }

    /// Cap the conversation's token window (prompt + answer) below the model's context.
    fn set_context_limit(&mut self, tokens: usize) -> PyResult<()> {
        self.inner.set_context_limit(tokens).map_err(to_py)
    }

    #[getter]
    fn context_limit(&self) -> usize {
        self.inner.context_limit()
    }

    /// Drop the KV cache, keep the conversation (the next turn recomputes everything).
    fn forget_cache(&mut self) {
        self.inner.forget_cache()
    }

    /// Generate one reply and return its text channel.
    /// `on_text(piece)` is called for each text piece, `on_event(json)` for every event
    /// (`{"kind": "text"|"thinking"|"tool", ...}`); either returning False stops.
    #[pyo3(signature = (prompt, max_tokens=256, temperature=0.0, top_k=0, top_p=1.0,
                        repeat_penalty=1.0, repeat_last_n=64, seed=42, on_text=None, on_event=None))]
    #[allow(clippy::too_many_arguments)]
    fn generate(
        &mut self,
        prompt: &str,
        max_tokens: usize,
        temperature: f32,
        top_k: usize,
        top_p: f32,
        repeat_penalty: f32,
        repeat_last_n: usize,
        seed: u64,
        on_text: Option<Bound<'_, PyAny>>,
        on_event: Option<Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let options = GenerateOptions {
            max_new_tokens: max_tokens,
            sampling: SamplingOptions { temperature, top_k, top_p, repeat_penalty, repeat_last_n, seed },
        };
        let mut callback_error: Option<PyErr> = None;
        let reply = self
            .inner
            .generate(prompt, &options, |event| {
                let mut keep_going = true;
                let mut call = |f: &Bound<'_, PyAny>, arg: String| match f.call1((arg,)) {
                    Ok(ret) => keep_going &= !ret.is(&*pyo3::types::PyBool::new(ret.py(), false)),
                    Err(e) => {
                        callback_error.get_or_insert(e);
                        keep_going = false;
                    }
                };
                if let (Some(f), Event::Text(text)) = (&on_text, event) {
                    call(f, text.clone());
                }
                if let Some(f) = &on_event {
                    call(f, event.to_json().to_string());
                }
                keep_going
            })
            .map_err(to_py)?;
        match callback_error {
            Some(e) => Err(e),
            None => Ok(reply),
        }
    }

    /// Why the last reply ended: end_of_turn, max_tokens, context_full or stopped.
    fn stop_reason(&self) -> Option<&'static str> {
        self.inner.stop_reason().map(|r| r.as_str())
    }

    /// The last reply as the model wrote it (thinking tags and TOOL lines included).
    fn last_reply_raw(&self) -> Option<String> {
        self.inner.last_reply_raw()
    }

    fn last_prefill_tokens(&self) -> usize {
        self.inner.last_prefill_tokens()
    }

    /// The conversation so far as (role, content) pairs.
    fn history(&self) -> Vec<(String, String)> {
        self.inner.history().iter().map(|m| (m.role.clone(), m.content.clone())).collect()
    }

    /// Seed the conversation with earlier (role, content) turns: user, assistant, ... ending with assistant.
    fn set_history(&mut self, messages: Vec<(String, String)>) -> PyResult<()> {
        let messages: Vec<Message> = messages.iter().map(|(r, c)| Message::new(r, c)).collect();
        self.inner.set_history(messages).map_err(to_py)
    }

    /// The prompt the model's template renders for [(role, content), ...] (system prompt prepended).
    fn render(&self, messages: Vec<(String, String)>) -> PyResult<String> {
        let messages: Vec<Message> = messages.iter().map(|(r, c)| Message::new(r, c)).collect();
        self.inner.render(&messages).map_err(to_py)
    }

    fn encode(&self, text: &str) -> PyResult<Vec<u32>> {
        self.inner.tokenizer().encode(text).map_err(to_py)
    }

    fn decode(&self, ids: Vec<u32>) -> PyResult<String> {
        self.inner.tokenizer().decode(&ids).map_err(to_py)
    }

    /// Logits after feeding `tokens[:prefix]` at once and the rest one by one via the KV cache.
    fn logits_stepwise(&mut self, tokens: Vec<u32>, prefix: usize) -> PyResult<Vec<f32>> {
        self.inner.logits_stepwise(&tokens, prefix).map_err(to_py)
    }

    /// Next-token logits after `tokens` fed from position 0 (resets the conversation's cache).
    fn logits(&mut self, tokens: Vec<u32>) -> PyResult<Vec<f32>> {
        self.inner.logits_for(&tokens).map_err(to_py)
    }
}

/// Whisper speech-to-text from a tabtwin Whisper GGUF (`tabtwin whisper convert`).
#[pyclass(unsendable)]
struct Transcriber {
    inner: tabtwin_core::whisper::Transcriber,
}

#[pymethods]
impl Transcriber {
    #[staticmethod]
    fn from_path(path: std::path::PathBuf) -> PyResult<Self> {
        let data = std::fs::read(&path)
            .map_err(|e| PyValueError::new_err(format!("cannot read {}: {e}", path.display())))?;
        let inner = tabtwin_core::whisper::Transcriber::from_bytes(data)
            .map_err(|e| PyValueError::new_err(format!("{}: {e}", path.display())))?;
        Ok(Self { inner })
    }

    /// Transcribe 16 kHz mono samples; returns a dict (text, tokens, audio_seconds, no_speech_prob, nothing_heard).
    fn transcribe<'py>(&mut self, py: Python<'py>, samples: Vec<f32>) -> PyResult<Bound<'py, PyDict>> {
        let t = self.inner.transcribe(&samples).map_err(to_py)?;
        let d = PyDict::new(py);
        d.set_item("text", t.text)?;
        d.set_item("tokens", t.tokens)?;
        d.set_item("audio_seconds", t.audio_seconds)?;
        d.set_item("no_speech_prob", t.no_speech_prob)?;
        d.set_item("nothing_heard", t.nothing_heard)?;
        Ok(d)
    }

    /// The log-mel features ([n_mels * 3000], row-major) the encoder sees.
    fn log_mel(&self, samples: Vec<f32>) -> Vec<f32> {
        self.inner.log_mel(&samples)
    }
}

#[pyfunction]
fn with_simd128() -> bool {
    tabtwin_core::with_simd128()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Chat>()?;
    m.add_class::<Transcriber>()?;
    m.add_function(wrap_pyfunction!(with_simd128, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
