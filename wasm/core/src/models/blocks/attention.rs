//! Causal grouped-query attention over the KV cache: each query head reads the
//! key/value head of its group, positions up to its own.

use super::kv_cache::LayerView;

pub struct Shape {
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    /// A sliding-window layer sees only the last `window` positions, its own included
    /// (gemma3's local layers); `None` sees them all.
    pub window: Option<usize>,
}

/// `q`: tokens x heads x head_dim for positions `first..first + tokens`; `cache`: every
/// cached position (the batch's included). A position `p` attends to `j` when `j <= p`
/// and, in a window of `w`, `p - j < w` (transformers' and llama.cpp's sliding mask).
pub fn attend(q: &[f32], cache: &LayerView, first: usize, shape: &Shape) -> Vec<f32> {
    let Shape { heads, kv_heads, head_dim, window } = *shape;
    let group = heads / kv_heads;
    let scale = 1.0 / (head_dim as f32).sqrt();
    let tokens = q.len() / (heads * head_dim);
    let mut out = vec![0f32; q.len()];
    let mut scores = Vec::with_capacity(first + tokens);
    for t in 0..tokens {
        let seen = first + t + 1;
        let start = window.map_or(0, |w| seen.saturating_sub(w));
        for h in 0..heads {
            let offset = (h / group) * head_dim;
            let query = &q[(t * heads + h) * head_dim..][..head_dim];
            scores.clear();
            scores.extend((start..seen).map(|j| cache.score(query, j, offset) * scale));
            let max = scores.iter().fold(f32::NEG_INFINITY, |m, s| m.max(*s));
            let mut sum = 0f32;
            for s in scores.iter_mut() {
                *s = libm::expf(*s - max);
                sum += *s;
            }
            let o = &mut out[(t * heads + h) * head_dim..][..head_dim];
            for (j, s) in scores.iter().enumerate() {
                cache.add_value(o, s / sum, start + j, offset);
            }
        }
    }
    out
}
