//! tabtwin-core: everything the browser and Python bindings share.
//! No binding code lives here; `web/` and `py/` only translate.

pub mod arch;
pub mod channels;
pub mod chat;
pub mod error;
pub mod gguf;
pub mod keys;
pub mod models;
pub mod sampler;
pub mod stream;
pub mod template;
pub mod tokenizer;
pub mod whisper;

pub use channels::Event;
pub use chat::{Chat, GenerateOptions, ModelInfo, StopReason};
pub use error::{Error, Result};
pub use sampler::SamplingOptions;
pub use template::Message;

/// Whether the wasm simd128 kernels are compiled in (always false natively).
pub fn with_simd128() -> bool {
    candle_core::utils::with_simd128()
}

/// `s` as a JSON string literal (for bindings that hand JSON across).
pub fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}
