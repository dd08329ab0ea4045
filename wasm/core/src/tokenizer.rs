//! A Hugging Face `tokenizers::Tokenizer` built from GGUF metadata alone.
//!
//! The file carries the vocabulary, merges, token types and the pre-tokenizer
//! name (`tokenizer.ggml.pre`); the pre-tokenizer regexes below are the ones the
//! original `tokenizer.json` files use, so ids equal transformers' for the same
//! model. A pre-tokenizer we do not know is an error that names it.

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

/// Qwen2 / Qwen2.5: like GPT-4's cl100k but single digits.
const QWEN2_PATTERN: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3 ("llama-bpe"): numbers in groups of up to three.
const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Token type 3 (control) and 4 (user defined) are matched whole in the input.
pub const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_USER_DEFINED: i32 = 4;

pub struct TextTokenizer {
    inner: Tokenizer,
}

impl TextTokenizer {
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let model = file.string(gguf::TOKENIZER_MODEL)?;
        if model != "gpt2" {
            return Err(Error::Tokenizer(format!(
                "{} = '{model}' is not supported yet (supported: gpt2 byte-level BPE)",
                gguf::TOKENIZER_MODEL
            )));
        }
        let pre = file.opt_string(gguf::TOKENIZER_PRE)?.unwrap_or("default");
        let tokens = file.strings(gguf::TOKENS)?;
        let merges = file.strings(gguf::MERGES)?;
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
        Self::byte_level_bpe(pre, &tokens, &merges, &token_types)
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
        Ok(Self { inner })
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.inner.encode(text, false).map_err(|e| Error::Tokenizer(format!("encode: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(|e| Error::Tokenizer(format!("decode: {e}")))
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
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
