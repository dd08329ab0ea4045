//! A weight matrix used in place, and its product with a batch of activations.

use std::rc::Rc;

use super::activations::Input;
use super::formats::{dequantize_row, Format};
use super::kernels;

type Dot = fn(&[u8], &[i16], &[f32]) -> f32;
type Dot4 = fn([&[u8]; 4], &[i16], &[f32]) -> [f32; 4];
type Dot4xN = fn([&[u8]; 4], [&[i16]; TOKENS], [&[f32]; TOKENS]) -> [[f32; 4]; TOKENS];

/// Tokens per call of the prefill kernel: each row's weights are widened once for these.
const TOKENS: usize = 2;

#[derive(Clone)]
pub struct Matrix {
    /// The file's bytes (or, for a converted tensor, its own); shared, never copied.
    bytes: Rc<Vec<u8>>,
    start: usize,
    pub format: Format,
    pub rows: usize,
    pub cols: usize,
    row_bytes: usize,
}

impl Matrix {
    pub fn new(bytes: Rc<Vec<u8>>, start: usize, format: Format, rows: usize, cols: usize) -> Self {
        let row_bytes = format.row_bytes(cols);
        debug_assert!(start + rows * row_bytes <= bytes.len());
        Self { bytes, start, format, rows, cols, row_bytes }
    }

    #[inline(always)]
    fn row(&self, r: usize) -> &[u8] {
        let at = self.start + r * self.row_bytes;
        &self.bytes[at..at + self.row_bytes]
    }

    /// Row `r` as f32 (an embedding lookup).
    pub fn row_f32(&self, r: usize, out: &mut [f32]) {
        dequantize_row(self.format, self.row(r), out);
    }

    /// `out[t * rows + r] = row r · input token t` for every token of the batch.
    /// Rows are the outer loop: a row is read from memory once and stays in cache
    /// for every token of the batch (the prompt's prefill is a matrix-matrix product).
    pub fn forward(&self, input: &Input, out: &mut [f32]) {
        debug_assert_eq!(input.cols, self.cols);
        let tokens = input.tokens;
        debug_assert_eq!(out.len(), tokens * self.rows);
        let rows = self.rows;
        match self.format {
            Format::Q8_0 | Format::Q4_0 => {
                let q = input.q16();
                let blocks = self.cols / super::formats::BLOCK;
                let (dot, dot4, dot4xn) = if self.format == Format::Q8_0 {
                    (kernels::dot_q8_0 as Dot, kernels::dot4_q8_0 as Dot4, kernels::dot4xn_q8_0::<TOKENS> as Dot4xN)
                } else {
                    (kernels::dot_q4_0 as Dot, kernels::dot4_q4_0 as Dot4, kernels::dot4xn_q4_0::<TOKENS> as Dot4xN)
                };
                let token =
                    |t: usize| (&q.qs[t * self.cols..(t + 1) * self.cols], &q.scales[t * blocks..(t + 1) * blocks]);
                // Four rows at a time, and in a prefill TOKENS tokens at a time: each row's
                // weights are widened once for the tokens (the remaining tokens take the
                // four-row kernel, which loads the activations once for the four rows).
                let grouped = rows / 4 * 4;
                let batched = tokens / TOKENS * TOKENS;
                for r in (0..grouped).step_by(4) {
                    let group = [self.row(r), self.row(r + 1), self.row(r + 2), self.row(r + 3)];
                    for t0 in (0..batched).step_by(TOKENS) {
                        let sums = dot4xn(
                            group,
                            std::array::from_fn(|i| token(t0 + i).0),
                            std::array::from_fn(|i| token(t0 + i).1),
                        );
                        for (i, sum) in sums.iter().enumerate() {
                            out[(t0 + i) * rows + r..(t0 + i) * rows + r + 4].copy_from_slice(sum);
                        }
                    }
                    for t in batched..tokens {
                        let (qs, scales) = token(t);
                        out[t * rows + r..t * rows + r + 4].copy_from_slice(&dot4(group, qs, scales));
                    }
                }
                for r in grouped..rows {
                    let row = self.row(r);
                    for t in 0..tokens {
                        let (qs, scales) = token(t);
                        out[t * rows + r] = dot(row, qs, scales);
                    }
                }
            }
            Format::F16 | Format::F32 => {
                let dot = if self.format == Format::F16 { kernels::dot_f16 } else { kernels::dot_f32 };
                for r in 0..rows {
                    let row = self.row(r);
                    for t in 0..tokens {
                        out[t * rows + r] = dot(row, input.row(t));
                    }
                }
            }
        }
    }
}

/// A matrix with an optional bias.
pub struct Linear {
    pub weight: Matrix,
    pub bias: Option<Vec<f32>>,
}

impl Linear {
    pub fn forward(&self, input: &Input) -> Vec<f32> {
        let mut out = vec![0f32; input.tokens * self.weight.rows];
        self.weight.forward(input, &mut out);
        if let Some(bias) = &self.bias {
            for row in out.chunks_exact_mut(bias.len()) {
                for (o, b) in row.iter_mut().zip(bias) {
                    *o += b;
                }
            }
        }
        out
    }
}
