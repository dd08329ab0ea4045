//! Whisper's audio encoder on a window of any length up to 30 s: two convolutions
//! with GELU (the second halves the frame rate: 100 mel frames a second become 50
//! positions), sinusoidal positions sliced to the window, pre-norm transformer layers.
//!
//! The model was trained on 30 s windows only; a shorter one (whisper.cpp's
//! `audio_ctx`) costs what attention over the silence would have cost, and a little
//! accuracy on very short windows (see `window.rs` for the floor that keeps it).

use std::rc::Rc;

use super::layers::{add, gelu, Attention, LayerNorm, Mlp};
use crate::error::Result;
use crate::models::blocks::activations::Input;
use crate::models::blocks::formats::Format;
use crate::models::blocks::matrix::{Linear, Matrix};
use crate::models::blocks::tensors::Tensors;

const KERNEL: usize = 3;

/// A 1-D convolution (kernel 3, padding 1) as a matrix product over gathered input
/// windows: row `c` of the matrix holds output channel `c`'s kernels, input channel outer.
struct Conv {
    linear: Linear,
    stride: usize,
}

impl Conv {
    fn load(t: &Tensors, name: &str, out_channels: usize, in_channels: usize, stride: usize) -> Result<Self> {
        let kernels = t.values(&format!("{name}.weight"), &[out_channels, in_channels, KERNEL])?;
        // F32, as stored: the stem is a small share of the work and its input has a wide range.
        let bytes: Vec<u8> = kernels.iter().flat_map(|v| v.to_le_bytes()).collect();
        let weight = Matrix::new(Rc::new(bytes), 0, Format::F32, out_channels, in_channels * KERNEL);
        Ok(Self { linear: Linear { weight, bias: Some(t.vector(&format!("{name}.bias"), out_channels)?) }, stride })
    }

    /// `at(i, t)`: input channel `i` at time `t` (zero outside 0..len). Returns outputs x channels, GELU applied.
    fn forward(&self, len: usize, at: impl Fn(usize, usize) -> f32) -> Vec<f32> {
        let in_channels = self.linear.weight.cols / KERNEL;
        let outputs = len.div_ceil(self.stride);
        let mut gathered = vec![0f32; outputs * in_channels * KERNEL];
        for (o, row) in gathered.chunks_exact_mut(in_channels * KERNEL).enumerate() {
            for i in 0..in_channels {
                for k in 0..KERNEL {
                    let t = (o * self.stride + k) as isize - 1;
                    if t >= 0 && (t as usize) < len {
                        row[i * KERNEL + k] = at(i, t as usize);
                    }
                }
            }
        }
        let mut out = self.linear.forward(&Input::new(&gathered, in_channels * KERNEL));
        gelu(&mut out);
        out
    }
}

struct Layer {
    attn_norm: LayerNorm,
    attn: Attention,
    mlp_norm: LayerNorm,
    mlp: Mlp,
}

pub struct Encoder {
    conv1: Conv,
    conv2: Conv,
    layers: Vec<Layer>,
    norm: LayerNorm,
    d: usize,
    n_mels: usize,
    max_positions: usize,
}

impl Encoder {
    pub fn load(t: &Tensors, cfg: &super::decode::ModelConfig) -> Result<Self> {
        let d = cfg.d_model;
        let layers = (0..cfg.encoder_layers)
            .map(|i| {
                let p = format!("model.encoder.layers.{i}");
                Ok(Layer {
                    attn_norm: LayerNorm::load(t, &format!("{p}.self_attn_layer_norm"), d)?,
                    attn: Attention::load(t, &format!("{p}.self_attn"), d, cfg.encoder_attention_heads)?,
                    mlp_norm: LayerNorm::load(t, &format!("{p}.final_layer_norm"), d)?,
                    mlp: Mlp::load(t, &p, d, cfg.encoder_ffn_dim())?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            conv1: Conv::load(t, "model.encoder.conv1", d, cfg.num_mel_bins, 1)?,
            conv2: Conv::load(t, "model.encoder.conv2", d, d, 2)?,
            layers,
            norm: LayerNorm::load(t, "model.encoder.layer_norm", d)?,
            d,
            n_mels: cfg.num_mel_bins,
            max_positions: cfg.max_source_positions,
        })
    }

    pub fn d_model(&self) -> usize {
        self.d
    }

    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// `mel`: n_mels x frames (row-major); returns the audio features, frames/2 positions x d.
    pub fn forward(&self, mel: &[f32], frames: usize) -> Vec<f32> {
        debug_assert_eq!(mel.len(), self.n_mels * frames);
        let stem = self.conv1.forward(frames, |i, t| mel[i * frames + t]);
        let mut x = self.conv2.forward(frames, |i, t| stem[t * self.d + i]);
        let positions = x.len() / self.d;
        debug_assert!(positions <= self.max_positions);
        for (p, row) in x.chunks_exact_mut(self.d).enumerate() {
            add_sinusoid(row, p);
        }
        for layer in &self.layers {
            let h = layer.attn_norm.forward(&x);
            let input = Input::new(&h, self.d);
            let q = layer.attn.q.forward(&input);
            let (k, v) = layer.attn.keys_values(&input);
            add(&mut x, &layer.attn.attend_projected(&q, &k, &v));
            let h = layer.mlp_norm.forward(&x);
            add(&mut x, &layer.mlp.forward(&h));
        }
        self.norm.forward(&x)
    }
}

/// Whisper's fixed encoder positions: sin over the first half of the channels, cos over
/// the second, timescales from 1 to 10000 (computed as OpenAI's `sinusoids` does, in f32).
fn add_sinusoid(row: &mut [f32], position: usize) {
    let half = row.len() / 2;
    let increment = (10000f32).ln() / (half - 1) as f32;
    for c in 0..half {
        let angle = position as f32 * libm::expf(-increment * c as f32);
        row[c] += libm::sinf(angle);
        row[half + c] += libm::cosf(angle);
    }
}
