//! `general.architecture = "qwen2"` (Qwen2, Qwen2.5): biases on q, k and v (read
//! wherever the file has them), NEOX rotary (pairs i, i + d/2).

use super::blocks::rope::Pairing;
use super::decoder::Variant;

pub const VARIANT: Variant = Variant { name: "qwen2", rope: Pairing::Halves, qk_norm: false, ..Variant::PLAIN };
