//! Causal grouped-query attention over the KV cache: each query head reads the
//! key/value head of its group, positions up to its own.

use super::kernels::dot;

pub struct Shape {
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
}

/// `q`: tokens x heads x head_dim for positions `first..first + tokens`; `keys` and
/// `values`: every cached position (the batch's included) x kv_heads x head_dim.
pub fn attend(q: &[f32], keys: &[f32], values: &[f32], first: usize, shape: &Shape) -> Vec<f32> {
    let Shape { heads, kv_heads, head_dim } = *shape;
    let width = kv_heads * head_dim;
    let group = heads / kv_heads;
    let scale = 1.0 / (head_dim as f32).sqrt();
    let tokens = q.len() / (heads * head_dim);
    let mut out = vec![0f32; q.len()];
    let mut scores = Vec::with_capacity(first + tokens);
    for t in 0..tokens {
        let seen = first + t + 1;
        for h in 0..heads {
            let offset = (h / group) * head_dim;
            let query = &q[(t * heads + h) * head_dim..][..head_dim];
            scores.clear();
            scores.extend((0..seen).map(|j| dot(query, &keys[j * width + offset..][..head_dim]) * scale));
            let max = scores.iter().fold(f32::NEG_INFINITY, |m, s| m.max(*s));
            let mut sum = 0f32;
            for s in scores.iter_mut() {
                *s = libm::expf(*s - max);
                sum += *s;
            }
            let o = &mut out[(t * heads + h) * head_dim..][..head_dim];
            for (j, s) in scores.iter().enumerate() {
                let p = s / sum;
                for (o, v) in o.iter_mut().zip(&values[j * width + offset..][..head_dim]) {
                    *o += p * v;
                }
            }
        }
    }
    out
}
