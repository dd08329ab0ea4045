//! `general.architecture = "llama"` (SmolLM2, Llama): the plain block. llama.cpp
//! permutes q/k rows at conversion so that rotated pairs are adjacent.

use super::blocks::rope::Pairing;
use super::decoder::Variant;

pub const VARIANT: Variant = Variant { name: "llama", rope: Pairing::Adjacent, qk_norm: false, ..Variant::PLAIN };
