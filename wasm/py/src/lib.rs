//! PyO3 binding: `tabtwin._core`. Translation only — every decision lives in tabtwin-core;
//! core types cross as Python dicts and lists built from their serde serialization.
//! A call both bindings offer has the web binding's name; tests/core/test_binding_names.py holds
//! the two together and lists, with why, the calls only one of them has.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyTuple};
use serde::Serialize;
use serde_json::Value;

use tabtwin_core::{grounding, keys, Message, Overrides, TranscribeOptions};

fn to_py(err: tabtwin_core::Error) -> PyErr {
    match err {
        tabtwin_core::Error::Candle(_) => PyRuntimeError::new_err(err.to_string()),
        _ => PyValueError::new_err(err.to_string()),
    }
}

/// A core type as the Python value of its JSON serialization (dict, list, str, int, float, bool, None).
/// Through the JSON text, so an f32 reads as its shortest decimal (0.7, not 0.699999988).
fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    json_to_python(py, &value)
}

fn json_to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(fields) => {
            let dict = PyDict::new(py);
            for (key, item) in fields {
                dict.set_item(key, json_to_python(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A file's bytes, or an error naming it.
fn read(path: &std::path::Path) -> PyResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| PyValueError::new_err(format!("cannot read {}: {e}", path.display())))
}

/// A core error about the file at `path`, named in the message.
fn in_file(path: &std::path::Path, err: tabtwin_core::Error) -> PyErr {
    PyValueError::new_err(format!("{}: {err}", path.display()))
}

fn to_messages(pairs: Vec<(String, String)>) -> Vec<Message> {
    pairs.iter().map(|(role, content)| Message::new(role, content)).collect()
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
        let data = read(&path)?;
        let inner = tabtwin_core::Chat::from_bytes(data).map_err(|e| in_file(&path, e))?;
        Ok(Self { inner })
    }

    /// Model facts: architecture, name, context_length, vocab_size, embedded_system_prompt,
    /// persona, tools, refusals, sampling (the model's effective defaults: the core's, then the GGUF's).
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.inner.info())
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

    /// Forget the last question and its reply (the page's "regenerate").
    fn forget_last_exchange(&mut self) -> PyResult<()> {
        self.inner.forget_last_exchange().map_err(to_py)
    }

    /// Cap the conversation's token window (prompt + answer) below the model's context.
    fn set_context_limit(&mut self, tokens: usize) -> PyResult<()> {
        self.inner.set_context_limit(tokens).map_err(to_py)
    }

    #[getter]
    fn context_limit(&self) -> usize {
        self.inner.context_limit()
    }

    /// Generate one reply and return its text channel. `on_event(event)` is called with
    /// each event as a dict (`{"kind": "text"|"thinking"|"tool", ...}`), `on_text(piece)`
    /// with each text piece; either returning False stops the reply. Keyword overrides
    /// left as None keep the model's defaults (`info()["sampling"]`).
    /// `verdict`, `told_only` and `contrast`: what the grounding of the question decided (its `options`).
    #[pyo3(signature = (prompt, on_event=None, *, max_tokens=None, temperature=None, top_k=None, top_p=None,
                        repeat_penalty=None, repeat_last_n=None, seed=None, on_text=None, verdict=None,
                        told_only=None, contrast=None))]
    #[allow(clippy::too_many_arguments)]
    fn generate(
        &mut self,
        py: Python<'_>,
        prompt: &str,
        on_event: Option<Bound<'_, PyAny>>,
        max_tokens: Option<usize>,
        temperature: Option<f32>,
        top_k: Option<usize>,
        top_p: Option<f32>,
        repeat_penalty: Option<f32>,
        repeat_last_n: Option<usize>,
        seed: Option<u64>,
        on_text: Option<Bound<'_, PyAny>>,
        verdict: Option<String>,
        told_only: Option<bool>,
        contrast: Option<Bound<'_, PyDict>>,
    ) -> PyResult<String> {
        let verdict = verdict
            .map(|v| serde_json::from_value(Value::String(v.clone())))
            .transpose()
            .map_err(|_| PyValueError::new_err("verdict must be 'answer', 'refuse' or 'open'"))?;
        // The dict the grounding gave, through its JSON text: the core reads it as it reads the page's.
        let contrast = contrast
            .map(|c| -> PyResult<_> {
                let text: String = py.import("json")?.call_method1("dumps", (c,))?.extract()?;
                serde_json::from_str(&text).map_err(|e| PyValueError::new_err(format!("contrast: {e}")))
            })
            .transpose()?;
        let overrides = Overrides {
            max_tokens,
            temperature,
            top_k,
            top_p,
            repeat_penalty,
            repeat_last_n,
            seed,
            verdict,
            told_only,
            contrast,
        };
        let mut callback_error: Option<PyErr> = None;
        let mut call = |f: &Bound<'_, PyAny>, arg: PyResult<Bound<'_, PyAny>>| -> bool {
            match arg.and_then(|arg| f.call1((arg,))) {
                Ok(ret) => !ret.is(&*PyBool::new(py, false)),
                Err(e) => {
                    callback_error.get_or_insert(e);
                    false
                }
            }
        };
        let reply = self
            .inner
            .generate(prompt, &overrides, |event| {
                let mut keep_going = true;
                if let (Some(f), tabtwin_core::Event::Text { text }) = (&on_text, event) {
                    keep_going &= call(f, text.into_pyobject(py).map(|s| s.into_any()).map_err(Into::into));
                }
                if let Some(f) = &on_event {
                    keep_going &= call(f, to_python(py, event));
                }
                keep_going
            })
            .map_err(to_py)?;
        match callback_error {
            Some(e) => Err(e),
            None => Ok(reply),
        }
    }

    /// Feed up to `most` tokens (default: all) of the prompt a reply to `prompt` would start
    /// from, so that the next `generate` with the same or a longer prompt feeds only what differs
    /// (the page calls it while the visitor types). Files the last reply first. Returns (tokens
    /// fed, tokens still to feed); (0, 0) when the prompt would only fit by dropping turns.
    /// `max_tokens` bounds the window as `generate`'s does.
    #[pyo3(signature = (prompt, *, max_tokens=None, most=None))]
    fn prepare(&mut self, prompt: &str, max_tokens: Option<usize>, most: Option<usize>) -> PyResult<(usize, usize)> {
        let overrides = Overrides { max_tokens, ..Default::default() };
        let done = self.inner.prepare(prompt, &overrides, most.unwrap_or(usize::MAX)).map_err(to_py)?;
        Ok((done.fed, done.left))
    }

    /// Why the last reply ended: end_of_turn, max_tokens, context_full or stopped.
    fn stop_reason(&self) -> Option<&'static str> {
        self.inner.stop_reason().map(|r| r.as_str())
    }

    /// Tokens of the last reply (the end-of-turn token not counted).
    fn generated_tokens(&self) -> usize {
        self.inner.generated_tokens()
    }

    /// Prompt tokens the last reply fed to the model, after reusing the cached prefix.
    fn prefill_tokens(&self) -> usize {
        self.inner.last_prefill_tokens()
    }

    /// The last reply as the model wrote it (thinking tags and TOOL lines included).
    fn last_reply_raw(&self) -> Option<String> {
        self.inner.last_reply_raw()
    }

    /// Whether the last reply is the twin saying it does not know (it opens like one of its
    /// GGUF's tabtwin.refusals); always False for a model without them.
    fn refused(&self) -> bool {
        self.inner.last_reply_refused()
    }

    /// The last reply's names and numbers that nothing the model was told states (its system
    /// prompt, the conversation's user turns with their notes): what the page lists as "not in
    /// its notes".
    fn unsupported(&self) -> Vec<String> {
        self.inner.last_reply_unsupported()
    }

    /// The conversation so far as (role, content) pairs.
    fn history(&self) -> Vec<(String, String)> {
        self.inner.history().into_iter().map(|m| (m.role, m.content)).collect()
    }

    /// Seed the conversation with earlier (role, content) turns: user, assistant, ... ending with assistant.
    fn set_history(&mut self, messages: Vec<(String, String)>) -> PyResult<()> {
        self.inner.set_history(to_messages(messages)).map_err(to_py)
    }

    /// The prompt the model's template renders for [(role, content), ...] (system prompt prepended).
    fn render(&self, messages: Vec<(String, String)>) -> PyResult<String> {
        self.inner.render(&to_messages(messages)).map_err(to_py)
    }

    fn encode(&self, text: &str) -> PyResult<Vec<u32>> {
        self.inner.tokenizer().encode(text).map_err(to_py)
    }

    fn decode(&self, ids: Vec<u32>) -> PyResult<String> {
        self.inner.tokenizer().decode(&ids).map_err(to_py)
    }

    // --- probes (the core's `probes` feature): for exactness and KV-reuse tests

    /// Drop the KV cache, keep the conversation (the next turn recomputes everything).
    fn forget_cache(&mut self) {
        self.inner.forget_cache()
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
    inner: tabtwin_core::Transcriber,
}

#[pymethods]
impl Transcriber {
    #[new]
    fn new(data: Vec<u8>) -> PyResult<Self> {
        Ok(Self { inner: tabtwin_core::Transcriber::from_bytes(data).map_err(to_py)? })
    }

    #[staticmethod]
    fn from_path(path: std::path::PathBuf) -> PyResult<Self> {
        let data = read(&path)?;
        let inner = tabtwin_core::Transcriber::from_bytes(data).map_err(|e| in_file(&path, e))?;
        Ok(Self { inner })
    }

    /// Transcribe 16 kHz mono samples; returns a dict (text, tokens, audio_seconds, no_speech_prob,
    /// nothing_heard, window_seconds). `window`: None (the core's fitted window), "fitted", "full"
    /// (Whisper's 30 s), or a number of seconds.
    #[pyo3(signature = (samples, window=None))]
    fn transcribe<'py>(
        &mut self,
        py: Python<'py>,
        samples: Vec<f32>,
        window: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = match window {
            None => TranscribeOptions::default(),
            Some(w) => {
                let window = match w.extract::<f32>() {
                    Ok(seconds) => serde_json::json!({ "seconds": seconds }),
                    Err(_) => Value::String(w.extract::<String>()?),
                };
                TranscribeOptions::from_json(&serde_json::json!({ "window": window }).to_string()).map_err(to_py)?
            }
        };
        to_python(py, &self.inner.transcribe_with(&samples, &options).map_err(to_py)?)
    }

    /// The log-mel features ([n_mels * 3000], row-major) the encoder sees.
    fn log_mel(&self, samples: Vec<f32>) -> Vec<f32> {
        self.inner.log_mel(&samples)
    }
}

/// The site's grounding index (`grounding.<hash>.json` from `python build.py`): passages of the
/// author's own pages and Q&A, retrieved for a question as the page does.
#[pyclass(unsendable)]
struct Grounding {
    inner: tabtwin_core::grounding::Grounding,
}

fn limits(top_k: Option<usize>, min_score: Option<f32>, budget_chars: Option<usize>) -> PyResult<grounding::Limits> {
    grounding::LIMITS.with(&grounding::LimitOverrides { top_k, min_score, budget_chars }).map_err(to_py)
}

#[pymethods]
impl Grounding {
    #[new]
    fn new(data: Vec<u8>) -> PyResult<Self> {
        Ok(Self { inner: tabtwin_core::grounding::Grounding::from_json(&data).map_err(to_py)? })
    }

    #[staticmethod]
    fn from_path(path: std::path::PathBuf) -> PyResult<Self> {
        let data = read(&path)?;
        let inner = tabtwin_core::grounding::Grounding::from_json(&data).map_err(|e| in_file(&path, e))?;
        Ok(Self { inner })
    }

    /// The passages, as dicts (id, source, title, url, text).
    fn passages<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.passages())
    }

    /// Every passage's score for `question`, best first: dicts {passage (index), score}.
    fn rank<'py>(&self, py: Python<'py>, question: &str) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.rank(question).map_err(to_py)?)
    }

    /// `question` as the model sees it: dict {text, sources: [{id, source, title, url, score}]}.
    /// `exclude`: ids of passages to leave out (training data for a question the notes do not answer).
    /// `previous`: the visitor's last question as typed (a follow-up is matched with it); with
    /// `exclude`, not both. The dict also holds `decision` and `options` (pass to `generate`).
    #[pyo3(signature = (question, top_k=None, min_score=None, budget_chars=None, exclude=None, previous=None))]
    #[allow(clippy::too_many_arguments)]
    fn ground<'py>(
        &self,
        py: Python<'py>,
        question: &str,
        top_k: Option<usize>,
        min_score: Option<f32>,
        budget_chars: Option<usize>,
        exclude: Option<Vec<String>>,
        previous: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let limits = limits(top_k, min_score, budget_chars)?;
        let grounded = match exclude {
            Some(exclude) => self.inner.ground_without(question, &limits, &exclude),
            None => self.inner.ground_following(question, previous.as_deref(), &limits),
        }
        .map_err(to_py)?;
        to_python(py, &grounded)
    }

    /// Fit the answerability model on the Q&A seeds (the text of a seeds.jsonl) and this index;
    /// returns it as JSON text (what [grounding] answerability names). Needs the embedder attached.
    fn fit_answerability(&self, seeds: &str) -> PyResult<String> {
        let model = grounding::fit::fit_site(&self.inner, seeds).map_err(to_py)?;
        serde_json::to_string_pretty(&model).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Use this answerability model (JSON text) from now on, or none.
    #[pyo3(signature = (model=None))]
    fn set_answerability(&mut self, model: Option<&str>) -> PyResult<()> {
        let model = model
            .map(serde_json::from_str::<grounding::answerable::Model>)
            .transpose()
            .map_err(|e| PyValueError::new_err(format!("answerability model: {e}")))?;
        self.inner.set_answerability(model).map_err(to_py)
    }

    /// The answerability model in use, as JSON text, or None.
    fn answerability_json(&self) -> PyResult<Option<String>> {
        self.inner
            .answerability()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Whether grounded turns decode with told_only.
    fn told_only(&self) -> bool {
        self.inner.told_only()
    }

    /// Turn the untold-names-and-numbers constraint on or off for grounded turns.
    fn set_told_only(&mut self, on: bool) {
        self.inner.set_told_only(on);
    }

    /// Whether grounded turns are decoded against their question without the notes.
    fn contrast(&self) -> bool {
        self.inner.contrast()
    }

    /// Turn context-aware decoding on or off for grounded turns.
    fn set_contrast(&mut self, on: bool) {
        self.inner.set_contrast(on);
    }

    /// Whether grounded turns render their notes best last, nearest the question.
    fn nearest(&self) -> bool {
        self.inner.nearest()
    }

    /// Render grounded turns' notes best last from now on (`tabtwin eval` measures it alone).
    fn set_nearest(&mut self, on: bool) {
        self.inner.set_nearest(on);
    }

    /// Match questions by meaning too, with the embedding model the index names (its GGUF).
    fn attach_embedder(&mut self, path: std::path::PathBuf) -> PyResult<()> {
        self.inner.attach_embedder(read(&path)?).map_err(|e| in_file(&path, e))
    }

    /// Whether an embedder is attached (questions matched by meaning and words) or not (words alone).
    fn semantic(&self) -> bool {
        self.inner.semantic()
    }

    /// The attached embedder's unit vector for `text`, or None without one.
    fn embed(&self, text: &str) -> PyResult<Option<Vec<f32>>> {
        self.inner.embed(text).map_err(to_py)
    }
}

/// A user turn with `passages` (dicts with at least title and text) in the core's fixed block:
/// what `tabtwin data build` trains on and what the page sends.
#[pyfunction]
fn render_grounded_turn(user: &str, passages: Vec<Bound<'_, PyDict>>) -> PyResult<String> {
    let field = |d: &Bound<'_, PyDict>, key: &str| -> PyResult<String> {
        match d.get_item(key)? {
            Some(v) => v.extract(),
            None => Err(PyValueError::new_err(format!("a passage needs a {key:?} (got keys {:?})", d.keys()))),
        }
    };
    let mut owned = Vec::with_capacity(passages.len());
    for d in &passages {
        owned.push(grounding::Passage {
            id: String::new(),
            source: String::new(),
            title: field(d, "title")?,
            url: String::new(),
            text: field(d, "text")?,
            vector: None,
        });
    }
    let refs: Vec<&grounding::Passage> = owned.iter().collect();
    Ok(grounding::render_turn(user, &refs))
}

/// The default grounding limits: {top_k, min_score, budget_chars}.
#[pyfunction]
fn grounding_limits(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_python(py, &grounding::LIMITS)
}

/// The events the core streams for a whole reply `text` (what the page shows and opens):
/// dicts `{"kind": "text"|"thinking", "text": ...}` and `{"kind": "tool", "app": ..., "params": {...}}`.
/// `apps` limits the apps a TOOL line may open (None: any).
#[pyfunction]
#[pyo3(signature = (text, apps=None))]
fn parse_reply<'py>(py: Python<'py>, text: &str, apps: Option<Vec<String>>) -> PyResult<Bound<'py, PyAny>> {
    to_python(py, &tabtwin_core::parse_reply(text, apps))
}

/// The openings of a twin's refusals (`tabtwin.refusals`, a JSON list) that mark a reply as the
/// twin not knowing; ValueError naming the key for what the core would refuse to load.
#[pyfunction]
fn refusal_openings(raw: &str) -> PyResult<Vec<String>> {
    Ok(tabtwin_core::refusal::Refusals::from_metadata(Some(raw)).map_err(to_py)?.openings().to_vec())
}

/// Whether `token` ends an assistant turn (one of END_OF_TURN_TOKENS).
#[pyfunction]
fn is_end_of_turn(token: &str) -> bool {
    keys::is_end_of_turn(token)
}

#[pyfunction]
fn with_simd128() -> bool {
    tabtwin_core::with_simd128()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Chat>()?;
    m.add_class::<Transcriber>()?;
    m.add_class::<Grounding>()?;
    m.add_function(wrap_pyfunction!(render_grounded_turn, m)?)?;
    m.add_function(wrap_pyfunction!(grounding_limits, m)?)?;
    m.add_function(wrap_pyfunction!(parse_reply, m)?)?;
    m.add_function(wrap_pyfunction!(is_end_of_turn, m)?)?;
    m.add_function(wrap_pyfunction!(refusal_openings, m)?)?;
    m.add_function(wrap_pyfunction!(with_simd128, m)?)?;
    m.add("END_OF_TURN_TOKENS", PyTuple::new(m.py(), keys::END_OF_TURN_TOKENS)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
