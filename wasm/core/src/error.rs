//! One error type for the core. Every variant says what went wrong and, where it
//! helps, what to do; bindings turn it into a JS exception or a Python exception.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// The bytes are not a GGUF file, or are cut short, or a header field is impossible.
    BadGguf(String),
    /// `general.architecture` names a model family the core cannot run.
    UnsupportedArchitecture { found: String, supported: &'static [&'static str] },
    /// A metadata key the core needs is missing or has the wrong type.
    Metadata { key: String, problem: String },
    /// The tokenizer described by the file cannot be built (unknown type, bad vocab).
    Tokenizer(String),
    /// The chat template failed to parse or render.
    Template(String),
    /// A tensor operation failed inside candle.
    Candle(candle_core::Error),
    /// The caller asked for something impossible (empty prompt, zero context...).
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadGguf(msg) => write!(f, "not a usable GGUF file: {msg}"),
            Error::UnsupportedArchitecture { found, supported } => write!(
                f,
                "unsupported model architecture '{found}' (general.architecture); tabtwin runs: {}",
                supported.join(", ")
            ),
            Error::Metadata { key, problem } => write!(f, "GGUF metadata key '{key}': {problem}"),
            Error::Tokenizer(msg) => write!(f, "tokenizer: {msg}"),
            Error::Template(msg) => write!(f, "chat template: {msg}"),
            Error::Candle(err) => write!(f, "model: {err}"),
            Error::Invalid(msg) => write!(f, "{msg}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<candle_core::Error> for Error {
    fn from(err: candle_core::Error) -> Self {
        Error::Candle(err)
    }
}
