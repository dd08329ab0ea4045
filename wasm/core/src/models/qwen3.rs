//! `general.architecture = "qwen3"` (Qwen3): no q/k/v biases, an RMS norm on every
//! query and key head before the rotary, a head size of its own
//! (`qwen3.attention.key_length`), NEOX rotary.

use super::blocks::rope::Pairing;
use super::decoder::Variant;

pub const VARIANT: Variant = Variant { name: "qwen3", rope: Pairing::Halves, qk_norm: true, ..Variant::PLAIN };
