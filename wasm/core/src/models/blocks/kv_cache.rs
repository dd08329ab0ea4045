//! Keys and values of every layer for the tokens seen so far. Each layer's storage
//! is allocated once, for the token window the caller allows, on first use (a page
//! sets its window right after load); appending never reallocates or copies.
//!
//! A model whose weights are stored in F32 keeps f32 keys and values (the exactness
//! tests compare those with transformers to 1e-4); any other model keeps them in f16,
//! as llama.cpp does, which halves the cache (94 MB -> 47 MB for SmolLM2-135M at
//! 2048 tokens). The choice follows the file, so the browser and the native build
//! make the same one and stay bit-identical.

use super::formats::f16_to_f32;
use super::kernels;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    F16,
}

enum Store {
    F32(Vec<f32>),
    F16(Vec<u16>),
}

impl Store {
    fn new(precision: Precision) -> Self {
        match precision {
            Precision::F32 => Store::F32(Vec::new()),
            Precision::F16 => Store::F16(Vec::new()),
        }
    }

    fn precision(&self) -> Precision {
        match self {
            Store::F32(_) => Precision::F32,
            Store::F16(_) => Precision::F16,
        }
    }

    fn allocated(&self) -> usize {
        match self {
            Store::F32(v) => v.capacity(),
            Store::F16(v) => v.capacity(),
        }
    }

    fn reserve(&mut self, floats: usize) {
        match self {
            Store::F32(v) => v.reserve_exact(floats),
            Store::F16(v) => v.reserve_exact(floats),
        }
    }

    fn truncate(&mut self, floats: usize) {
        match self {
            Store::F32(v) => v.truncate(floats),
            Store::F16(v) => v.truncate(floats),
        }
    }

    fn resized(&self, floats: usize, keep: usize) -> Store {
        match self {
            Store::F32(v) => {
                let mut out = Vec::with_capacity(floats);
                out.extend_from_slice(&v[..keep]);
                Store::F32(out)
            }
            Store::F16(v) => {
                let mut out = Vec::with_capacity(floats);
                out.extend_from_slice(&v[..keep]);
                Store::F16(out)
            }
        }
    }

    /// Append the first `floats` values of `other` (of the same precision) as they are stored.
    fn extend_from(&mut self, other: &Store, floats: usize) {
        match (self, other) {
            (Store::F32(v), Store::F32(o)) => v.extend_from_slice(&o[..floats]),
            (Store::F16(v), Store::F16(o)) => v.extend_from_slice(&o[..floats]),
            _ => unreachable!("a cache and its copy share one precision (empty_like)"),
        }
    }

    fn push(&mut self, new: &[f32]) {
        match self {
            Store::F32(v) => v.extend_from_slice(new),
            Store::F16(v) => v.extend(new.iter().map(|x| half::f16::from_f32(*x).to_bits())),
        }
    }
}

pub struct KvCache {
    keys: Vec<Store>,
    values: Vec<Store>,
    /// Floats per token per layer (kv heads x head dim).
    width: usize,
    capacity: usize,
    len: usize,
}

/// One layer's cached keys and values, read by attention.
pub struct LayerView<'a> {
    keys: &'a Store,
    values: &'a Store,
    width: usize,
}

impl LayerView<'_> {
    /// query · the key of position `j` at `offset` within the token's keys.
    #[inline]
    pub fn score(&self, query: &[f32], j: usize, offset: usize) -> f32 {
        let at = j * self.width + offset;
        match self.keys {
            Store::F32(k) => kernels::dot(query, &k[at..at + query.len()]),
            Store::F16(k) => kernels::dot_f16(bytemuck::cast_slice(&k[at..at + query.len()]), query),
        }
    }

    /// out += p * the value of position `j` at `offset`.
    #[inline]
    pub fn add_value(&self, out: &mut [f32], p: f32, j: usize, offset: usize) {
        let at = j * self.width + offset;
        let n = out.len();
        match self.values {
            Store::F32(v) => {
                for (o, v) in out.iter_mut().zip(&v[at..at + n]) {
                    *o += p * v;
                }
            }
            Store::F16(v) => {
                for (o, v) in out.iter_mut().zip(&v[at..at + n]) {
                    *o += p * f16_to_f32(*v);
                }
            }
        }
    }
}

impl KvCache {
    pub fn new(layers: usize, width: usize, capacity: usize, precision: Precision) -> Self {
        Self {
            keys: (0..layers).map(|_| Store::new(precision)).collect(),
            values: (0..layers).map(|_| Store::new(precision)).collect(),
            width,
            capacity,
            len: 0,
        }
    }

    /// An empty cache of the same layers, width, window and precision (storage made on first use).
    pub fn empty_like(&self) -> Self {
        let precision = self.keys.first().map_or(Precision::F32, Store::precision);
        Self::new(self.keys.len(), self.width, self.capacity, precision)
    }

    /// Hold the first `tokens` positions of `from` (made by `empty_like` of it), and nothing else.
    pub fn copy_prefix(&mut self, from: &KvCache, tokens: usize) {
        let tokens = tokens.min(from.len).min(self.capacity);
        self.truncate(0);
        let floats = tokens * self.width;
        for (store, source) in self.keys.iter_mut().zip(&from.keys).chain(self.values.iter_mut().zip(&from.values)) {
            if store.allocated() == 0 {
                store.reserve(self.capacity * self.width);
            }
            store.extend_from(source, floats);
        }
        self.len = tokens;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Change the window. Storage already made is remade at the new size (kept tokens copied once).
    pub fn set_capacity(&mut self, tokens: usize) {
        if tokens == self.capacity {
            return;
        }
        self.capacity = tokens;
        self.len = self.len.min(tokens);
        let keep = self.len * self.width;
        for store in self.keys.iter_mut().chain(self.values.iter_mut()) {
            if store.allocated() > 0 {
                *store = store.resized(tokens * self.width, keep);
            }
        }
    }

    /// Forget everything after the first `tokens` positions.
    pub fn truncate(&mut self, tokens: usize) {
        self.len = self.len.min(tokens);
        for store in self.keys.iter_mut().chain(self.values.iter_mut()) {
            store.truncate(self.len * self.width);
        }
    }

    /// Check that `tokens` more fit; call before a batch's layers append.
    pub fn check_room(&self, tokens: usize) -> Result<()> {
        if self.len + tokens > self.capacity {
            return Err(Error::Invalid(format!(
                "the KV cache holds {} tokens (the context window) and has {} already; {tokens} more do not fit",
                self.capacity, self.len
            )));
        }
        Ok(())
    }

    /// Append a batch's keys and values for `layer` (tokens x width each).
    pub fn append(&mut self, layer: usize, keys: &[f32], values: &[f32]) {
        for (store, new) in [(&mut self.keys[layer], keys), (&mut self.values[layer], values)] {
            if store.allocated() == 0 {
                store.reserve(self.capacity * self.width);
            }
            store.push(new);
        }
    }

    /// Mark the batch appended by every layer as part of the cache.
    pub fn commit(&mut self, tokens: usize) {
        self.len += tokens;
    }

    /// A layer's keys and values for all cached tokens plus the batch being fed.
    pub fn layer(&self, layer: usize) -> LayerView<'_> {
        LayerView { keys: &self.keys[layer], values: &self.values[layer], width: self.width }
    }
}
