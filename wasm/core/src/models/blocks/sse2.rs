//! The native kernels on x86_64: `kernels::portable` in SSE2 (every x86_64 has it),
//! same sums in the same order as the portable and simd128 forms (see `kernels.rs`).
//! `_mm_madd_epi16` is wasm's `i32x4.dot_i16x8_s`, lane for lane.

use core::arch::x86_64::*;

use super::formats::{block_scale, f16_to_f32, BLOCK, Q4_0_BYTES, Q8_0_BYTES};
use super::kernels::reduce;

#[inline(always)]
unsafe fn lanes(v: __m128) -> [f32; 4] {
    let mut out = [0f32; 4];
    _mm_storeu_ps(out.as_mut_ptr(), v);
    out
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n4 = a.len() / 4 * 4;
    assert!(b.len() >= n4);
    // SAFETY: SSE2 is part of x86_64; every load reads 4 floats below n4 of both slices.
    unsafe {
        let mut acc = _mm_setzero_ps();
        let mut i = 0;
        while i < n4 {
            acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(a.as_ptr().add(i)), _mm_loadu_ps(b.as_ptr().add(i))));
            i += 4;
        }
        let mut sum = reduce(lanes(acc));
        for (x, y) in a[n4..].iter().zip(&b[n4..]) {
            sum += x * y;
        }
        sum
    }
}

pub fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    // SAFETY: SSE2 is part of x86_64; each chunk is exactly 16 bytes / 4 floats.
    unsafe {
        let mut acc = _mm_setzero_ps();
        for (w, a) in row.chunks_exact(16).zip(x.chunks_exact(4)) {
            acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(w.as_ptr() as *const f32), _mm_loadu_ps(a.as_ptr())));
        }
        reduce(lanes(acc))
    }
}

#[inline(always)]
unsafe fn half_to_f32x4(h: __m128i) -> __m128 {
    let magnitude = _mm_mul_ps(
        _mm_castsi128_ps(_mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x7fff)), 13)),
        _mm_set1_ps(f32::from_bits(0x7780_0000)),
    );
    _mm_or_ps(magnitude, _mm_castsi128_ps(_mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16)))
}

pub fn dot_f16(row: &[u8], x: &[f32]) -> f32 {
    // SAFETY: SSE2 is part of x86_64; 16 bytes of weights and 8 floats per step.
    unsafe {
        let zero = _mm_setzero_si128();
        let mut acc = _mm_setzero_ps();
        for (w, a) in row.chunks_exact(16).zip(x.chunks_exact(8)) {
            let h = _mm_loadu_si128(w.as_ptr() as *const __m128i);
            let low = half_to_f32x4(_mm_unpacklo_epi16(h, zero));
            let high = half_to_f32x4(_mm_unpackhi_epi16(h, zero));
            acc = _mm_add_ps(acc, _mm_mul_ps(low, _mm_loadu_ps(a.as_ptr())));
            acc = _mm_add_ps(acc, _mm_mul_ps(high, _mm_loadu_ps(a.as_ptr().add(4))));
        }
        reduce(lanes(acc))
    }
}

#[inline(always)]
unsafe fn load_block(a: *const i16) -> [__m128i; 4] {
    [
        _mm_loadu_si128(a as *const __m128i),
        _mm_loadu_si128(a.add(8) as *const __m128i),
        _mm_loadu_si128(a.add(16) as *const __m128i),
        _mm_loadu_si128(a.add(24) as *const __m128i),
    ]
}

/// 32 i8 weights (two vectors) · 32 i16 activations -> four i32 lanes.
#[inline(always)]
unsafe fn block_dot(w0: __m128i, w1: __m128i, a: *const i16) -> __m128i {
    widened_dot(widen(w0, w1), load_block(a))
}

pub fn dot_q8_0(row: &[u8], qs: &[i16], scales: &[f32]) -> f32 {
    // SAFETY: SSE2 is part of x86_64; a block is 34 bytes, `a` holds 32 i16.
    unsafe {
        let mut acc = _mm_setzero_ps();
        for ((block, a), da) in row.chunks_exact(Q8_0_BYTES).zip(qs.chunks_exact(BLOCK)).zip(scales) {
            let d = block_scale(block) * da;
            let w0 = _mm_loadu_si128(block.as_ptr().add(2) as *const __m128i);
            let w1 = _mm_loadu_si128(block.as_ptr().add(18) as *const __m128i);
            let s = block_dot(w0, w1, a.as_ptr());
            acc = _mm_add_ps(acc, _mm_mul_ps(_mm_cvtepi32_ps(s), _mm_set1_ps(d)));
        }
        reduce(lanes(acc))
    }
}

pub fn dot_q4_0(row: &[u8], qs: &[i16], scales: &[f32]) -> f32 {
    // SAFETY: SSE2 is part of x86_64; a block is 18 bytes, `a` holds 32 i16.
    unsafe {
        let nibble = _mm_set1_epi8(0x0f);
        let eight = _mm_set1_epi8(8);
        let mut acc = _mm_setzero_ps();
        for ((block, a), da) in row.chunks_exact(Q4_0_BYTES).zip(qs.chunks_exact(BLOCK)).zip(scales) {
            let d = block_scale(block) * da;
            let v = _mm_loadu_si128(block.as_ptr().add(2) as *const __m128i);
            let low = _mm_sub_epi8(_mm_and_si128(v, nibble), eight);
            let high = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), nibble), eight);
            let s = block_dot(low, high, a.as_ptr());
            acc = _mm_add_ps(acc, _mm_mul_ps(_mm_cvtepi32_ps(s), _mm_set1_ps(d)));
        }
        reduce(lanes(acc))
    }
}

/// One Q8_0 block of one row into its accumulator.
#[inline(always)]
unsafe fn q8_step(acc: __m128, row: &[u8], b: usize, loaded: [__m128i; 4], da: f32) -> __m128 {
    let (w, d) = q8_widen(row, b);
    widened_step(acc, w, loaded, d * da)
}

/// One Q4_0 block of one row into its accumulator.
#[inline(always)]
unsafe fn q4_step(acc: __m128, row: &[u8], b: usize, loaded: [__m128i; 4], da: f32) -> __m128 {
    let (w, d) = q4_widen(row, b);
    widened_step(acc, w, loaded, d * da)
}

/// Four rows · the same activations: each row's sums exactly as the one-row kernel's,
/// with the activations loaded once per block and four independent accumulators.
macro_rules! four_rows {
    ($name:ident, $step:ident, $bytes:expr) => {
        pub fn $name(rows: [&[u8]; 4], qs: &[i16], scales: &[f32]) -> [f32; 4] {
            let blocks = scales.len();
            assert!(qs.len() >= blocks * BLOCK && rows.iter().all(|r| r.len() >= blocks * $bytes));
            // SAFETY: SSE2 is part of x86_64; checked above: every row has block b, `qs` its 32 values.
            unsafe {
                let (mut a0, mut a1, mut a2, mut a3) =
                    (_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps());
                for (b, da) in scales.iter().enumerate() {
                    let loaded = load_block(qs.as_ptr().add(b * BLOCK));
                    a0 = $step(a0, rows[0], b, loaded, *da);
                    a1 = $step(a1, rows[1], b, loaded, *da);
                    a2 = $step(a2, rows[2], b, loaded, *da);
                    a3 = $step(a3, rows[3], b, loaded, *da);
                }
                [reduce(lanes(a0)), reduce(lanes(a1)), reduce(lanes(a2)), reduce(lanes(a3))]
            }
        }
    };
}

four_rows!(dot4_q8_0, q8_step, Q8_0_BYTES);
four_rows!(dot4_q4_0, q4_step, Q4_0_BYTES);

/// One Q8_0 block of a row, its weights widened to i16 (four vectors) and its scale.
#[inline(always)]
unsafe fn q8_widen(row: &[u8], b: usize) -> ([__m128i; 4], f32) {
    let block = row.as_ptr().add(b * Q8_0_BYTES);
    let d = f16_to_f32(u16::from_le_bytes([*block, *block.add(1)]));
    let w0 = _mm_loadu_si128(block.add(2) as *const __m128i);
    let w1 = _mm_loadu_si128(block.add(18) as *const __m128i);
    (widen(w0, w1), d)
}

/// One Q4_0 block of a row, its weights widened to i16 (four vectors) and its scale.
#[inline(always)]
unsafe fn q4_widen(row: &[u8], b: usize) -> ([__m128i; 4], f32) {
    let block = row.as_ptr().add(b * Q4_0_BYTES);
    let d = f16_to_f32(u16::from_le_bytes([*block, *block.add(1)]));
    let v = _mm_loadu_si128(block.add(2) as *const __m128i);
    let nibble = _mm_set1_epi8(0x0f);
    let eight = _mm_set1_epi8(8);
    let low = _mm_sub_epi8(_mm_and_si128(v, nibble), eight);
    let high = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), nibble), eight);
    (widen(low, high), d)
}

#[inline(always)]
unsafe fn widen(w0: __m128i, w1: __m128i) -> [__m128i; 4] {
    let low = |w| _mm_srai_epi16(_mm_unpacklo_epi8(w, w), 8);
    let high = |w| _mm_srai_epi16(_mm_unpackhi_epi8(w, w), 8);
    [low(w0), high(w0), low(w1), high(w1)]
}

/// Widened weights · one token's activations -> four i32 lanes.
#[inline(always)]
unsafe fn widened_dot([w0, w1, w2, w3]: [__m128i; 4], [a0, a1, a2, a3]: [__m128i; 4]) -> __m128i {
    _mm_add_epi32(
        _mm_add_epi32(_mm_madd_epi16(w0, a0), _mm_madd_epi16(w1, a1)),
        _mm_add_epi32(_mm_madd_epi16(w2, a2), _mm_madd_epi16(w3, a3)),
    )
}

/// Widened weights · one token's activations, into that row's accumulator for the token.
#[inline(always)]
unsafe fn widened_step(acc: __m128, w: [__m128i; 4], a: [__m128i; 4], d: f32) -> __m128 {
    _mm_add_ps(acc, _mm_mul_ps(_mm_cvtepi32_ps(widened_dot(w, a)), _mm_set1_ps(d)))
}

/// Four rows · `T` tokens' activations (a prompt's prefill): each sum exactly as the one-row
/// kernel's, with each block's weights widened once for all `T` tokens.
macro_rules! four_rows_tokens {
    ($name:ident, $widen:ident, $bytes:expr) => {
        pub fn $name<const T: usize>(rows: [&[u8]; 4], qs: [&[i16]; T], scales: [&[f32]; T]) -> [[f32; 4]; T] {
            let blocks = scales[0].len();
            assert!(scales.iter().all(|s| s.len() == blocks) && qs.iter().all(|q| q.len() >= blocks * BLOCK));
            assert!(rows.iter().all(|r| r.len() >= blocks * $bytes));
            // SAFETY: SSE2 is part of x86_64; checked above: every row has block b, each `qs` its 32 values.
            unsafe {
                let mut acc = [[_mm_setzero_ps(); 4]; T];
                for b in 0..blocks {
                    for r in 0..4 {
                        let (w, d) = $widen(rows[r], b);
                        for t in 0..T {
                            let x = load_block(qs[t].as_ptr().add(b * BLOCK));
                            acc[t][r] = widened_step(acc[t][r], w, x, d * *scales[t].get_unchecked(b));
                        }
                    }
                }
                acc.map(|a| a.map(|v| reduce(lanes(v))))
            }
        }
    };
}

four_rows_tokens!(dot4xn_q8_0, q8_widen, Q8_0_BYTES);
four_rows_tokens!(dot4xn_q4_0, q4_widen, Q4_0_BYTES);
