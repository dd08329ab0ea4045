//! Whisper (tiny.en) speech-to-text in the same core as the chat models.
//!
//! One GGUF carries everything (`tabtwin whisper convert` writes it): the weights
//! under Hugging Face names, the config, the tokenizer and the mel filterbank as
//! metadata. `mel.rs` computes the log-mel spectrogram on one thread; `encoder.rs`
//! and `decoder.rs` are the network on the chat models' blocks (`layers.rs` holds
//! what the two share); `window.rs` fits the encoder's window to the clip;
//! `decode.rs` runs greedy, English, no-timestamps decoding.

pub mod decode;
pub mod decoder;
pub mod encoder;
pub mod layers;
pub mod mel;
pub mod window;

pub use decode::{Transcriber, Transcript};
pub use window::{TranscribeOptions, Window};
