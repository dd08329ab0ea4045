//! The browser's kernels: `kernels::portable` in simd128, same sums in the same
//! order (see `kernels.rs`). wasm has no 8-bit dot product; weights are widened to
//! i16 and multiplied with `i32x4.dot_i16x8_s`, which is why activations are i16.

use core::arch::wasm32::*;

use super::formats::{block_scale, f16_to_f32, BLOCK, Q4_0_BYTES, Q8_0_BYTES};
use super::kernels::reduce;

#[inline(always)]
fn lanes(v: v128) -> [f32; 4] {
    [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)]
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n4 = a.len() / 4 * 4;
    let mut acc = f32x4_splat(0.0);
    let mut i = 0;
    while i < n4 {
        // SAFETY: i + 4 <= n4 <= len of both slices (b is at least as long as a).
        unsafe {
            let x = v128_load(a.as_ptr().add(i) as *const v128);
            let y = v128_load(b.as_ptr().add(i) as *const v128);
            acc = f32x4_add(acc, f32x4_mul(x, y));
        }
        i += 4;
    }
    let mut sum = reduce(lanes(acc));
    for (x, y) in a[n4..].iter().zip(&b[n4..]) {
        sum += x * y;
    }
    sum
}

pub fn dot_f32(row: &[u8], x: &[f32]) -> f32 {
    let mut acc = f32x4_splat(0.0);
    for (w, a) in row.chunks_exact(16).zip(x.chunks_exact(4)) {
        // SAFETY: both chunks are exactly 16 bytes; v128_load allows unaligned addresses.
        unsafe {
            let w = v128_load(w.as_ptr() as *const v128);
            let a = v128_load(a.as_ptr() as *const v128);
            acc = f32x4_add(acc, f32x4_mul(w, a));
        }
    }
    reduce(lanes(acc))
}

#[inline(always)]
fn half_to_f32x4(h: v128) -> v128 {
    let magnitude =
        f32x4_mul(i32x4_shl(v128_and(h, i32x4_splat(0x7fff)), 13), f32x4_splat(f32::from_bits(0x7780_0000)));
    v128_or(magnitude, i32x4_shl(v128_and(h, i32x4_splat(0x8000)), 16))
}

pub fn dot_f16(row: &[u8], x: &[f32]) -> f32 {
    let mut acc = f32x4_splat(0.0);
    for (w, a) in row.chunks_exact(16).zip(x.chunks_exact(8)) {
        // SAFETY: 16 bytes of weights, 8 f32 of activations per step.
        unsafe {
            let h = v128_load(w.as_ptr() as *const v128);
            let a0 = v128_load(a.as_ptr() as *const v128);
            let a1 = v128_load(a.as_ptr().add(4) as *const v128);
            acc = f32x4_add(acc, f32x4_mul(half_to_f32x4(u32x4_extend_low_u16x8(h)), a0));
            acc = f32x4_add(acc, f32x4_mul(half_to_f32x4(u32x4_extend_high_u16x8(h)), a1));
        }
    }
    reduce(lanes(acc))
}

#[inline(always)]
unsafe fn load_block(a: *const i16) -> [v128; 4] {
    [
        v128_load(a as *const v128),
        v128_load(a.add(8) as *const v128),
        v128_load(a.add(16) as *const v128),
        v128_load(a.add(24) as *const v128),
    ]
}

/// 32 i8 weights (two vectors) · 32 i16 activations -> four i32 lanes.
#[inline(always)]
unsafe fn block_dot(w0: v128, w1: v128, a: *const i16) -> v128 {
    widened_dot(widen(w0, w1), load_block(a))
}

pub fn dot_q8_0(row: &[u8], qs: &[i16], scales: &[f32]) -> f32 {
    let mut acc = f32x4_splat(0.0);
    for ((block, a), da) in row.chunks_exact(Q8_0_BYTES).zip(qs.chunks_exact(BLOCK)).zip(scales) {
        let d = block_scale(block) * da;
        // SAFETY: a block is 34 bytes (2 of scale, 32 of weights); `a` holds 32 i16.
        unsafe {
            let w0 = v128_load(block.as_ptr().add(2) as *const v128);
            let w1 = v128_load(block.as_ptr().add(18) as *const v128);
            let s = block_dot(w0, w1, a.as_ptr());
            acc = f32x4_add(acc, f32x4_mul(f32x4_convert_i32x4(s), f32x4_splat(d)));
        }
    }
    reduce(lanes(acc))
}

pub fn dot_q4_0(row: &[u8], qs: &[i16], scales: &[f32]) -> f32 {
    let mut acc = f32x4_splat(0.0);
    for ((block, a), da) in row.chunks_exact(Q4_0_BYTES).zip(qs.chunks_exact(BLOCK)).zip(scales) {
        let d = block_scale(block) * da;
        // SAFETY: a block is 18 bytes (2 of scale, 16 of nibbles); `a` holds 32 i16.
        unsafe {
            let v = v128_load(block.as_ptr().add(2) as *const v128);
            let low = i8x16_sub(v128_and(v, u8x16_splat(0x0f)), i8x16_splat(8));
            let high = i8x16_sub(u8x16_shr(v, 4), i8x16_splat(8));
            let s = block_dot(low, high, a.as_ptr());
            acc = f32x4_add(acc, f32x4_mul(f32x4_convert_i32x4(s), f32x4_splat(d)));
        }
    }
    reduce(lanes(acc))
}

/// One Q8_0 block of one row into its accumulator.
#[inline(always)]
unsafe fn q8_step(acc: v128, row: &[u8], b: usize, loaded: [v128; 4], da: f32) -> v128 {
    let (w, d) = q8_widen(row, b);
    widened_step(acc, w, loaded, d * da)
}

/// One Q4_0 block of one row into its accumulator.
#[inline(always)]
unsafe fn q4_step(acc: v128, row: &[u8], b: usize, loaded: [v128; 4], da: f32) -> v128 {
    let (w, d) = q4_widen(row, b);
    widened_step(acc, w, loaded, d * da)
}

/// Four rows · the same activations: each row's sums exactly as the one-row kernel's,
/// with the activations loaded once per block and four independent accumulators
/// (named, so they stay in registers: an array of them is kept in memory).
macro_rules! four_rows {
    ($name:ident, $step:ident, $bytes:expr) => {
        pub fn $name(rows: [&[u8]; 4], qs: &[i16], scales: &[f32]) -> [f32; 4] {
            let blocks = scales.len();
            assert!(qs.len() >= blocks * BLOCK && rows.iter().all(|r| r.len() >= blocks * $bytes));
            let (mut a0, mut a1, mut a2, mut a3) =
                (f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0));
            for (b, da) in scales.iter().enumerate() {
                // SAFETY: checked above: every row has block b, `qs` has its 32 values.
                unsafe {
                    let loaded = load_block(qs.as_ptr().add(b * BLOCK));
                    a0 = $step(a0, rows[0], b, loaded, *da);
                    a1 = $step(a1, rows[1], b, loaded, *da);
                    a2 = $step(a2, rows[2], b, loaded, *da);
                    a3 = $step(a3, rows[3], b, loaded, *da);
                }
            }
            [reduce(lanes(a0)), reduce(lanes(a1)), reduce(lanes(a2)), reduce(lanes(a3))]
        }
    };
}

four_rows!(dot4_q8_0, q8_step, Q8_0_BYTES);
four_rows!(dot4_q4_0, q4_step, Q4_0_BYTES);

/// One Q8_0 block of a row, its weights widened to i16 (four vectors) and its scale.
#[inline(always)]
unsafe fn q8_widen(row: &[u8], b: usize) -> ([v128; 4], f32) {
    let block = row.as_ptr().add(b * Q8_0_BYTES);
    let d = f16_to_f32(u16::from_le_bytes([*block, *block.add(1)]));
    let w0 = v128_load(block.add(2) as *const v128);
    let w1 = v128_load(block.add(18) as *const v128);
    (widen(w0, w1), d)
}

/// One Q4_0 block of a row, its weights widened to i16 (four vectors) and its scale.
#[inline(always)]
unsafe fn q4_widen(row: &[u8], b: usize) -> ([v128; 4], f32) {
    let block = row.as_ptr().add(b * Q4_0_BYTES);
    let d = f16_to_f32(u16::from_le_bytes([*block, *block.add(1)]));
    let v = v128_load(block.add(2) as *const v128);
    let low = i8x16_sub(v128_and(v, u8x16_splat(0x0f)), i8x16_splat(8));
    let high = i8x16_sub(u8x16_shr(v, 4), i8x16_splat(8));
    (widen(low, high), d)
}

#[inline(always)]
fn widen(w0: v128, w1: v128) -> [v128; 4] {
    [i16x8_extend_low_i8x16(w0), i16x8_extend_high_i8x16(w0), i16x8_extend_low_i8x16(w1), i16x8_extend_high_i8x16(w1)]
}

/// Widened weights · one token's activations -> four i32 lanes.
#[inline(always)]
fn widened_dot([w0, w1, w2, w3]: [v128; 4], [a0, a1, a2, a3]: [v128; 4]) -> v128 {
    i32x4_add(
        i32x4_add(i32x4_dot_i16x8(w0, a0), i32x4_dot_i16x8(w1, a1)),
        i32x4_add(i32x4_dot_i16x8(w2, a2), i32x4_dot_i16x8(w3, a3)),
    )
}

/// Widened weights · one token's activations, into that row's accumulator for the token.
#[inline(always)]
fn widened_step(acc: v128, w: [v128; 4], a: [v128; 4], d: f32) -> v128 {
    f32x4_add(acc, f32x4_mul(f32x4_convert_i32x4(widened_dot(w, a)), f32x4_splat(d)))
}

/// Four rows · `T` tokens' activations (a prompt's prefill): each sum exactly as the one-row
/// kernel's, with each block's weights widened once for all `T` tokens.
macro_rules! four_rows_tokens {
    ($name:ident, $widen:ident, $bytes:expr) => {
        pub fn $name<const T: usize>(rows: [&[u8]; 4], qs: [&[i16]; T], scales: [&[f32]; T]) -> [[f32; 4]; T] {
            let blocks = scales[0].len();
            assert!(scales.iter().all(|s| s.len() == blocks) && qs.iter().all(|q| q.len() >= blocks * BLOCK));
            assert!(rows.iter().all(|r| r.len() >= blocks * $bytes));
            let mut acc = [[f32x4_splat(0.0); 4]; T];
            for b in 0..blocks {
                // SAFETY: checked above: every row has block b, each `qs` its 32 values.
                unsafe {
                    for r in 0..4 {
                        let (w, d) = $widen(rows[r], b);
                        for t in 0..T {
                            let x = load_block(qs[t].as_ptr().add(b * BLOCK));
                            acc[t][r] = widened_step(acc[t][r], w, x, d * *scales[t].get_unchecked(b));
                        }
                    }
                }
            }
            acc.map(|a| a.map(|v| reduce(lanes(v))))
        }
    };
}

four_rows_tokens!(dot4xn_q8_0, q8_widen, Q8_0_BYTES);
four_rows_tokens!(dot4xn_q4_0, q4_widen, Q4_0_BYTES);
