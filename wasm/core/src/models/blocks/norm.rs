//! RMS normalization, as transformers computes it: x / sqrt(mean(x^2) + eps) * w.

use super::kernels::dot;

pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let scale = 1.0 / (dot(x, x) / x.len() as f32 + eps).sqrt();
    for ((o, v), w) in out.iter_mut().zip(x).zip(weight) {
        *o = w * (v * scale);
    }
}

/// Normalize each `weight.len()`-wide row of `x` (every token, or every head).
pub fn rms_norm_rows(x: &[f32], weight: &[f32], eps: f32) -> Vec<f32> {
    let mut out = vec![0f32; x.len()];
    for (row, o) in x.chunks_exact(weight.len()).zip(out.chunks_exact_mut(weight.len())) {
        rms_norm(row, weight, eps, o);
    }
    out
}

/// Layer normalization (BERT): (x - mean) / sqrt(var + eps) * w + b, each `weight.len()`-wide row.
pub fn layer_norm_rows(x: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    let n = weight.len() as f32;
    for row in x.chunks_exact_mut(weight.len()) {
        let mean = row.iter().sum::<f32>() / n;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let scale = 1.0 / libm::sqrtf(var + eps);
        for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *v = (*v - mean) * scale * w + b;
        }
    }
}
