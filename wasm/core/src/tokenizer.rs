//! The model's tokenizer, built from GGUF metadata alone, with the ids transformers gives.
//!
//! `tokenizer.ggml.model = "gpt2"`: a Hugging Face `tokenizers::Tokenizer` (byte-level BPE). The
//! file carries the vocabulary, merges, token types and the pre-tokenizer name
//! (`tokenizer.ggml.pre`); the pre-tokenizer regexes below are the ones the original
//! `tokenizer.json` files use. A pre-tokenizer we do not know is an error that names it.
//!
//! `tokenizer.ggml.model = "llama"` (SentencePiece) on a Gemma: `spm.rs`.

use candle_core::quantized::gguf_file::Value;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use crate::error::{Error, Result};
use crate::gguf::{self, GgufFile};

mod spm;
#[cfg(test)]
mod tests;

/// Whether a SentencePiece vocabulary starts the text with "▁" (Gemma's does not).
const ADD_SPACE_PREFIX: &str = "tokenizer.ggml.add_space_prefix";
/// The architectures whose SentencePiece vocabulary `spm.rs` tokenizes as transformers does.
const SPM_ARCHITECTURES: &[&str] = &["gemma", "gemma2", "gemma3"];

/// Qwen2 / Qwen2.5: like GPT-4's cl100k but single digits.
const QWEN2_PATTERN: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3 ("llama-bpe"): numbers in groups of up to three.
const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Token type 3 (control) and 4 (user defined) are matched whole in the input.
pub const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_USER_DEFINED: i32 = 4;

pub struct TextTokenizer {
    inner: Inner,
}

enum Inner {
    ByteLevel(Box<Tokenizer>),
    SentencePiece(spm::Spm),
}

impl TextTokenizer {
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let model = file.string(gguf::TOKENIZER_MODEL)?;
        let tokens = file.strings(gguf::TOKENS)?;
        // optional, but when present it must be integers, one per token (a shorter list would
        // silently leave the last tokens' types unread)
        let token_types = match file.get(gguf::TOKEN_TYPE) {
            None => Vec::new(),
            Some(_) => file.i32s(gguf::TOKEN_TYPE)?,
        };
        if !token_types.is_empty() && token_types.len() != tokens.len() {
            return Err(Error::Metadata {
                key: gguf::TOKEN_TYPE.to_string(),
                problem: format!("{} entries for {} tokens ({})", token_types.len(), tokens.len(), gguf::TOKENS),
            });
        }
        match model {
            "gpt2" => {
                let pre = file.opt_string(gguf::TOKENIZER_PRE)?.unwrap_or("default");
                Self::byte_level_bpe(pre, &tokens, &file.strings(gguf::MERGES)?, &token_types)
            }
            "llama" => {
                let architecture = file.string(gguf::ARCHITECTURE)?;
                let space_prefix = !matches!(file.get(ADD_SPACE_PREFIX), Some(Value::Bool(false)));
                if !SPM_ARCHITECTURES.contains(&architecture) || space_prefix {
                    return Err(Error::Tokenizer(format!(
                        "{} = 'llama' (SentencePiece) is supported for {} with {ADD_SPACE_PREFIX} = false, \
                         not for '{architecture}'{}",
                        gguf::TOKENIZER_MODEL,
                        SPM_ARCHITECTURES.join(", "),
                        if space_prefix { " with a space prefix" } else { "" }
                    )));
                }
                Self::sentencepiece(&tokens, &token_types)
            }
            other => Err(Error::Tokenizer(format!(
                "{} = '{other}' is not supported (supported: gpt2 byte-level BPE, llama SentencePiece on Gemma)",
                gguf::TOKENIZER_MODEL
            ))),
        }
    }

    /// Gemma's SentencePiece tokenizer from its vocabulary (id = position) and token types
    /// (`spm.rs`); control and user-defined tokens are matched whole.
    pub fn sentencepiece(tokens: &[&str], token_types: &[i32]) -> Result<Self> {
        let spm = spm::Spm::new(tokens, token_types, &[TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED])?;
        Ok(Self { inner: Inner::SentencePiece(spm) })
    }

    /// A byte-level BPE tokenizer from its parts: the pre-tokenizer name, the vocabulary
    /// (id = position), the merges ("a b") and each token's GGUF token type.
    pub fn byte_level_bpe(pre: &str, tokens: &[&str], merges: &[&str], token_types: &[i32]) -> Result<Self> {
        let vocab: Vocab = tokens.iter().enumerate().map(|(id, tok)| (tok.to_string(), id as u32)).collect();
        let merges = merges
            .iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| Error::Tokenizer(format!("merge '{m}' has no space")))
            })
            .collect::<Result<Vec<_>>>()?;
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| Error::Tokenizer(format!("building BPE: {e}")))?;

        let mut inner = Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(pre_tokenizer(pre)?));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        if pre == "qwen2" {
            inner.with_normalizer(Some(NFC));
        }
        let specials: Vec<AddedToken> = tokens
            .iter()
            .zip(token_types.iter())
            .filter(|(_, t)| **t == TOKEN_TYPE_CONTROL || **t == TOKEN_TYPE_USER_DEFINED)
            .map(|(tok, _)| AddedToken::from(tok.to_string(), true))
            .collect();
        inner.add_special_tokens(&specials);
        Ok(Self { inner: Inner::ByteLevel(Box::new(inner)) })
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        match &self.inner {
            Inner::ByteLevel(t) => {
                let enc = t.encode(text, false).map_err(|e| Error::Tokenizer(format!("encode: {e}")))?;
                Ok(enc.get_ids().to_vec())
            }
            Inner::SentencePiece(spm) => Ok(spm.encode(text)),
        }
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        match &self.inner {
            Inner::ByteLevel(t) => t.decode(ids, false).map_err(|e| Error::Tokenizer(format!("decode: {e}"))),
            Inner::SentencePiece(spm) => Ok(spm.decode(ids)),
        }
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        match &self.inner {
            Inner::ByteLevel(t) => t.token_to_id(token),
            Inner::SentencePiece(spm) => spm.token_to_id(token),
        }
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        match &self.inner {
            Inner::ByteLevel(t) => t.id_to_token(id),
            Inner::SentencePiece(spm) => spm.id_to_token(id),
        }
    }
}

fn regex_split(pattern: &str) -> Result<PreTokenizerWrapper> {
    let split = Split::new(SplitPattern::Regex(pattern.to_string()), SplitDelimiterBehavior::Isolated, false)
        .map_err(|e| Error::Tokenizer(format!("pre-tokenizer regex: {e}")))?;
    Ok(split.into())
}

fn pre_tokenizer(pre: &str) -> Result<PreTokenizerWrapper> {
    let byte_level_only = ByteLevel::new(false, false, false);
    Ok(match pre {
        // GPT-2's own regex inside ByteLevel.
        "default" | "gpt2" | "gpt-2" => ByteLevel::new(false, true, true).into(),
        // SmolLM / SmolLM2: every digit alone, then GPT-2's regex.
        "smollm" => Sequence::new(vec![Digits::new(true).into(), ByteLevel::new(false, true, true).into()]).into(),
        "qwen2" => Sequence::new(vec![regex_split(QWEN2_PATTERN)?, byte_level_only.into()]).into(),
        "llama-bpe" | "llama3" => Sequence::new(vec![regex_split(LLAMA3_PATTERN)?, byte_level_only.into()]).into(),
        other => {
            return Err(Error::Tokenizer(format!(
                "tokenizer.ggml.pre = '{other}' is not supported (supported: default, gpt2, smollm, qwen2, llama-bpe)"
            )))
        }
    })
}
