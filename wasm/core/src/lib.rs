//! tabtwin-core: everything the browser and Python bindings share.
//! No binding code lives here; `web/` and `py/` only translate.

pub mod arch;
pub mod bundle;
pub mod channels;
pub mod chat;
pub mod contrast;
pub mod error;
pub mod facts;
pub mod generate;
pub mod gguf;
pub mod grounding;
pub mod incoming;
pub mod keys;
pub mod models;
pub mod options;
#[cfg(feature = "probes")]
mod probes;
pub mod refusal;
pub mod sampler;
pub mod session;
pub mod stream;
pub mod support;
pub mod system_prompt;
pub mod template;
#[cfg(test)]
mod test_rng;
pub mod tokenizer;
pub mod whisper;

pub use bundle::ModelInfo;
pub use channels::{parse_reply, Event};
pub use chat::Chat;
pub use error::{Error, Result};
pub use generate::StopReason;
pub use incoming::Incoming;
pub use options::{GenerateOptions, Overrides};
pub use sampler::SamplingOptions;
pub use template::Message;
pub use whisper::{TranscribeOptions, Transcriber, Transcript, Window};

/// Whether the wasm simd128 kernels are compiled in (always false natively).
pub fn with_simd128() -> bool {
    candle_core::utils::with_simd128()
}
