//! The decoder-only transformer every supported architecture is: token embedding,
//! layers of (norm, attention, residual, norm, gated MLP, residual), a final norm and
//! the output matrix. An architecture file says how its variant differs
//! ([`Variant`]); the hyperparameters come from the GGUF header.

use super::blocks::activations::Input;
use super::blocks::attention::{attend, Shape};
use super::blocks::formats::Format;
use super::blocks::kv_cache::{KvCache, Precision};
use super::blocks::matrix::{Linear, Matrix};
use super::blocks::norm::{rms_norm, rms_norm_rows};
use super::blocks::rope::{Pairing, Rope};
use super::blocks::tensors::Tensors;
use super::CausalLm;
use crate::error::{Error, Result};
use crate::gguf::GgufFile;

/// What sets an architecture apart from the plain llama block.
pub struct Variant {
    /// `general.architecture`, and the prefix of its header keys.
    pub name: &'static str,
    pub rope: Pairing,
    /// Per-head RMS norms of q and k before the rotary (qwen3's `attn_q_norm`, `attn_k_norm`).
    pub qk_norm: bool,
}

/// Tokens fed through the layers at once during a prefill: large enough that each
/// weight row read from memory serves many tokens, small enough to bound the
/// activations' memory for a long prompt.
const PREFILL_BATCH: usize = 64;

/// The header facts that size the network.
#[derive(Debug, Clone)]
pub struct Hyper {
    pub hidden: usize,
    pub layers: usize,
    pub ffn: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub rope_dims: usize,
    pub rope_base: f32,
    pub eps: f32,
    pub context_length: usize,
}

impl Hyper {
    pub fn read(file: &GgufFile, arch: &str) -> Result<Self> {
        let key = |k: &str| format!("{arch}.{k}");
        let count = |k: &str| -> Result<usize> {
            let v = file.u32(&key(k))? as usize;
            if v == 0 {
                return Err(Error::Metadata { key: key(k), problem: "is 0".into() });
            }
            Ok(v)
        };
        let hidden = count("embedding_length")?;
        let heads = count("attention.head_count")?;
        let kv_heads =
            if file.get(&key("attention.head_count_kv")).is_some() { count("attention.head_count_kv")? } else { heads };
        if !heads.is_multiple_of(kv_heads) {
            return Err(Error::Metadata {
                key: key("attention.head_count_kv"),
                problem: format!("{kv_heads} does not divide the {heads} attention heads"),
            });
        }
        let head_dim = if file.get(&key("attention.key_length")).is_some() {
            count("attention.key_length")?
        } else {
            hidden / heads
        };
        let rope_dims =
            if file.get(&key("rope.dimension_count")).is_some() { count("rope.dimension_count")? } else { head_dim };
        if rope_dims > head_dim || !rope_dims.is_multiple_of(2) {
            return Err(Error::Metadata {
                key: key("rope.dimension_count"),
                problem: format!("{rope_dims} must be even and at most the head size {head_dim}"),
            });
        }
        let eps = file.opt_f32(&key("attention.layer_norm_rms_epsilon"))?.ok_or_else(|| Error::Metadata {
            key: key("attention.layer_norm_rms_epsilon"),
            problem: "missing".into(),
        })?;
        Ok(Self {
            hidden,
            layers: count("block_count")?,
            ffn: count("feed_forward_length")?,
            heads,
            kv_heads,
            head_dim,
            rope_dims,
            rope_base: file.opt_f32(&key("rope.freq_base"))?.unwrap_or(10_000.0),
            eps,
            context_length: count("context_length")?,
        })
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: Option<Vec<f32>>,
    k_norm: Option<Vec<f32>>,
    ffn_norm: Vec<f32>,
    gate: Linear,
    up: Linear,
    down: Linear,
}

pub struct Decoder {
    hyper: Hyper,
    embedding: Matrix,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    output: Matrix,
    rope: Rope,
    cache: KvCache,
    /// The second cache (`swap_cache`), made when first asked for.
    spare: Option<KvCache>,
}

impl Decoder {
    pub fn load(file: GgufFile, variant: &Variant) -> Result<Self> {
        let h = Hyper::read(&file, variant.name)?;
        let t = Tensors::new(file);
        let (q_dim, kv_dim) = (h.heads * h.head_dim, h.kv_heads * h.head_dim);
        let embedding_info = t.matrix("token_embd.weight", t.rows("token_embd.weight")?, h.hidden)?;
        let vocab = embedding_info.rows;
        let linear = |name: &str, rows: usize, cols: usize| -> Result<Linear> {
            Ok(Linear {
                weight: t.matrix(&format!("{name}.weight"), rows, cols)?,
                bias: t.opt_vector(&format!("{name}.bias"), rows)?,
            })
        };
        let layers = (0..h.layers)
            .map(|i| {
                let b = |n: &str| format!("blk.{i}.{n}");
                let norm = |n: &str, len: usize| -> Result<Option<Vec<f32>>> {
                    if variant.qk_norm {
                        t.vector(&b(n), len).map(Some)
                    } else {
                        Ok(None)
                    }
                };
                Ok(Layer {
                    attn_norm: t.vector(&b("attn_norm.weight"), h.hidden)?,
                    q: linear(&b("attn_q"), q_dim, h.hidden)?,
                    k: linear(&b("attn_k"), kv_dim, h.hidden)?,
                    v: linear(&b("attn_v"), kv_dim, h.hidden)?,
                    o: linear(&b("attn_output"), h.hidden, q_dim)?,
                    q_norm: norm("attn_q_norm.weight", h.head_dim)?,
                    k_norm: norm("attn_k_norm.weight", h.head_dim)?,
                    ffn_norm: t.vector(&b("ffn_norm.weight"), h.hidden)?,
                    gate: linear(&b("ffn_gate"), h.ffn, h.hidden)?,
                    up: linear(&b("ffn_up"), h.ffn, h.hidden)?,
                    down: linear(&b("ffn_down"), h.hidden, h.ffn)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Tied models have no `output.weight`: the embedding matrix, used as stored.
        let output =
            if t.has("output.weight") { t.matrix("output.weight", vocab, h.hidden)? } else { embedding_info.clone() };
        // f32 keys and values for an all-F32 model (exact), f16 for any other (see kv_cache.rs);
        // dot_f16 reads eight values per step, so an odd head size keeps f32.
        let exact = layers.iter().all(|l| l.q.weight.format == Format::F32);
        let precision = if exact || !h.head_dim.is_multiple_of(8) { Precision::F32 } else { Precision::F16 };
        Ok(Self {
            rope: Rope::new(variant.rope, h.rope_dims, h.rope_base),
            cache: KvCache::new(h.layers, kv_dim, h.context_length, precision),
            spare: None,
            output_norm: t.vector("output_norm.weight", h.hidden)?,
            embedding: embedding_info,
            output,
            layers,
            hyper: h,
        })
    }

    /// Feed `tokens` at positions `first..`; returns the hidden state of the last one.
    fn feed(&mut self, tokens: &[u32], first: usize) -> Result<Vec<f32>> {
        let h = &self.hyper;
        let hidden = h.hidden;
        let mut x = vec![0f32; tokens.len() * hidden];
        for (token, row) in tokens.iter().zip(x.chunks_exact_mut(hidden)) {
            if *token as usize >= self.embedding.rows {
                return Err(Error::Invalid(format!(
                    "token id {token} is outside the vocabulary of {}",
                    self.embedding.rows
                )));
            }
            self.embedding.row_f32(*token as usize, row);
        }
        let shape = Shape { heads: h.heads, kv_heads: h.kv_heads, head_dim: h.head_dim };
        let angles = self.rope.angles(first, tokens.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let normed = rms_norm_rows(&x, &layer.attn_norm, h.eps);
            let input = Input::new(&normed, hidden);
            let mut q = layer.q.forward(&input);
            let mut k = layer.k.forward(&input);
            let v = layer.v.forward(&input);
            if let (Some(qn), Some(kn)) = (&layer.q_norm, &layer.k_norm) {
                q = rms_norm_rows(&q, qn, h.eps);
                k = rms_norm_rows(&k, kn, h.eps);
            }
            self.rope.apply(&mut q, h.heads, h.head_dim, &angles);
            self.rope.apply(&mut k, h.kv_heads, h.head_dim, &angles);
            self.cache.append(i, &k, &v);
            let attended = attend(&q, &self.cache.layer(i), first, &shape);
            add(&mut x, &layer.o.forward(&Input::new(&attended, h.heads * h.head_dim)));

            let normed = rms_norm_rows(&x, &layer.ffn_norm, h.eps);
            let input = Input::new(&normed, hidden);
            let mut gated = layer.gate.forward(&input);
            let up = layer.up.forward(&input);
            for (g, u) in gated.iter_mut().zip(&up) {
                *g = *g / (1.0 + libm::expf(-*g)) * u;
            }
            add(&mut x, &layer.down.forward(&Input::new(&gated, h.ffn)));
        }
        self.cache.commit(tokens.len());
        x.drain(..(tokens.len() - 1) * hidden);
        Ok(x)
    }
}

fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

impl CausalLm for Decoder {
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        if tokens.is_empty() {
            return Err(Error::Invalid("no tokens to feed".into()));
        }
        if pos > self.cache.len() {
            return Err(Error::Invalid(format!(
                "fed at position {pos} but the cache holds {} tokens",
                self.cache.len()
            )));
        }
        self.cache.truncate(pos);
        self.cache.check_room(tokens.len())?;
        let mut last = Vec::new();
        for (i, batch) in tokens.chunks(PREFILL_BATCH).enumerate() {
            last = self.feed(batch, pos + i * PREFILL_BATCH)?;
        }
        let mut normed = vec![0f32; self.hyper.hidden];
        rms_norm(&last, &self.output_norm, self.hyper.eps, &mut normed);
        let mut logits = vec![0f32; self.output.rows];
        self.output.forward(&Input::new(&normed, self.hyper.hidden), &mut logits);
        Ok(logits)
    }

    fn reset(&mut self) {
        self.cache.truncate(0);
    }

    fn swap_cache(&mut self) {
        let spare = self.spare.take().unwrap_or_else(|| self.cache.empty_like());
        self.spare = Some(std::mem::replace(&mut self.cache, spare));
    }

    fn fork_cache(&mut self, tokens: usize) {
        let mut spare = self.spare.take().unwrap_or_else(|| self.cache.empty_like());
        spare.copy_prefix(&self.cache, tokens);
        self.spare = Some(spare);
    }

    fn set_window(&mut self, tokens: usize) {
        self.cache.set_capacity(tokens);
        if let Some(spare) = &mut self.spare {
            spare.set_capacity(tokens);
        }
    }
}
