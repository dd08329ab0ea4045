//! Gemma's SentencePiece vocabulary (`tokenizer.ggml.model = "llama"`), tokenized exactly as
//! transformers tokenizes the same GGUF (`integrations/gguf` `gemma_tokenizer` + `GemmaTokenizer`):
//!
//! - control tokens (type 3) and user-defined ones (type 4) are matched whole in the text first,
//!   leftmost-longest, as `tokenizers`' added vocabulary does;
//! - the rest has its spaces written as "▁" (no space prefix: `add_space_prefix` is false) and is
//!   one BPE word, whose characters missing from the vocabulary fall back to `<0xNN>` byte tokens;
//! - the file has no merges. transformers derives them from the vocabulary: every split of a token
//!   into two tokens, ranked by the token's position in the file (earlier first; Gemma's scores do
//!   not follow its merge order), then by the longer left part. A pair's rank is computed here
//!   when it is met instead of listing the ~515k merges: same order, no table to build in the tab;
//! - a token of two or more spaces is stored as real spaces but looked up as "▁▁…", so it is
//!   respelled before anything else (and, no longer in the vocabulary as spaces, is not matched whole).
//!
//! Decoding writes "▁" as a space and reassembles runs of byte tokens into UTF-8 (U+FFFD per byte
//! of a run that is not valid UTF-8, which `stream.rs` holds back), like `tokenizers`' decoders
//! `Replace`, `ByteFallback`, `Fuse`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::error::{Error, Result};

const SPACE: char = '\u{2581}';
const UNK: &str = "<unk>";

pub struct Spm {
    /// Token strings by id, multi-space tokens respelled as "▁…".
    tokens: Vec<String>,
    vocab: HashMap<String, u32>,
    /// Tokens matched whole in the text, by first character, longest first.
    whole: HashMap<char, Vec<u32>>,
}

impl Spm {
    /// From the vocabulary (id = position) and each token's GGUF type (empty: all normal).
    pub fn new(tokens: &[&str], token_types: &[i32], whole_types: &[i32]) -> Result<Self> {
        let original = tokens;
        let tokens: Vec<String> = tokens.iter().map(|t| respelled(t)).collect();
        let mut vocab = HashMap::with_capacity(tokens.len());
        for (id, token) in tokens.iter().enumerate() {
            vocab.insert(token.clone(), id as u32); // a repeated token: the last id, as a Python dict keeps it
        }
        let mut whole: HashMap<char, Vec<u32>> = HashMap::new();
        for (id, token_type) in token_types.iter().enumerate() {
            // a respelled token is matched as transformers matches it: by its stored spelling, which
            // is no longer in the vocabulary, so not at all
            let token = &tokens[id];
            if whole_types.contains(token_type)
                && !token.is_empty()
                && token == original[id]
                && vocab.get(token) == Some(&(id as u32))
            {
                whole.entry(token.chars().next().unwrap_or_default()).or_default().push(id as u32);
            }
        }
        for ids in whole.values_mut() {
            ids.sort_by_key(|&id| Reverse(tokens[id as usize].len()));
        }
        if !vocab.contains_key(UNK) {
            return Err(Error::Tokenizer(format!("the SentencePiece vocabulary has no {UNK} token")));
        }
        Ok(Self { tokens, vocab, whole })
    }

    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        let mut start = 0; // of the text not yet tokenized
        let mut at = 0;
        while at < text.len() {
            let rest = &text[at..];
            let c = rest.chars().next().unwrap_or_default();
            let found = self.whole.get(&c).and_then(|candidates| {
                candidates.iter().copied().find(|&id| rest.starts_with(self.tokens[id as usize].as_str()))
            });
            match found {
                Some(id) => {
                    self.encode_word(&text[start..at], &mut ids);
                    ids.push(id);
                    at += self.tokens[id as usize].len();
                    start = at;
                }
                None => at += c.len_utf8(),
            }
        }
        self.encode_word(&text[start..], &mut ids);
        ids
    }

    /// One stretch of text between whole-matched tokens: spaces as "▁", then BPE.
    fn encode_word(&self, text: &str, ids: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        let word = text.replace(' ', &SPACE.to_string());
        let mut symbols = self.initial_symbols(&word);
        self.merge_all(&mut symbols);
        ids.extend(symbols.iter().filter(|s| s.alive).map(|s| s.id));
    }

    /// One symbol per character, or its UTF-8 bytes as `<0xNN>` tokens, or (no byte token) `<unk>`,
    /// consecutive unknowns fused into one (as `tokenizers`' BPE with `fuse_unk`).
    fn initial_symbols(&self, word: &str) -> Vec<Symbol> {
        let unk = self.vocab[UNK];
        let mut ids: Vec<u32> = Vec::with_capacity(word.len());
        let mut pending_unk = false;
        let mut buf = [0u8; 4];
        for c in word.chars() {
            if let Some(&id) = self.vocab.get(c.encode_utf8(&mut buf) as &str) {
                if std::mem::take(&mut pending_unk) {
                    ids.push(unk);
                }
                ids.push(id);
                continue;
            }
            let bytes: Option<Vec<u32>> =
                c.encode_utf8(&mut buf).bytes().map(|b| self.vocab.get(&format!("<0x{b:02X}>")).copied()).collect();
            match bytes {
                Some(bytes) => ids.extend(bytes),
                None => pending_unk = true,
            }
        }
        if pending_unk {
            ids.push(unk);
        }
        let n = ids.len();
        ids.into_iter()
            .enumerate()
            .map(|(i, id)| Symbol {
                id,
                next: if i + 1 < n { Some(i + 1) } else { None },
                prev: i.checked_sub(1),
                alive: true,
            })
            .collect()
    }

    /// The merged token of `left` + `right` and the merge's rank (lower merges first), if the
    /// concatenation is a token: its id, then the longer left part.
    fn merge(&self, left: u32, right: u32) -> Option<(u64, u32)> {
        let left = &self.tokens[left as usize];
        let merged = *self.vocab.get(&format!("{left}{}", self.tokens[right as usize]))?;
        let longer_left_first = u32::MAX - left.chars().count() as u32;
        Some(((u64::from(merged) << 32) | u64::from(longer_left_first), merged))
    }

    /// `tokenizers`' `Word::merge_all`: the best-ranked adjacent pair first, the leftmost on a tie.
    fn merge_all(&self, symbols: &mut [Symbol]) {
        let mut queue: BinaryHeap<Reverse<(u64, usize, u32)>> = BinaryHeap::new();
        for pos in 0..symbols.len().saturating_sub(1) {
            if let Some((rank, merged)) = self.merge(symbols[pos].id, symbols[pos + 1].id) {
                queue.push(Reverse((rank, pos, merged)));
            }
        }
        while let Some(Reverse((_, pos, merged))) = queue.pop() {
            let Some(next) = symbols[pos].next.filter(|_| symbols[pos].alive) else { continue };
            if self.merge(symbols[pos].id, symbols[next].id).map(|m| m.1) != Some(merged) {
                continue; // a stale entry: one of the two has merged since
            }
            symbols[pos].id = merged;
            symbols[pos].next = symbols[next].next;
            symbols[next].alive = false;
            if let Some(after) = symbols[next].next {
                symbols[after].prev = Some(pos);
            }
            if let Some(prev) = symbols[pos].prev {
                if let Some((rank, m)) = self.merge(symbols[prev].id, merged) {
                    queue.push(Reverse((rank, prev, m)));
                }
            }
            if let Some(after) = symbols[pos].next {
                if let Some((rank, m)) = self.merge(merged, symbols[after].id) {
                    queue.push(Reverse((rank, pos, m)));
                }
            }
        }
    }

    pub fn decode(&self, ids: &[u32]) -> String {
        let mut text = String::new();
        let mut bytes: Vec<u8> = Vec::new();
        for token in ids.iter().filter_map(|&id| self.tokens.get(id as usize)) {
            match byte_of(token) {
                Some(b) => bytes.push(b),
                None => {
                    flush_bytes(&mut bytes, &mut text);
                    text.extend(token.chars().map(|c| if c == SPACE { ' ' } else { c }));
                }
            }
        }
        flush_bytes(&mut bytes, &mut text);
        text
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token).copied()
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.tokens.get(id as usize).cloned()
    }
}

#[derive(Clone, Copy)]
struct Symbol {
    id: u32,
    prev: Option<usize>,
    next: Option<usize>,
    alive: bool,
}

/// A token of spaces only (two or more, perhaps with other blanks) is looked up as "▁" per character.
fn respelled(token: &str) -> String {
    let blank = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c); // Python's str.isspace
    if token.contains(' ') && token.chars().all(blank) {
        SPACE.to_string().repeat(token.chars().count())
    } else {
        token.to_string()
    }
}

/// `<0xNN>` is the byte NN (`tokenizers`' `ByteFallback`: six characters, hex digits).
fn byte_of(token: &str) -> Option<u8> {
    if token.len() == 6 && token.starts_with("<0x") && token.ends_with('>') {
        u8::from_str_radix(&token[3..5], 16).ok()
    } else {
        None
    }
}

fn flush_bytes(bytes: &mut Vec<u8>, text: &mut String) {
    if bytes.is_empty() {
        return;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => text.push_str(s),
        Err(_) => text.extend(std::iter::repeat_n('\u{FFFD}', bytes.len())),
    }
    bytes.clear();
}
