//! A batch of activation rows on its way into one or more matrix products. The
//! 16-bit quantized form is made on first use and shared by every product that
//! takes the same input (q, k and v; gate and up).

use std::cell::OnceCell;

use super::formats::Q16;

pub struct Input<'a> {
    x: &'a [f32],
    pub tokens: usize,
    pub cols: usize,
    quantized: OnceCell<Q16>,
}

impl<'a> Input<'a> {
    pub fn new(x: &'a [f32], cols: usize) -> Self {
        debug_assert!(x.len().is_multiple_of(cols));
        Self { x, tokens: x.len() / cols, cols, quantized: OnceCell::new() }
    }

    pub fn row(&self, t: usize) -> &[f32] {
        &self.x[t * self.cols..(t + 1) * self.cols]
    }

    pub fn q16(&self) -> &Q16 {
        self.quantized.get_or_init(|| Q16::quantize(self.x))
    }
}
