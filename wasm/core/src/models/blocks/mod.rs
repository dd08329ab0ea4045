//! The shared parts every architecture is built from. An architecture file
//! (`llama.rs`, `qwen2.rs`, `qwen3.rs`) only says which of them it uses.
//!
//! All weights stay in the bytes of the GGUF file, in their stored format; the
//! kernels read them in place. Floating-point work that is not a matrix product
//! (norms, rotary, softmax) uses `libm` and fixed summation orders, so the
//! browser (wasm, simd128) and the native build compute bit-identical logits.

pub mod activations;
pub mod attention;
pub mod formats;
pub mod kernels;
pub mod kv_cache;
pub mod matrix;
pub mod norm;
pub mod rope;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;
#[cfg(target_arch = "x86_64")]
mod sse2;
pub mod tensors;
