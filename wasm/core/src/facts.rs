//! What a model file is and what it can do, read from its header without loading a weight:
//! what `tabtwin inspect` prints and what the site build's `models.json` carries (the build runs
//! this through the host binding, `wasm/host`, so no second reader of model files exists).
//!
//! A file the core could not run is refused here with the sentence its loader would give: the
//! header walk (`gguf/check.rs`), an architecture that is not one of ours, and every key a
//! loader checks (tokenizer arrays, the chat template, `tabtwin.tools`, `tabtwin.refusals`).

use std::collections::BTreeMap;

use candle_core::quantized::gguf_file::Value;
use serde::Serialize;

use crate::arch;
use crate::bundle::checked_tools;
use crate::error::{Error, Result};
use crate::gguf::{self, GgufFile};
use crate::grounding::embedder;
use crate::keys;
use crate::refusal::Refusals;
use crate::template;

/// `general.architecture` of a Whisper GGUF (`tabtwin whisper convert`).
pub const SPEECH_ARCH: &str = "whisper";
/// Every architecture the core runs: the chat models, then speech, then the sentence embedder.
pub const RUNS: &[&str] = &["llama", "qwen2", "qwen3", "gemma3", SPEECH_ARCH, embedder::ARCH];
const SCORES: &str = "tokenizer.ggml.scores";
const FILE_TYPE: &str = "general.file_type";

/// What the core does with a file of this architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Chat,
    Speech,
    Embedder,
}

#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    pub architecture: String,
    pub kind: Kind,
    pub name: Option<String>,
    pub parameters: u64,
    pub tensors: usize,
    /// Tensor types with how many tensors have each, the most common first (gguf-py's names).
    pub quantization: Vec<(String, usize)>,
    /// `general.file_type` as written (ggml's `LlamaFileType` number), if the file has one.
    pub file_type: Option<u32>,
    pub context_length: Option<u32>,
    pub vocab_size: Option<usize>,
    pub tokenizer: Option<String>,
    pub tokenizer_pre: Option<String>,
    pub chat_template: bool,
    /// For a file without `tokenizer.chat_template`: its architecture's known template, which the
    /// core renders instead (`template::KNOWN`) and training must use too; None otherwise.
    pub fallback_chat_template: Option<String>,
    /// The `tabtwin.*` keys the file holds, with their values.
    pub tabtwin: BTreeMap<String, String>,
    /// The apps the twin was trained to open (its `tabtwin.tools`); none for a file without the
    /// list: the core would let such a model open any app, but nothing taught it the TOOL lines.
    pub apps: Vec<String>,
}

impl Facts {
    /// The facts of `file`, or the error a loader of the core would give for it.
    pub fn read(file: &GgufFile) -> Result<Self> {
        if file.content.tensor_infos.is_empty() {
            return Err(Error::BadGguf("the file holds no tensors: there are no weights to run".into()));
        }
        let architecture = file.string(gguf::ARCHITECTURE)?.to_string();
        let kind = kind_of(&architecture)?;
        let tokens = checked_tokenizer(file)?;
        for key in [gguf::NAME, gguf::CHAT_TEMPLATE, gguf::TOKENIZER_MODEL, gguf::TOKENIZER_PRE] {
            file.opt_string(key)?;
        }
        let mut tabtwin = BTreeMap::new();
        for (_, key) in keys::ALL {
            if let Some(value) = file.opt_string(key)? {
                tabtwin.insert(key.to_string(), value.to_string());
            }
        }
        let apps = match checked_tools(file.opt_string(keys::TOOLS)?)? {
            Some(raw) => serde_json::from_str::<Vec<String>>(&raw).map_err(|e| Error::Invalid(e.to_string()))?,
            None => Vec::new(),
        };
        Refusals::from_metadata(file.opt_string(keys::REFUSALS)?)?;
        Ok(Self {
            kind,
            name: file.opt_string(gguf::NAME)?.map(str::to_string),
            parameters: file.content.tensor_infos.values().map(|t| t.shape.elem_count() as u64).sum(),
            tensors: file.content.tensor_infos.len(),
            quantization: quantization(file),
            file_type: file.opt_u32(FILE_TYPE)?,
            context_length: file.opt_u32(&gguf::context_length_key(&architecture))?,
            vocab_size: tokens,
            tokenizer: file.opt_string(gguf::TOKENIZER_MODEL)?.map(str::to_string),
            tokenizer_pre: file.opt_string(gguf::TOKENIZER_PRE)?.map(str::to_string),
            chat_template: file.get(gguf::CHAT_TEMPLATE).is_some(),
            fallback_chat_template: match file.get(gguf::CHAT_TEMPLATE) {
                Some(_) => None,
                None => template::known(&architecture).map(str::to_string),
            },
            tabtwin,
            apps,
            architecture,
        })
    }
}

fn kind_of(architecture: &str) -> Result<Kind> {
    if arch::SUPPORTED.contains(&architecture) {
        Ok(Kind::Chat)
    } else if architecture == SPEECH_ARCH {
        Ok(Kind::Speech)
    } else if architecture == embedder::ARCH {
        Ok(Kind::Embedder)
    } else {
        Err(Error::UnsupportedArchitecture { found: architecture.to_string(), supported: RUNS })
    }
}

/// The tokenizer arrays as every loader reads them: tokens and merges strings, token types
/// integers and scores f32s, one per token. Returns the vocabulary's size, if there is one.
fn checked_tokenizer(file: &GgufFile) -> Result<Option<usize>> {
    let tokens = match file.get(gguf::TOKENS) {
        None => None,
        Some(_) => Some(file.strings(gguf::TOKENS)?.len()),
    };
    if file.get(gguf::MERGES).is_some() {
        file.strings(gguf::MERGES)?;
    }
    let count = |key: &str, items: &[Value], each: fn(&Value) -> bool, what: &str| -> Result<()> {
        if !items.iter().all(each) {
            return Err(Error::Metadata { key: key.into(), problem: format!("expected an array of {what}") });
        }
        match tokens {
            Some(n) if n != items.len() => Err(Error::Metadata {
                key: key.into(),
                problem: format!("{} entries for {n} tokens ({})", items.len(), gguf::TOKENS),
            }),
            _ => Ok(()),
        }
    };
    let integer = |v: &Value| matches!(v, Value::I32(_) | Value::U32(_));
    let float = |v: &Value| matches!(v, Value::F32(_));
    for (key, each, what) in [(gguf::TOKEN_TYPE, integer as fn(&Value) -> bool, "i32"), (SCORES, float, "f32")] {
        match file.get(key) {
            None => {}
            Some(Value::Array(items)) => count(key, items, each, what)?,
            Some(other) => {
                let problem = format!("expected an array of {what}, found {:?}", other.value_type());
                return Err(Error::Metadata { key: key.into(), problem });
            }
        }
    }
    Ok(tokens)
}

/// Tensors per type, the most common first (ties by name), named as gguf-py names them.
fn quantization(file: &GgufFile) -> Vec<(String, usize)> {
    let mut counts = BTreeMap::<String, usize>::new();
    for info in file.content.tensor_infos.values() {
        *counts.entry(type_name(info.ggml_dtype)).or_default() += 1;
    }
    let mut out: Vec<_> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// candle's `Q4K` is ggml's `Q4_K`.
fn type_name(dtype: candle_core::quantized::GgmlDType) -> String {
    let name = format!("{dtype:?}");
    match name.strip_suffix('K') {
        Some(stem) if !stem.ends_with('_') => format!("{stem}_K"),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_quants_are_named_as_ggml_names_them() {
        use candle_core::quantized::GgmlDType;
        assert_eq!(type_name(GgmlDType::Q4K), "Q4_K");
        assert_eq!(type_name(GgmlDType::Q8_0), "Q8_0");
        assert_eq!(type_name(GgmlDType::F32), "F32");
    }

    #[test]
    fn every_architecture_the_core_runs_has_a_kind() {
        assert_eq!(RUNS.iter().filter(|a| kind_of(a).is_ok()).count(), RUNS.len());
        assert_eq!(&RUNS[..arch::SUPPORTED.len()], arch::SUPPORTED);
        assert!(kind_of("gpt2").unwrap_err().to_string().contains("'gpt2'"));
    }
}
