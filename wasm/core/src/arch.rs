//! `general.architecture` -> model. The one place that knows the list.

use crate::error::{Error, Result};
use crate::gguf::GgufFile;
use crate::models::{self, CausalLm};

pub const SUPPORTED: &[&str] = &["llama", "qwen2"];

/// Read `general.architecture` and fail with the supported list when it is not ours.
pub fn detect(file: &GgufFile) -> Result<&'static str> {
    let found = file.string("general.architecture")?;
    SUPPORTED
        .iter()
        .copied()
        .find(|a| *a == found)
        .ok_or_else(|| Error::UnsupportedArchitecture { found: found.to_string(), supported: SUPPORTED })
}

/// Build the model for the file's architecture. Consumes the file: the weights
/// are copied out of its bytes, which are then dropped to halve peak memory.
pub fn load(file: GgufFile) -> Result<Box<dyn CausalLm>> {
    Ok(match detect(&file)? {
        "llama" => Box::new(models::llama::Model::load(file)?),
        "qwen2" => Box::new(models::qwen2::Model::load(file)?),
        other => unreachable!("SUPPORTED lists '{other}' without a loader"),
    })
}
