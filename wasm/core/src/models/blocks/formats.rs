//! The stored formats the kernels read in place, and the 16-bit quantized form
//! activations take before a product with a quantized matrix.
//!
//! GGUF Q8_0: blocks of 32 weights, an f16 scale then 32 i8 (34 bytes).
//! GGUF Q4_0: blocks of 32 weights, an f16 scale then 16 bytes of nibbles; byte j
//! holds weight j in its low nibble and weight j + 16 in its high one, each stored
//! plus 8.
//!
//! Activations are quantized per block of 32 to i16 with an f32 scale (not to i8 as
//! llama.cpp and candle do): wasm has no 8-bit dot product, so the kernels widen
//! weights to i16 anyway and a 16-bit activation costs nothing, while it keeps the
//! product within ~1e-5 of the float one. 8-bit activations are what garbled the
//! all-Q8_0 SmolLM2 (its activations have outliers that flatten the other values
//! of their block).

/// Weights per quantization block.
pub const BLOCK: usize = 32;
pub const Q8_0_BYTES: usize = 34;
pub const Q4_0_BYTES: usize = 18;

/// The matrix formats the kernels read in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    F32,
    F16,
    Q8_0,
    Q4_0,
}

impl Format {
    /// Bytes of one row of `cols` weights.
    pub fn row_bytes(self, cols: usize) -> usize {
        match self {
            Format::F32 => cols * 4,
            Format::F16 => cols * 2,
            Format::Q8_0 => cols / BLOCK * Q8_0_BYTES,
            Format::Q4_0 => cols / BLOCK * Q4_0_BYTES,
        }
    }

    /// Whether products with this format take 16-bit quantized activations.
    pub fn is_quantized(self) -> bool {
        matches!(self, Format::Q8_0 | Format::Q4_0)
    }
}

/// IEEE half -> f32 for finite values (weights and scales are never inf or NaN):
/// the bits shifted into an f32 and rescaled by 2^112, which also gets subnormals right.
#[inline(always)]
pub fn f16_to_f32(h: u16) -> f32 {
    let magnitude = f32::from_bits(((h & 0x7fff) as u32) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | (((h & 0x8000) as u32) << 16))
}

#[inline(always)]
pub fn block_scale(block: &[u8]) -> f32 {
    f16_to_f32(u16::from_le_bytes([block[0], block[1]]))
}

/// Rows of activations quantized per block of 32: `qs[t * cols + i]` and one scale
/// per block, `scales[t * cols / 32 + b]`.
pub struct Q16 {
    pub qs: Vec<i16>,
    pub scales: Vec<f32>,
}

impl Q16 {
    pub fn quantize(x: &[f32]) -> Self {
        debug_assert!(x.len().is_multiple_of(BLOCK));
        let mut qs = vec![0i16; x.len()];
        let mut scales = vec![0f32; x.len() / BLOCK];
        for ((block, q), scale) in x.chunks_exact(BLOCK).zip(qs.chunks_exact_mut(BLOCK)).zip(scales.iter_mut()) {
            let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
            let d = amax / 32767.0;
            let inverse = if d > 0.0 { 1.0 / d } else { 0.0 };
            for (q, v) in q.iter_mut().zip(block) {
                *q = (v * inverse).round_ties_even() as i16;
            }
            *scale = d;
        }
        Self { qs, scales }
    }
}

/// Dequantize one row of `cols` weights stored in `format` into `out`.
pub fn dequantize_row(format: Format, row: &[u8], out: &mut [f32]) {
    match format {
        Format::F32 => {
            for (o, b) in out.iter_mut().zip(row.chunks_exact(4)) {
                *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
        Format::F16 => {
            for (o, b) in out.iter_mut().zip(row.chunks_exact(2)) {
                *o = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
            }
        }
        Format::Q8_0 => {
            for (o, block) in out.chunks_exact_mut(BLOCK).zip(row.chunks_exact(Q8_0_BYTES)) {
                let d = block_scale(block);
                for (o, q) in o.iter_mut().zip(&block[2..]) {
                    *o = (*q as i8) as f32 * d;
                }
            }
        }
        Format::Q4_0 => {
            for (o, block) in out.chunks_exact_mut(BLOCK).zip(row.chunks_exact(Q4_0_BYTES)) {
                let d = block_scale(block);
                for (j, q) in block[2..].iter().enumerate() {
                    o[j] = ((q & 0x0f) as i32 - 8) as f32 * d;
                    o[j + 16] = ((q >> 4) as i32 - 8) as f32 * d;
                }
            }
        }
    }
}

/// Quantize f32 values to Q8_0 blocks as llama.cpp does (for files whose matrices come
/// in a format the kernels do not read: they are converted once at load).
pub fn quantize_q8_0(x: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len() / BLOCK * Q8_0_BYTES);
    for block in x.chunks_exact(BLOCK) {
        let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let inverse = if d > 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&half::f16::from_f32(d).to_bits().to_le_bytes());
        out.extend(block.iter().map(|v| ((v * inverse).round() as i8) as u8));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_conversion_is_exact_for_every_finite_value() {
        for bits in 0..=u16::MAX {
            let h = half::f16::from_bits(bits);
            if h.is_finite() {
                assert_eq!(f16_to_f32(bits).to_bits(), h.to_f32().to_bits(), "bits {bits:#06x}");
            }
        }
    }

    #[test]
    fn q16_round_trips_within_half_a_step() {
        let x: Vec<f32> = (0..64).map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.37).collect();
        let q = Q16::quantize(&x);
        for (i, v) in x.iter().enumerate() {
            let back = q.qs[i] as f32 * q.scales[i / BLOCK];
            assert!((back - v).abs() <= q.scales[i / BLOCK] * 0.5 + 1e-7, "{i}: {v} vs {back}");
        }
    }
}
