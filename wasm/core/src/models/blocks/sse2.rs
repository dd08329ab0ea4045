//! The native kernels on x86_64: `kernels::portable` in SSE2 (every x86_64 has it),
//! same sums in the same order as the portable and simd128 forms (see `kernels.rs`).
//! `_mm_madd_epi16` is wasm's `i32x4.dot_i16x8_s`, lane for lane.

use core::arch::x86_64::*;

use super::formats::{block_scale, BLOCK, Q4_0_BYTES, Q8_0_BYTES};
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
    block_dot_loaded(w0, w1, load_block(a))
}

#[inline(always)]
unsafe fn block_dot_loaded(w0: __m128i, w1: __m128i, [a0, a1, a2, a3]: [__m128i; 4]) -> __m128i {
    let widen_low = |w| _mm_srai_epi16(_mm_unpacklo_epi8(w, w), 8);
    let widen_high = |w| _mm_srai_epi16(_mm_unpackhi_epi8(w, w), 8);
    _mm_add_epi32(
        _mm_add_epi32(_mm_madd_epi16(widen_low(w0), a0), _mm_madd_epi16(widen_high(w0), a1)),
        _mm_add_epi32(_mm_madd_epi16(widen_low(w1), a2), _mm_madd_epi16(widen_high(w1), a3)),
    )
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

/// Four Q8_0 rows · the same activations: each row's sums exactly as `dot_q8_0`'s,
/// with the activations loaded once per block and four independent accumulators.
pub fn dot4_q8_0(rows: [&[u8]; 4], qs: &[i16], scales: &[f32]) -> [f32; 4] {
    // SAFETY: SSE2 is part of x86_64; every row has a 34-byte block b; `a` holds 32 i16.
    unsafe {
        let mut acc = [_mm_setzero_ps(); 4];
        for (b, (a, da)) in qs.chunks_exact(BLOCK).zip(scales).enumerate() {
            let loaded = load_block(a.as_ptr());
            for (acc, row) in acc.iter_mut().zip(rows) {
                let block = &row[b * Q8_0_BYTES..(b + 1) * Q8_0_BYTES];
                let d = block_scale(block) * da;
                let w0 = _mm_loadu_si128(block.as_ptr().add(2) as *const __m128i);
                let w1 = _mm_loadu_si128(block.as_ptr().add(18) as *const __m128i);
                let s = block_dot_loaded(w0, w1, loaded);
                *acc = _mm_add_ps(*acc, _mm_mul_ps(_mm_cvtepi32_ps(s), _mm_set1_ps(d)));
            }
        }
        acc.map(|a| reduce(lanes(a)))
    }
}

/// Four Q4_0 rows · the same activations (see `dot4_q8_0`).
pub fn dot4_q4_0(rows: [&[u8]; 4], qs: &[i16], scales: &[f32]) -> [f32; 4] {
    // SAFETY: SSE2 is part of x86_64; every row has an 18-byte block b; `a` holds 32 i16.
    unsafe {
        let nibble = _mm_set1_epi8(0x0f);
        let eight = _mm_set1_epi8(8);
        let mut acc = [_mm_setzero_ps(); 4];
        for (b, (a, da)) in qs.chunks_exact(BLOCK).zip(scales).enumerate() {
            let loaded = load_block(a.as_ptr());
            for (acc, row) in acc.iter_mut().zip(rows) {
                let block = &row[b * Q4_0_BYTES..(b + 1) * Q4_0_BYTES];
                let d = block_scale(block) * da;
                let v = _mm_loadu_si128(block.as_ptr().add(2) as *const __m128i);
                let low = _mm_sub_epi8(_mm_and_si128(v, nibble), eight);
                let high = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), nibble), eight);
                let s = block_dot_loaded(low, high, loaded);
                *acc = _mm_add_ps(*acc, _mm_mul_ps(_mm_cvtepi32_ps(s), _mm_set1_ps(d)));
            }
        }
        acc.map(|a| reduce(lanes(a)))
    }
}
