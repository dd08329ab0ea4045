//! Validated reading of a GGUF file held in memory.
//!
//! The browser hands us one `Vec<u8>`; a download cut short or a wrong file must
//! become a sentence, not a trap. candle's reader already bounds string and array
//! lengths; on top of that we check that every tensor's bytes lie inside the file
//! before any weight is touched, so a truncated file fails fast with sizes named.

mod check;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::Cursor;

use candle_core::quantized::gguf_file::{Content, Value};

use crate::error::{Error, Result};

// The standard keys the core reads (gguf-py's `Keys`; tabtwin's own keys are in `keys.rs`).
pub const ARCHITECTURE: &str = "general.architecture";
pub const NAME: &str = "general.name";
/// A model's recommended sampling, as gguf-py writes it.
pub const SAMPLING_TEMP: &str = "general.sampling.temp";
pub const SAMPLING_TOP_K: &str = "general.sampling.top_k";
pub const SAMPLING_TOP_P: &str = "general.sampling.top_p";
pub const SAMPLING_PENALTY_REPEAT: &str = "general.sampling.penalty_repeat";
pub const CHAT_TEMPLATE: &str = "tokenizer.chat_template";
pub const TOKENIZER_MODEL: &str = "tokenizer.ggml.model";
pub const TOKENIZER_PRE: &str = "tokenizer.ggml.pre";
pub const TOKENS: &str = "tokenizer.ggml.tokens";
pub const MERGES: &str = "tokenizer.ggml.merges";
pub const TOKEN_TYPE: &str = "tokenizer.ggml.token_type";
pub const BOS_TOKEN_ID: &str = "tokenizer.ggml.bos_token_id";
pub const EOS_TOKEN_ID: &str = "tokenizer.ggml.eos_token_id";

/// `{arch}.context_length`.
pub fn context_length_key(architecture: &str) -> String {
    format!("{architecture}.context_length")
}

pub struct GgufFile {
    pub content: Content,
    pub bytes: Vec<u8>,
}

impl GgufFile {
    pub fn parse(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() < 4 || &bytes[..4] != b"GGUF" {
            return Err(Error::BadGguf(format!("missing the 'GGUF' magic at the start ({} bytes given)", bytes.len())));
        }
        check::check_header(&bytes)?;
        let content = Content::read(&mut Cursor::new(&bytes))
            .map_err(|e| Error::BadGguf(format!("header unreadable ({e}); the file may be truncated")))?;
        let needed = tensor_data_end(&content)?;
        if needed > bytes.len() as u64 {
            return Err(Error::BadGguf(format!(
                "truncated: the tensors need {needed} bytes but the file has {}; download it again",
                bytes.len()
            )));
        }
        Ok(Self { content, bytes })
    }

    pub fn metadata(&self) -> &HashMap<String, Value> {
        &self.content.metadata
    }

    pub fn cursor(&self) -> Cursor<&[u8]> {
        Cursor::new(&self.bytes)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(key)
    }

    pub fn string(&self, key: &str) -> Result<&str> {
        match self.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(wrong_type(key, "a string", other)),
            None => Err(missing(key)),
        }
    }

    /// A string that may be absent; present with another type is an error naming the key (a
    /// mistyped key must not read as a missing one: `tabtwin.tools` absent means "any app").
    pub fn opt_string(&self, key: &str) -> Result<Option<&str>> {
        match self.get(key) {
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(key, "a string", other)),
            None => Ok(None),
        }
    }

    pub fn u32(&self, key: &str) -> Result<u32> {
        let value = self.get(key).ok_or_else(|| missing(key))?;
        match value {
            Value::U8(v) => Ok(*v as u32),
            Value::U16(v) => Ok(*v as u32),
            Value::U32(v) => Ok(*v),
            Value::I32(v) if *v >= 0 => Ok(*v as u32),
            Value::U64(v) if *v <= u32::MAX as u64 => Ok(*v as u32),
            Value::I64(v) if *v >= 0 && *v <= u32::MAX as i64 => Ok(*v as u32),
            other => Err(wrong_type(key, "an unsigned integer", other)),
        }
    }

    /// An unsigned integer that may be absent; present with another type is an error naming the key.
    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.u32(key).map(Some),
        }
    }

    /// An f32 that may be absent; present with another type is an error naming the key.
    pub fn opt_f32(&self, key: &str) -> Result<Option<f32>> {
        match self.get(key) {
            Some(Value::F32(v)) => Ok(Some(*v)),
            Some(other) => Err(wrong_type(key, "an f32", other)),
            None => Ok(None),
        }
    }

    /// A non-negative i32 or a u32 that may be absent; anything else is an error naming the key.
    pub fn opt_count(&self, key: &str) -> Result<Option<u32>> {
        match self.get(key) {
            Some(Value::U32(v)) => Ok(Some(*v)),
            Some(Value::I32(v)) if *v >= 0 => Ok(Some(*v as u32)),
            Some(Value::I32(v)) => Err(Error::Metadata { key: key.to_string(), problem: format!("{v} is negative") }),
            Some(other) => Err(wrong_type(key, "an i32 or u32", other)),
            None => Ok(None),
        }
    }

    pub fn strings(&self, key: &str) -> Result<Vec<&str>> {
        match self.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.as_str()),
                    other => Err(wrong_type(key, "an array of strings", other)),
                })
                .collect(),
            Some(other) => Err(wrong_type(key, "an array of strings", other)),
            None => Err(missing(key)),
        }
    }

    pub fn i32s(&self, key: &str) -> Result<Vec<i32>> {
        match self.get(key) {
            Some(Value::Array(items)) => {
                items.iter().map(|v| v.to_i32().map_err(|_| wrong_type(key, "an array of i32", v))).collect()
            }
            Some(other) => Err(wrong_type(key, "an array of integers", other)),
            None => Err(missing(key)),
        }
    }
}

fn tensor_data_end(content: &Content) -> Result<u64> {
    let mut end = content.tensor_data_offset;
    let mut spans = Vec::with_capacity(content.tensor_infos.len());
    for (name, info) in &content.tensor_infos {
        let elems = info.shape.elem_count() as u64;
        let block = info.ggml_dtype.block_size() as u64;
        if !elems.is_multiple_of(block) {
            return Err(Error::BadGguf(format!(
                "tensor '{name}' has {elems} elements, not a multiple of its block size {block}"
            )));
        }
        let size = elems / block * info.ggml_dtype.type_size() as u64;
        let stop = content
            .tensor_data_offset
            .checked_add(info.offset)
            .and_then(|s| s.checked_add(size))
            .ok_or_else(|| Error::BadGguf(format!("tensor '{name}' offset overflows")))?;
        end = end.max(stop);
        spans.push((stop - size, stop, name));
    }
    // two tensors sharing bytes would each read the other's weights
    spans.sort();
    for pair in spans.windows(2) {
        if pair[1].0 < pair[0].1 {
            return Err(Error::BadGguf(format!("tensors '{}' and '{}' overlap in the file", pair[0].2, pair[1].2)));
        }
    }
    Ok(end)
}

fn missing(key: &str) -> Error {
    Error::Metadata { key: key.to_string(), problem: "missing".to_string() }
}

fn wrong_type(key: &str, expected: &str, found: &Value) -> Error {
    Error::Metadata { key: key.to_string(), problem: format!("expected {expected}, found {:?}", found.value_type()) }
}
