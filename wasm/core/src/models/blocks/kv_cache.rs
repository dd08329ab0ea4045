//! Keys and values of every layer for the tokens seen so far. Each layer's storage
//! is allocated once, for the token window the caller allows, on first use (a page
//! sets its window right after load); appending never reallocates or copies.

use crate::error::{Error, Result};

pub struct KvCache {
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    /// Floats per token per layer (kv heads x head dim).
    width: usize,
    capacity: usize,
    len: usize,
}

impl KvCache {
    pub fn new(layers: usize, width: usize, capacity: usize) -> Self {
        Self { keys: vec![Vec::new(); layers], values: vec![Vec::new(); layers], width, capacity, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
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
            if store.capacity() > 0 {
                let mut resized = Vec::with_capacity(tokens * self.width);
                resized.extend_from_slice(&store[..keep]);
                *store = resized;
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
            if store.capacity() == 0 {
                store.reserve_exact(self.capacity * self.width);
            }
            store.extend_from_slice(new);
        }
    }

    /// Mark the batch appended by every layer as part of the cache.
    pub fn commit(&mut self, tokens: usize) {
        self.len += tokens;
    }

    /// A layer's keys and values for all cached tokens plus the batch being fed.
    pub fn layer(&self, layer: usize) -> (&[f32], &[f32]) {
        (&self.keys[layer], &self.values[layer])
    }

    /// Bytes held for the window (what the tab pays for it).
    pub fn reserved_bytes(&self) -> usize {
        self.keys.iter().chain(&self.values).map(|s| s.capacity() * 4).sum()
    }
}
