//! The pieces Whisper's encoder and decoder share, over the chat models' blocks:
//! layer norm with a bias, quantized linears read in place from the GGUF, exact
//! (erf) GELU, and attention of a batch of queries over a whole set of keys.
//!
//! Attention here needs no causal mask: the encoder attends everywhere, the
//! cross-attention reads every audio position, and the decoder's self-attention runs
//! one token at a time over the keys cached so far.

use crate::error::Result;
use crate::models::blocks::activations::Input;
use crate::models::blocks::kernels;
use crate::models::blocks::matrix::Linear;
use crate::models::blocks::norm::layer_norm_rows;
use crate::models::blocks::tensors::Tensors;

const LAYER_NORM_EPS: f32 = 1e-5;

pub struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl LayerNorm {
    pub fn load(t: &Tensors, name: &str, d: usize) -> Result<Self> {
        Ok(Self { weight: t.vector(&format!("{name}.weight"), d)?, bias: t.vector(&format!("{name}.bias"), d)? })
    }

    pub fn forward(&self, x: &[f32]) -> Vec<f32> {
        let mut out = x.to_vec();
        layer_norm_rows(&mut out, &self.weight, &self.bias, LAYER_NORM_EPS);
        out
    }
}

/// `name.weight` (rows x cols) and its bias when the file has one (Whisper's key
/// projections have none).
pub fn linear(t: &Tensors, name: &str, rows: usize, cols: usize) -> Result<Linear> {
    Ok(Linear {
        weight: t.matrix(&format!("{name}.weight"), rows, cols)?,
        bias: t.opt_vector(&format!("{name}.bias"), rows)?,
    })
}

/// GELU as transformers and OpenAI compute it (erf, not the tanh approximation).
pub fn gelu(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + libm::erff(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// q, k, v and output projections of one attention layer.
pub struct Attention {
    pub q: Linear,
    pub k: Linear,
    pub v: Linear,
    pub out: Linear,
    pub heads: usize,
}

impl Attention {
    pub fn load(t: &Tensors, name: &str, d: usize, heads: usize) -> Result<Self> {
        Ok(Self {
            q: linear(t, &format!("{name}.q_proj"), d, d)?,
            k: linear(t, &format!("{name}.k_proj"), d, d)?,
            v: linear(t, &format!("{name}.v_proj"), d, d)?,
            out: linear(t, &format!("{name}.out_proj"), d, d)?,
            heads,
        })
    }

    /// Keys and values of `x` (tokens x d), for attending to later.
    pub fn keys_values(&self, x: &Input) -> (Vec<f32>, Vec<f32>) {
        (self.k.forward(x), self.v.forward(x))
    }

    /// The output projection of `queries` (already projected) attending over `keys`/`values`.
    pub fn attend_projected(&self, queries: &[f32], keys: &[f32], values: &[f32]) -> Vec<f32> {
        let d = self.q.weight.rows;
        let mixed = attend(queries, keys, values, self.heads, d);
        self.out.forward(&Input::new(&mixed, d))
    }
}

/// Softmax attention of every query (tokens x d) over every key and value (positions x d),
/// head by head; the 1/sqrt(head_dim) scale is applied to the scores.
pub fn attend(queries: &[f32], keys: &[f32], values: &[f32], heads: usize, d: usize) -> Vec<f32> {
    let head_dim = d / heads;
    let scale = 1.0 / (head_dim as f32).sqrt();
    let positions = keys.len() / d;
    let mut out = vec![0f32; queries.len()];
    let mut scores = vec![0f32; positions];
    for (query, o) in queries.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
        for h in 0..heads {
            let at = h * head_dim;
            let q = &query[at..at + head_dim];
            let mut max = f32::NEG_INFINITY;
            for (j, s) in scores.iter_mut().enumerate() {
                *s = kernels::dot(q, &keys[j * d + at..j * d + at + head_dim]) * scale;
                max = max.max(*s);
            }
            let mut sum = 0f32;
            for s in scores.iter_mut() {
                *s = libm::expf(*s - max);
                sum += *s;
            }
            let o = &mut o[at..at + head_dim];
            let inverse = 1.0 / sum;
            for (j, s) in scores.iter().enumerate() {
                let p = s * inverse;
                for (o, v) in o.iter_mut().zip(&values[j * d + at..j * d + at + head_dim]) {
                    *o += p * v;
                }
            }
        }
    }
    out
}

/// `x += y`, element by element (a residual connection).
pub fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// The feed-forward block: fc2(gelu(fc1(x))).
pub struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    pub fn load(t: &Tensors, name: &str, d: usize, hidden: usize) -> Result<Self> {
        Ok(Self {
            fc1: linear(t, &format!("{name}.fc1"), hidden, d)?,
            fc2: linear(t, &format!("{name}.fc2"), d, hidden)?,
        })
    }

    pub fn forward(&self, x: &[f32]) -> Vec<f32> {
        let d = self.fc1.weight.cols;
        let mut h = self.fc1.forward(&Input::new(x, d));
        gelu(&mut h);
        self.fc2.forward(&Input::new(&h, self.fc1.weight.rows))
    }
}
