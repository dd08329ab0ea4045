//! `general.architecture` -> model. The one place that knows the list.

use crate::error::{Error, Result};
use crate::gguf::GgufFile;
use crate::models::decoder::{Decoder, Variant};
use crate::models::{gemma3, llama, qwen2, qwen3, CausalLm};

const VARIANTS: &[&Variant] = &[&llama::VARIANT, &qwen2::VARIANT, &qwen3::VARIANT, &gemma3::VARIANT];

pub const SUPPORTED: &[&str] = &["llama", "qwen2", "qwen3", "gemma3"];

/// Read `general.architecture` and fail with the supported list when it is not ours.
pub fn detect(file: &GgufFile) -> Result<&'static Variant> {
    let found = file.string("general.architecture")?;
    VARIANTS
        .iter()
        .copied()
        .find(|v| v.name == found)
        .ok_or_else(|| Error::UnsupportedArchitecture { found: found.to_string(), supported: SUPPORTED })
}

/// Build the model for the file's architecture. Consumes the file: the weights are
/// used in place in its bytes.
pub fn load(file: GgufFile) -> Result<Box<dyn CausalLm>> {
    let variant = detect(&file)?;
    Ok(Box::new(Decoder::load(file, variant)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_supported_list_names_every_variant() {
        assert_eq!(VARIANTS.iter().map(|v| v.name).collect::<Vec<_>>(), SUPPORTED);
    }
}
