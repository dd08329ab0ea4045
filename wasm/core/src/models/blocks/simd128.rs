//! The browser's kernels: `kernels::portable` in simd128, same sums in the same
//! order (see `kernels.rs`). wasm has no 8-bit dot product; weights are widened to
//! i16 and multiplied with `i32x4.dot_i16x8_s`, which is why activations are i16.

use core::arch::wasm32::*;

use super::formats::{block_scale, BLOCK, Q4_0_BYTES, Q8_0_BYTES};
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
    block_dot_loaded(w0, w1, load_block(a))
}

#[inline(always)]
unsafe fn block_dot_loaded(w0: v128, w1: v128, [a0, a1, a2, a3]: [v128; 4]) -> v128 {
    i32x4_add(
        i32x4_add(i32x4_dot_i16x8(i16x8_extend_low_i8x16(w0), a0), i32x4_dot_i16x8(i16x8_extend_high_i8x16(w0), a1)),
        i32x4_add(i32x4_dot_i16x8(i16x8_extend_low_i8x16(w1), a2), i32x4_dot_i16x8(i16x8_extend_high_i8x16(w1), a3)),
    )
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

/// Four Q8_0 rows · the same activations: each row's sums exactly as `dot_q8_0`'s,
/// with the activations loaded once per block and four independent accumulators.
pub fn dot4_q8_0(rows: [&[u8]; 4], qs: &[i16], scales: &[f32]) -> [f32; 4] {
    let mut acc = [f32x4_splat(0.0); 4];
    for (b, (a, da)) in qs.chunks_exact(BLOCK).zip(scales).enumerate() {
        // SAFETY: every row has a 34-byte block b (rows are cols / 32 blocks long); `a` holds 32 i16.
        unsafe {
            let loaded = load_block(a.as_ptr());
            for (acc, row) in acc.iter_mut().zip(rows) {
                let block = row.as_ptr().add(b * Q8_0_BYTES);
                let d = block_scale(core::slice::from_raw_parts(block, 2)) * da;
                let w0 = v128_load(block.add(2) as *const v128);
                let w1 = v128_load(block.add(18) as *const v128);
                let s = block_dot_loaded(w0, w1, loaded);
                *acc = f32x4_add(*acc, f32x4_mul(f32x4_convert_i32x4(s), f32x4_splat(d)));
            }
        }
    }
    acc.map(|a| reduce(lanes(a)))
}

/// Four Q4_0 rows · the same activations (see `dot4_q8_0`).
pub fn dot4_q4_0(rows: [&[u8]; 4], qs: &[i16], scales: &[f32]) -> [f32; 4] {
    let mut acc = [f32x4_splat(0.0); 4];
    for (b, (a, da)) in qs.chunks_exact(BLOCK).zip(scales).enumerate() {
        // SAFETY: every row has an 18-byte block b; `a` holds 32 i16.
        unsafe {
            let loaded = load_block(a.as_ptr());
            for (acc, row) in acc.iter_mut().zip(rows) {
                let block = row.as_ptr().add(b * Q4_0_BYTES);
                let d = block_scale(core::slice::from_raw_parts(block, 2)) * da;
                let v = v128_load(block.add(2) as *const v128);
                let low = i8x16_sub(v128_and(v, u8x16_splat(0x0f)), i8x16_splat(8));
                let high = i8x16_sub(u8x16_shr(v, 4), i8x16_splat(8));
                let s = block_dot_loaded(low, high, loaded);
                *acc = f32x4_add(*acc, f32x4_mul(f32x4_convert_i32x4(s), f32x4_splat(d)));
            }
        }
    }
    acc.map(|a| reduce(lanes(a)))
}
