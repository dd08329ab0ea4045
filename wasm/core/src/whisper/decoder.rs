//! Whisper's text decoder, one token at a time over a cache, as the chat models run:
//! each layer keeps the keys and values of the tokens so far (self-attention), and the
//! audio's keys and values for cross-attention are projected once per clip, not once
//! per token. The output projection is the token embedding (tied), read in place.

use super::layers::{add, Attention, LayerNorm, Mlp};
use crate::error::{Error, Result};
use crate::models::blocks::activations::Input;
use crate::models::blocks::matrix::Matrix;
use crate::models::blocks::tensors::Tensors;

struct Layer {
    self_norm: LayerNorm,
    self_attn: Attention,
    cross_norm: LayerNorm,
    cross_attn: Attention,
    mlp_norm: LayerNorm,
    mlp: Mlp,
}

pub struct Decoder {
    embed: Matrix,
    positions: Vec<f32>,
    layers: Vec<Layer>,
    norm: LayerNorm,
    d: usize,
    max_positions: usize,
}

/// One clip's decoding state: the audio's keys and values per layer (computed once)
/// and the self-attention cache of the tokens decoded so far.
pub struct Cache {
    cross: Vec<(Vec<f32>, Vec<f32>)>,
    tokens: Vec<(Vec<f32>, Vec<f32>)>,
    len: usize,
}

impl Decoder {
    pub fn load(t: &Tensors, cfg: &super::decode::ModelConfig) -> Result<Self> {
        let d = cfg.d_model;
        let layers = (0..cfg.decoder_layers)
            .map(|i| {
                let p = format!("model.decoder.layers.{i}");
                let heads = cfg.decoder_attention_heads;
                Ok(Layer {
                    self_norm: LayerNorm::load(t, &format!("{p}.self_attn_layer_norm"), d)?,
                    self_attn: Attention::load(t, &format!("{p}.self_attn"), d, heads)?,
                    cross_norm: LayerNorm::load(t, &format!("{p}.encoder_attn_layer_norm"), d)?,
                    cross_attn: Attention::load(t, &format!("{p}.encoder_attn"), d, heads)?,
                    mlp_norm: LayerNorm::load(t, &format!("{p}.final_layer_norm"), d)?,
                    mlp: Mlp::load(t, &p, d, cfg.decoder_ffn_dim())?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            embed: t.matrix("model.decoder.embed_tokens.weight", cfg.vocab_size, d)?,
            positions: t.values("model.decoder.embed_positions.weight", &[cfg.max_target_positions, d])?,
            layers,
            norm: LayerNorm::load(t, "model.decoder.layer_norm", d)?,
            d,
            max_positions: cfg.max_target_positions,
        })
    }

    /// A fresh cache for one clip: the cross-attention keys and values of `audio` (positions x d).
    pub fn start(&self, audio: &[f32]) -> Cache {
        let input = Input::new(audio, self.d);
        let cross = self.layers.iter().map(|l| l.cross_attn.keys_values(&input)).collect();
        let tokens = self.layers.iter().map(|_| (Vec::new(), Vec::new())).collect();
        Cache { cross, tokens, len: 0 }
    }

    /// Feed one token at the next position; returns the final hidden state (d values).
    pub fn step(&self, cache: &mut Cache, token: u32) -> Result<Vec<f32>> {
        let position = cache.len;
        if position >= self.max_positions || token as usize >= self.embed.rows {
            return Err(Error::Invalid(format!(
                "whisper decoder: token {token} at position {position} is outside the model (vocabulary {}, {} positions)",
                self.embed.rows, self.max_positions
            )));
        }
        let mut x = vec![0f32; self.d];
        self.embed.row_f32(token as usize, &mut x);
        add(&mut x, &self.positions[position * self.d..(position + 1) * self.d]);
        for (layer, ((keys, values), (audio_keys, audio_values))) in
            self.layers.iter().zip(cache.tokens.iter_mut().zip(&cache.cross))
        {
            let h = layer.self_norm.forward(&x);
            let input = Input::new(&h, self.d);
            let q = layer.self_attn.q.forward(&input);
            let (k, v) = layer.self_attn.keys_values(&input);
            keys.extend_from_slice(&k);
            values.extend_from_slice(&v);
            add(&mut x, &layer.self_attn.attend_projected(&q, keys, values));
            let h = layer.cross_norm.forward(&x);
            let q = layer.cross_attn.q.forward(&Input::new(&h, self.d));
            add(&mut x, &layer.cross_attn.attend_projected(&q, audio_keys, audio_values));
            let h = layer.mlp_norm.forward(&x);
            add(&mut x, &layer.mlp.forward(&h));
        }
        cache.len += 1;
        Ok(self.norm.forward(&x))
    }

    /// Logits over the vocabulary for a hidden state.
    pub fn logits(&self, hidden: &[f32]) -> Vec<f32> {
        let mut out = vec![0f32; self.embed.rows];
        self.embed.forward(&Input::new(hidden, self.d), &mut out);
        out
    }
}
