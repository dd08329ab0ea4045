//! `general.architecture = "llama"`: candle's `quantized_llama` behind [`CausalLm`].

use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;

use super::CausalLm;
use crate::error::Result;
use crate::gguf::GgufFile;

pub struct Model {
    weights: ModelWeights,
}

impl Model {
    pub fn load(file: GgufFile) -> Result<Self> {
        let GgufFile { content, bytes } = file;
        let weights = ModelWeights::from_gguf(content, &mut std::io::Cursor::new(&bytes), &Device::Cpu)?;
        Ok(Self { weights })
    }
}

impl CausalLm for Model {
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let input = Tensor::new(tokens, &Device::Cpu)?.unsqueeze(0)?;
        let logits = self.weights.forward(&input, pos)?;
        Ok(logits.squeeze(0)?.to_dtype(candle_core::DType::F32)?.to_vec1()?)
    }

    fn reset(&mut self) {
        self.weights.clear_kv_cache();
    }
}
