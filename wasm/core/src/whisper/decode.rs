//! Loading a tabtwin Whisper GGUF and transcribing 16 kHz mono audio: greedy,
//! English, no timestamps, the config's suppressed tokens, a length guard.

use candle_core::{Device, IndexOp, Tensor, D};
use candle_transformers::models::whisper::quantized_model::Whisper;
use candle_transformers::models::whisper::Config;
use candle_transformers::quantized_var_builder::VarBuilder;
use serde::{Deserialize, Serialize};

use super::mel::{MelExtractor, N_FRAMES};
use crate::error::{Error, Result};
use crate::gguf::{self, GgufFile};
use crate::keys::{MIN_CLIP_SECONDS, SAMPLE_RATE, WHISPER_CONFIG, WHISPER_MEL_FILTERS, WHISPER_TOKENIZER_JSON};
/// Above this probability of the no-speech token, the clip is "nothing heard".
const NO_SPEECH_THRESHOLD: f32 = 0.6;

#[derive(Deserialize)]
struct FileConfig {
    #[serde(flatten)]
    model: Config,
    decoder_start_token_id: u32,
    eos_token_id: u32,
    no_timestamps_token_id: u32,
    #[serde(default)]
    begin_suppress_tokens: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    pub text: String,
    pub tokens: Vec<u32>,
    pub audio_seconds: f32,
    pub no_speech_prob: f32,
    /// True when the clip holds no speech the model could hear.
    pub nothing_heard: bool,
}

pub struct Transcriber {
    model: Whisper,
    mel: MelExtractor,
    tokenizer: tokenizers::Tokenizer,
    config: FileConfig,
    no_speech_token: Option<u32>,
}

impl Transcriber {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let file = GgufFile::parse(bytes)?;
        let arch = file.string(gguf::ARCHITECTURE)?;
        if arch != "whisper" {
            return Err(Error::UnsupportedArchitecture { found: arch.to_string(), supported: &["whisper"] });
        }
        let config: FileConfig = serde_json::from_str(file.string(WHISPER_CONFIG)?)
            .map_err(|e| Error::Metadata { key: WHISPER_CONFIG.into(), problem: e.to_string() })?;
        let tokenizer = tokenizers::Tokenizer::from_bytes(file.string(WHISPER_TOKENIZER_JSON)?.as_bytes())
            .map_err(|e| Error::Metadata { key: WHISPER_TOKENIZER_JSON.into(), problem: e.to_string() })?;
        let filters = f32_array(&file, WHISPER_MEL_FILTERS)?;
        let mel = MelExtractor::new(filters, config.model.num_mel_bins)?;
        let no_speech_token = ["<|nocaptions|>", "<|nospeech|>"].iter().find_map(|t| tokenizer.token_to_id(t));
        let vb = VarBuilder::from_gguf_buffer(&file.bytes, &Device::Cpu)?;
        let model = Whisper::load(&vb, config.model.clone())?;
        Ok(Self { model, mel, tokenizer, config, no_speech_token })
    }

    /// Features for `pcm` (exposed so tests can compare them with a reference).
    pub fn log_mel(&self, pcm: &[f32]) -> Vec<f32> {
        self.mel.compute(pcm)
    }

    /// Transcribe up to 30 s of 16 kHz mono samples in [-1, 1].
    pub fn transcribe(&mut self, pcm: &[f32]) -> Result<Transcript> {
        let audio_seconds = pcm.len() as f32 / SAMPLE_RATE as f32;
        if audio_seconds < MIN_CLIP_SECONDS {
            return Err(Error::Invalid(format!(
                "audio too short: {audio_seconds:.2} s (hold the button while you speak, at least {MIN_CLIP_SECONDS} s)"
            )));
        }
        let n_mels = self.mel.n_mels();
        let mel = Tensor::from_vec(self.mel.compute(pcm), (1, n_mels, N_FRAMES), &Device::Cpu)?;
        let audio_features = self.model.encoder.forward(&mel, true)?;

        let cfg = &self.config;
        let mut tokens = vec![cfg.decoder_start_token_id, cfg.no_timestamps_token_id];
        let prompt_len = tokens.len();
        let max_len = cfg.model.max_target_positions / 2;
        let mut no_speech_prob = 0.0;
        for step in 0..max_len {
            let input = Tensor::new(tokens.as_slice(), &Device::Cpu)?.unsqueeze(0)?;
            let hidden = self.model.decoder.forward(&input, &audio_features, step == 0)?;
            let (_, seq_len, _) = hidden.dims3()?;
            let logits = self.model.decoder.final_linear(&hidden.i((..1, seq_len - 1..))?)?.i(0)?.i(0)?;
            if step == 0 {
                // The no-speech probability is read at the start-of-transcript position.
                if let Some(id) = self.no_speech_token {
                    let sot_logits = self.model.decoder.final_linear(&hidden.i((..1, 0..1))?)?.i(0)?.i(0)?;
                    let probs = candle_nn::ops::softmax(&sot_logits, D::Minus1)?;
                    no_speech_prob = probs.i(id as usize)?.to_scalar::<f32>()?;
                }
            }
            let mut logits: Vec<f32> = logits.to_vec1()?;
            for &t in &cfg.model.suppress_tokens {
                if let Some(l) = logits.get_mut(t as usize) {
                    *l = f32::NEG_INFINITY;
                }
            }
            if step == 0 {
                for &t in &cfg.begin_suppress_tokens {
                    if let Some(l) = logits.get_mut(t as usize) {
                        *l = f32::NEG_INFINITY;
                    }
                }
            }
            // Timestamps and other special tokens are not text: keep decoding to plain tokens.
            for l in logits.iter_mut().skip(cfg.no_timestamps_token_id as usize + 1) {
                *l = f32::NEG_INFINITY;
            }
            let next = crate::sampler::argmax(&logits);
            if next == cfg.eos_token_id {
                break;
            }
            tokens.push(next);
        }
        let generated = tokens[prompt_len..].to_vec();
        let text = self
            .tokenizer
            .decode(&generated, true)
            .map_err(|e| Error::Tokenizer(format!("whisper decode: {e}")))?
            .trim()
            .to_string();
        let nothing_heard = text.is_empty() || (no_speech_prob > NO_SPEECH_THRESHOLD && generated.len() <= 2);
        Ok(Transcript {
            text: if nothing_heard { String::new() } else { text },
            tokens: generated,
            audio_seconds,
            no_speech_prob,
            nothing_heard,
        })
    }
}

fn f32_array(file: &GgufFile, key: &str) -> Result<Vec<f32>> {
    use candle_core::quantized::gguf_file::Value;
    match file.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.to_f32().map_err(|_| Error::Metadata { key: key.into(), problem: "expected f32 values".into() }))
            .collect(),
        Some(_) => Err(Error::Metadata { key: key.into(), problem: "expected an array of f32".into() }),
        None => Err(Error::Metadata { key: key.into(), problem: "missing".into() }),
    }
}
