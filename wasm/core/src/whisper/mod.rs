//! Whisper (tiny.en) speech-to-text in the same core as the chat models.
//!
//! One GGUF carries everything (`tabtwin whisper convert` writes it): the weights
//! under Hugging Face names for candle's quantized whisper, the config, the
//! tokenizer and the mel filterbank as metadata. `mel.rs` computes the log-mel
//! spectrogram on one thread (candle's own spawns threads and traps in wasm);
//! `decode.rs` runs greedy, English, no-timestamps decoding.

pub mod decode;
pub mod mel;

pub use decode::{Transcriber, Transcript};
