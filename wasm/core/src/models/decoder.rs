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
    /// Token embeddings multiplied by sqrt(hidden size) (gemma).
    pub scaled_embeddings: bool,
    /// RMS norms on the attention's and the MLP's outputs before each residual add
    /// (gemma's `post_attention_norm`, `post_ffw_norm`).
    pub post_norms: bool,
    /// The gate's activation in the gated MLP.
    pub activation: Activation,
    /// Local layers attending to a window of `{arch}.attention.sliding_window` positions.
    pub sliding: Option<Sliding>,
}

impl Variant {
    /// The plain llama block, for `..Variant::PLAIN` in an architecture's file.
    pub const PLAIN: Variant = Variant {
        name: "",
        rope: Pairing::Adjacent,
        qk_norm: false,
        scaled_embeddings: false,
        post_norms: false,
        activation: Activation::Silu,
        sliding: None,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// x * sigmoid(x) (llama, qwen).
    Silu,
    /// GELU's tanh approximation (gemma: `gelu_pytorch_tanh`).
    GeluTanh,
}

/// Sliding-window (local) layers interleaved with global ones: every `period`-th layer is
/// global (rotary base `{arch}.rope.freq_base`, with any linear scaling), the others are
/// local (rotary base `local_rope_base`, unscaled). The GGUF carries the window, not the
/// pattern: llama.cpp fixes it per architecture, and so does the variant.
pub struct Sliding {
    pub period: usize,
    pub local_rope_base: f32,
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
    /// `{arch}.final_logit_softcapping`: logits become cap * tanh(logits / cap).
    pub logit_softcap: Option<f32>,
    /// `{arch}.attention.sliding_window`, read for a variant with local layers.
    pub sliding_window: Option<usize>,
    /// `{arch}.rope.scaling.factor` of `rope.scaling.type = "linear"`.
    pub rope_linear_factor: Option<f32>,
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
            logit_softcap: file.opt_f32(&key("final_logit_softcapping"))?.filter(|c| *c > 0.0),
            sliding_window: file.opt_u32(&key("attention.sliding_window"))?.map(|w| w as usize),
            rope_linear_factor: match file.opt_string(&key("rope.scaling.type"))? {
                None | Some("none") => None,
                Some("linear") => file.opt_f32(&key("rope.scaling.factor"))?.filter(|f| *f != 1.0),
                Some(other) => {
                    return Err(Error::Metadata {
                        key: key("rope.scaling.type"),
                        problem: format!("'{other}' is not supported (none, linear)"),
                    })
                }
            },
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
    post_attn_norm: Option<Vec<f32>>,
    ffn_norm: Vec<f32>,
    post_ffn_norm: Option<Vec<f32>>,
    /// A local layer: the sliding window and the local rotary.
    sliding: bool,
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
    /// The local layers' rotary and window (a variant with [`Sliding`] layers).
    local: Option<(Rope, usize)>,
    embedding_scale: Option<f32>,
    activation: Activation,
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
                let norm_if = |present: bool, n: &str, len: usize| -> Result<Option<Vec<f32>>> {
                    if present {
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
                    q_norm: norm_if(variant.qk_norm, "attn_q_norm.weight", h.head_dim)?,
                    k_norm: norm_if(variant.qk_norm, "attn_k_norm.weight", h.head_dim)?,
                    post_attn_norm: norm_if(variant.post_norms, "post_attention_norm.weight", h.hidden)?,
                    ffn_norm: t.vector(&b("ffn_norm.weight"), h.hidden)?,
                    post_ffn_norm: norm_if(variant.post_norms, "post_ffw_norm.weight", h.hidden)?,
                    sliding: variant.sliding.as_ref().is_some_and(|s| !(i + 1).is_multiple_of(s.period)),
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
        let rope = match (&variant.sliding, h.rope_linear_factor) {
            (Some(_), Some(factor)) => Rope::linear(variant.rope, h.rope_dims, h.rope_base, factor),
            _ => Rope::new(variant.rope, h.rope_dims, h.rope_base),
        };
        let local = match &variant.sliding {
            None => None,
            Some(sliding) => {
                let window = h.sliding_window.filter(|w| *w > 0).ok_or_else(|| Error::Metadata {
                    key: format!("{}.attention.sliding_window", variant.name),
                    problem: "missing or 0 (the local layers' window)".into(),
                })?;
                Some((Rope::new(variant.rope, h.rope_dims, sliding.local_rope_base), window))
            }
        };
        Ok(Self {
            rope,
            local,
            embedding_scale: variant.scaled_embeddings.then(|| (h.hidden as f64).sqrt() as f32),
            activation: variant.activation,
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
            if let Some(scale) = self.embedding_scale {
                row.iter_mut().for_each(|v| *v *= scale);
            }
        }
        let shape = Shape { heads: h.heads, kv_heads: h.kv_heads, head_dim: h.head_dim, window: None };
        let angles = self.rope.angles(first, tokens.len());
        let local = self
            .local
            .as_ref()
            .map(|(rope, window)| (rope, rope.angles(first, tokens.len()), Shape { window: Some(*window), ..shape }));
        for (i, layer) in self.layers.iter().enumerate() {
            let (rope, angles, shape) = match &local {
                Some((rope, angles, shape)) if layer.sliding => (*rope, angles, shape),
                _ => (&self.rope, &angles, &shape),
            };
            let normed = rms_norm_rows(&x, &layer.attn_norm, h.eps);
            let input = Input::new(&normed, hidden);
            let mut q = layer.q.forward(&input);
            let mut k = layer.k.forward(&input);
            let v = layer.v.forward(&input);
            if let (Some(qn), Some(kn)) = (&layer.q_norm, &layer.k_norm) {
                q = rms_norm_rows(&q, qn, h.eps);
                k = rms_norm_rows(&k, kn, h.eps);
            }
            rope.apply(&mut q, h.heads, h.head_dim, angles);
            rope.apply(&mut k, h.kv_heads, h.head_dim, angles);
            self.cache.append(i, &k, &v);
            let attended = attend(&q, &self.cache.layer(i), first, shape);
            let mut out = layer.o.forward(&Input::new(&attended, h.heads * h.head_dim));
            if let Some(norm) = &layer.post_attn_norm {
                out = rms_norm_rows(&out, norm, h.eps);
            }
            add(&mut x, &out);

            let normed = rms_norm_rows(&x, &layer.ffn_norm, h.eps);
            let input = Input::new(&normed, hidden);
            let mut gated = layer.gate.forward(&input);
            let up = layer.up.forward(&input);
            match self.activation {
                Activation::Silu => {
                    for (g, u) in gated.iter_mut().zip(&up) {
                        *g = *g / (1.0 + libm::expf(-*g)) * u;
                    }
                }
                Activation::GeluTanh => {
                    for (g, u) in gated.iter_mut().zip(&up) {
                        *g = gelu_tanh(*g) * u;
                    }
                }
            }
            let mut out = layer.down.forward(&Input::new(&gated, h.ffn));
            if let Some(norm) = &layer.post_ffn_norm {
                out = rms_norm_rows(&out, norm, h.eps);
            }
            add(&mut x, &out);
        }
        self.cache.commit(tokens.len());
        x.drain(..(tokens.len() - 1) * hidden);
        Ok(x)
    }
}

/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as torch's `gelu(approximate="tanh")`.
fn gelu_tanh(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    0.5 * x * (1.0 + libm::tanhf(SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)))
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
        if let Some(cap) = self.hyper.logit_softcap {
            logits.iter_mut().for_each(|l| *l = libm::tanhf(*l / cap) * cap);
        }
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
