//! `general.architecture = "gemma3"` (Gemma 3 text: 270M, 1B): the llama block with
//! Gemma's changes. Embeddings scaled by sqrt(hidden); RMS norms of the form
//! x̂ · (1 + w), whose 1 llama.cpp's converter has already added to every stored
//! `*norm.weight`, so they run as plain RMS norms; per-head q/k norms; norms on the
//! attention's and the MLP's outputs as well as their inputs; a GELU-tanh gated MLP;
//! NEOX rotary; five sliding-window layers (rotary base 10000) to each global one
//! (base `gemma3.rope.freq_base`); tied embeddings; `gemma3.final_logit_softcapping`
//! when the file has it (Gemma 3 ships without). Attention is scaled by 1/sqrt(head
//! size), as llama.cpp does: the file does not carry `query_pre_attn_scalar`, which
//! equals the head size in every Gemma 3 up to 12B.

use super::blocks::rope::Pairing;
use super::decoder::{Activation, Sliding, Variant};

pub const VARIANT: Variant = Variant {
    name: "gemma3",
    rope: Pairing::Halves,
    qk_norm: true,
    scaled_embeddings: true,
    post_norms: true,
    activation: Activation::GeluTanh,
    sliding: Some(Sliding { period: 6, local_rope_base: 10_000.0 }),
};
