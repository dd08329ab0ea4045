//! Dot products of one stored row with one token's activations: the inner loop of
//! every matrix product. Each has a portable form and, in the browser build, a
//! simd128 form (`simd128.rs`) that computes exactly the same sums in the same
//! order, lane for lane: four f32 accumulators, lane `l` taking elements
//! `l, l + 4, ...` (integer partial sums are exact), added as `(a0 + a1) + (a2 + a3)`.
//! So the browser and the native build give bit-identical logits, and a greedy
//! answer checked natively is the answer a visitor gets.

use super::formats::{block_scale, f16_to_f32, BLOCK, Q4_0_BYTES, Q8_0_BYTES};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use super::simd128::{dot, dot4_q4_0, dot4_q8_0, dot4xn_q4_0, dot4xn_q8_0, dot_f16, dot_f32, dot_q4_0, dot_q8_0};

#[cfg(target_arch = "x86_64")]
pub use super::sse2::{dot, dot4_q4_0, dot4_q8_0, dot4xn_q4_0, dot4xn_q8_0, dot_f16, dot_f32, dot_q4_0, dot_q8_0};

#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
pub use portable::{dot, dot4_q4_0, dot4_q8_0, dot4xn_q4_0, dot4xn_q8_0, dot_f16, dot_f32, dot_q4_0, dot_q8_0};

#[inline(always)]
pub(crate) fn reduce(acc: [f32; 4]) -> f32 {
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// The sum of one block's 32 products, as four i32 lanes: lane `l` holds elements
/// `8c + 2l` and `8c + 2l + 1` for c in 0..4 (what `i32x4.dot_i16x8_s` gives).
#[inline(always)]
pub(crate) fn block_lanes(w: &[i8; BLOCK], a: &[i16]) -> [i32; 4] {
    let mut s = [0i32; 4];
    for c in 0..4 {
        for (l, lane) in s.iter_mut().enumerate() {
            let e = 8 * c + 2 * l;
            *lane += w[e] as i32 * a[e] as i32 + w[e + 1] as i32 * a[e + 1] as i32;
        }
    }
    s
}

// Lane indices are the point here: `l` names the accumulator lane, as in the simd form.
#[allow(clippy::needless_range_loop)]
pub mod portable {
    use super::*;

    /// f32 · f32, both plain slices (attention's scores).
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        let mut acc = [0f32; 4];
        let (a4, a_tail) = a.split_at(a.len() / 4 * 4);
        for (x, y) in a4.chunks_exact(4).zip(b.chunks_exact(4)) {
            for l in 0..4 {
                acc[l] += x[l] * y[l];
            }
        }
        let mut sum = reduce(acc);
        for (x, y) in a_tail.iter().zip(&b[a4.len()..]) {
            sum += x * y;
        }
        sum
    }

    /// An F32 row (little-endian bytes) · activations.
    pub fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
        let mut acc = [0f32; 4];
        for (w, a) in row.chunks_exact(16).zip(x.chunks_exact(4)) {
            for l in 0..4 {
                acc[l] += f32::from_le_bytes([w[4 * l], w[4 * l + 1], w[4 * l + 2], w[4 * l + 3]]) * a[l];
            }
        }
        reduce(acc)
    }

    /// An F16 row · activations, eight weights per step: the first four then the next four.
    pub fn dot_f16(row: &[u8], x: &[f32]) -> f32 {
        let mut acc = [0f32; 4];
        for (w, a) in row.chunks_exact(16).zip(x.chunks_exact(8)) {
            for half in 0..2 {
                for l in 0..4 {
                    let e = 4 * half + l;
                    acc[l] += f16_to_f32(u16::from_le_bytes([w[2 * e], w[2 * e + 1]])) * a[e];
                }
            }
        }
        reduce(acc)
    }

    /// A Q8_0 row · 16-bit quantized activations.
    pub fn dot_q8_0(row: &[u8], qs: &[i16], scales: &[f32]) -> f32 {
        let mut acc = [0f32; 4];
        for ((block, a), da) in row.chunks_exact(Q8_0_BYTES).zip(qs.chunks_exact(BLOCK)).zip(scales) {
            let mut w = [0i8; BLOCK];
            for (w, q) in w.iter_mut().zip(&block[2..]) {
                *w = *q as i8;
            }
            let s = block_lanes(&w, a);
            let d = block_scale(block) * da;
            for l in 0..4 {
                acc[l] += s[l] as f32 * d;
            }
        }
        reduce(acc)
    }

    /// Four Q8_0 rows · the same activations (the vector forms share the activation loads).
    pub fn dot4_q8_0(rows: [&[u8]; 4], qs: &[i16], scales: &[f32]) -> [f32; 4] {
        rows.map(|row| dot_q8_0(row, qs, scales))
    }

    /// Four Q4_0 rows · the same activations.
    pub fn dot4_q4_0(rows: [&[u8]; 4], qs: &[i16], scales: &[f32]) -> [f32; 4] {
        rows.map(|row| dot_q4_0(row, qs, scales))
    }

    /// Four Q8_0 rows · `T` tokens' activations (a prompt's prefill).
    pub fn dot4xn_q8_0<const T: usize>(rows: [&[u8]; 4], qs: [&[i16]; T], scales: [&[f32]; T]) -> [[f32; 4]; T] {
        std::array::from_fn(|t| dot4_q8_0(rows, qs[t], scales[t]))
    }

    /// Four Q4_0 rows · `T` tokens' activations.
    pub fn dot4xn_q4_0<const T: usize>(rows: [&[u8]; 4], qs: [&[i16]; T], scales: [&[f32]; T]) -> [[f32; 4]; T] {
        std::array::from_fn(|t| dot4_q4_0(rows, qs[t], scales[t]))
    }

    /// A Q4_0 row · 16-bit quantized activations.
    pub fn dot_q4_0(row: &[u8], qs: &[i16], scales: &[f32]) -> f32 {
        let mut acc = [0f32; 4];
        for ((block, a), da) in row.chunks_exact(Q4_0_BYTES).zip(qs.chunks_exact(BLOCK)).zip(scales) {
            let mut w = [0i8; BLOCK];
            for (j, q) in block[2..].iter().enumerate() {
                w[j] = (q & 0x0f) as i8 - 8;
                w[j + 16] = (q >> 4) as i8 - 8;
            }
            let s = block_lanes(&w, a);
            let d = block_scale(block) * da;
            for l in 0..4 {
                acc[l] += s[l] as f32 * d;
            }
        }
        reduce(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::super::formats::{dequantize_row, quantize_q8_0, Format, Q16};
    use super::portable::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((s >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 4.0
            })
            .collect()
    }

    fn reference(format: Format, row: &[u8], x: &[f32]) -> f64 {
        let mut w = vec![0f32; x.len()];
        dequantize_row(format, row, &mut w);
        w.iter().zip(x).map(|(a, b)| *a as f64 * *b as f64).sum()
    }

    #[test]
    fn quantized_dots_match_the_dequantized_product() {
        let x = values(256, 7);
        let q = Q16::quantize(&x);
        let q8 = quantize_q8_0(&values(256, 3));
        let got = dot_q8_0(&q8, &q.qs, &q.scales) as f64;
        let want = reference(Format::Q8_0, &q8, &x);
        assert!((got - want).abs() < 1e-3 * want.abs().max(1.0), "{got} vs {want}");
        let q4: Vec<u8> = (0..8)
            .flat_map(|b| {
                let mut block = vec![0x00, 0x3c]; // scale 1.0
                block.extend((0..16).map(|j| ((j * 7 + b) % 256) as u8));
                block
            })
            .collect();
        let got = dot_q4_0(&q4, &q.qs, &q.scales) as f64;
        let want = reference(Format::Q4_0, &q4, &x);
        assert!((got - want).abs() < 1e-3 * want.abs().max(1.0), "{got} vs {want}");
    }

    /// The vector kernels in use must give the portable form's sums bit for bit (the
    /// native build and the browser then agree exactly).
    #[test]
    fn vector_kernels_equal_the_portable_ones_bit_for_bit() {
        use super::super::kernels as k;
        let x = values(512, 21);
        let q = Q16::quantize(&x);
        for seed in 0..8 {
            let w = values(512, 100 + seed);
            let q8 = quantize_q8_0(&w);
            assert_eq!(k::dot_q8_0(&q8, &q.qs, &q.scales).to_bits(), dot_q8_0(&q8, &q.qs, &q.scales).to_bits());
            let q4: Vec<u8> = q8.chunks_exact(34).flat_map(|b| b[..18].to_vec()).collect();
            assert_eq!(k::dot_q4_0(&q4, &q.qs, &q.scales).to_bits(), dot_q4_0(&q4, &q.qs, &q.scales).to_bits());
            let other = quantize_q8_0(&values(512, 200 + seed));
            let rows8 = [&q8[..], &other[..], &q8[..], &other[..]];
            let want: Vec<u32> = rows8.iter().map(|r| dot_q8_0(r, &q.qs, &q.scales).to_bits()).collect();
            assert_eq!(k::dot4_q8_0(rows8, &q.qs, &q.scales).map(f32::to_bits).to_vec(), want);
            let other4: Vec<u8> = other.chunks_exact(34).flat_map(|b| b[..18].to_vec()).collect();
            let rows4 = [&q4[..], &other4[..], &other4[..], &q4[..]];
            let want: Vec<u32> = rows4.iter().map(|r| dot_q4_0(r, &q.qs, &q.scales).to_bits()).collect();
            assert_eq!(k::dot4_q4_0(rows4, &q.qs, &q.scales).map(f32::to_bits).to_vec(), want);
            // Several tokens at once (prefill): each sum is the one-row kernel's for that token.
            let batch: [Q16; 4] = std::array::from_fn(|t| Q16::quantize(&values(512, 300 + 10 * seed + t as u32)));
            let each = |rows: [&[u8]; 4], one: fn(&[u8], &[i16], &[f32]) -> f32| {
                batch.each_ref().map(|t| rows.map(|r| one(r, &t.qs, &t.scales).to_bits()))
            };
            let bits = |sums: [[f32; 4]; 4]| sums.map(|s| s.map(f32::to_bits));
            let (qs, scales) = (batch.each_ref().map(|t| &t.qs[..]), batch.each_ref().map(|t| &t.scales[..]));
            assert_eq!(bits(k::dot4xn_q8_0(rows8, qs, scales)), each(rows8, dot_q8_0));
            assert_eq!(bits(k::dot4xn_q4_0(rows4, qs, scales)), each(rows4, dot_q4_0));
            let f16_row: Vec<u8> = w.iter().flat_map(|v| half::f16::from_f32(*v).to_bits().to_le_bytes()).collect();
            assert_eq!(k::dot_f16(&f16_row, &x).to_bits(), dot_f16(&f16_row, &x).to_bits());
            let f32_row: Vec<u8> = w.iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(k::dot_f32(&f32_row, &x).to_bits(), dot_f32(&f32_row, &x).to_bits());
            assert_eq!(k::dot(&w[..67], &x[..67]).to_bits(), dot(&w[..67], &x[..67]).to_bits());
        }
    }

    #[test]
    fn float_dots_match_the_plain_product() {
        let x = values(64, 11);
        let w = values(64, 5);
        let f32_row: Vec<u8> = w.iter().flat_map(|v| v.to_le_bytes()).collect();
        let f16_row: Vec<u8> = w.iter().flat_map(|v| half::f16::from_f32(*v).to_bits().to_le_bytes()).collect();
        let want: f64 = w.iter().zip(&x).map(|(a, b)| *a as f64 * *b as f64).sum();
        assert!((dot_f32(&f32_row, &x) as f64 - want).abs() < 1e-4);
        assert!((dot(&w, &x) as f64 - want).abs() < 1e-4);
        assert!((dot_f16(&f16_row, &x) as f64 - reference(Format::F16, &f16_row, &x)).abs() < 1e-4);
    }
}
