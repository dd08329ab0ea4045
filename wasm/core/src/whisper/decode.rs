//! Loading a tabtwin Whisper GGUF and transcribing 16 kHz mono audio: greedy,
//! English, no timestamps, the config's suppressed tokens, a length guard. The
//! network is the core's own (`encoder.rs`, `decoder.rs`) over the chat models'
//! kernels, on an encoder window fitted to the clip (`window.rs`).

use serde::{Deserialize, Serialize};

use super::decoder::Decoder;
use super::encoder::Encoder;
use super::mel::MelExtractor;
use super::window::{TranscribeOptions, Window, POSITIONS_PER_SECOND};
use crate::error::{Error, Result};
use crate::gguf::{self, GgufFile};
use crate::keys::{MIN_CLIP_SECONDS, SAMPLE_RATE, WHISPER_CONFIG, WHISPER_MEL_FILTERS, WHISPER_TOKENIZER_JSON};
use crate::models::blocks::tensors::Tensors;
/// Above this probability of the no-speech token, the clip is "nothing heard".
const NO_SPEECH_THRESHOLD: f32 = 0.6;

/// The network's sizes, from the file's config (Hugging Face names).
#[derive(Debug, Clone, Deserialize)]
pub struct ModelConfig {
    pub num_mel_bins: usize,
    pub max_source_positions: usize,
    pub d_model: usize,
    pub encoder_attention_heads: usize,
    pub encoder_layers: usize,
    pub vocab_size: usize,
    pub max_target_positions: usize,
    pub decoder_attention_heads: usize,
    pub decoder_layers: usize,
    #[serde(default)]
    pub encoder_ffn_dim: Option<usize>,
    #[serde(default)]
    pub decoder_ffn_dim: Option<usize>,
    #[serde(default)]
    pub suppress_tokens: Vec<u32>,
}

impl ModelConfig {
    /// Every Whisper size has a feed-forward 4x its width; a config may say otherwise.
    pub fn encoder_ffn_dim(&self) -> usize {
        self.encoder_ffn_dim.unwrap_or(4 * self.d_model)
    }

    pub fn decoder_ffn_dim(&self) -> usize {
        self.decoder_ffn_dim.unwrap_or(4 * self.d_model)
    }
}

#[derive(Deserialize)]
struct FileConfig {
    #[serde(flatten)]
    model: ModelConfig,
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
    /// The encoder window the clip was heard in (the clip plus silence).
    pub window_seconds: f32,
}

pub struct Transcriber {
    encoder: Encoder,
    decoder: Decoder,
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
        let tensors = Tensors::new(file);
        let encoder = Encoder::load(&tensors, &config.model)?;
        let decoder = Decoder::load(&tensors, &config.model)?;
        Ok(Self { encoder, decoder, mel, tokenizer, config, no_speech_token })
    }

    /// Features for `pcm` over the full 30 s window (exposed so tests can compare them with a reference).
    pub fn log_mel(&self, pcm: &[f32]) -> Vec<f32> {
        self.mel.compute(pcm)
    }

    /// Transcribe up to 30 s of 16 kHz mono samples in [-1, 1] with the default options.
    pub fn transcribe(&mut self, pcm: &[f32]) -> Result<Transcript> {
        self.transcribe_with(pcm, &TranscribeOptions::default())
    }

    pub fn transcribe_with(&mut self, pcm: &[f32], options: &TranscribeOptions) -> Result<Transcript> {
        let audio_seconds = pcm.len() as f32 / SAMPLE_RATE as f32;
        if audio_seconds < MIN_CLIP_SECONDS {
            return Err(Error::Invalid(format!(
                "audio too short: {audio_seconds:.2} s (hold the button while you speak, at least {MIN_CLIP_SECONDS} s)"
            )));
        }
        let full = self.encoder.max_positions();
        let positions = options.window.positions(pcm.len(), full)?;
        // Only the fitted window falls back; a window the caller named is the one they get.
        let guard = options.window == Window::Fitted && positions < full;
        let mut decoded = self.decode(pcm, positions, guard)?;
        if decoded.ran_away {
            // A short window can leave the decoder without the long silence it expects after
            // speech, and it repeats itself instead of ending: hear the clip in the full window.
            decoded = self.decode(pcm, full, false)?;
        }
        let Decoded { tokens: generated, no_speech_prob, positions, .. } = decoded;
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
            window_seconds: positions as f32 / POSITIONS_PER_SECOND as f32,
        })
    }
}

struct Decoded {
    tokens: Vec<u32>,
    no_speech_prob: f32,
    positions: usize,
    /// The tokens ended in a loop (see `runs_away`) and decoding stopped there.
    ran_away: bool,
}

impl Transcriber {
    /// Greedy decoding of `pcm` heard in an encoder window of `positions`; with `guard`,
    /// decoding stops as soon as the tokens loop (`ran_away`).
    fn decode(&self, pcm: &[f32], positions: usize, guard: bool) -> Result<Decoded> {
        let frames = 2 * positions;
        let audio_features = self.encoder.forward(&self.mel.compute_frames(pcm, frames), frames);
        let mut cache = self.decoder.start(&audio_features);
        let cfg = &self.config;
        // The no-speech probability is read at the start-of-transcript position.
        let sot = self.decoder.step(&mut cache, cfg.decoder_start_token_id)?;
        let no_speech_prob = match self.no_speech_token {
            Some(id) => softmax_at(&self.decoder.logits(&sot), id as usize),
            None => 0.0,
        };
        let mut hidden = self.decoder.step(&mut cache, cfg.no_timestamps_token_id)?;
        let max_len = cfg.model.max_target_positions / 2;
        let mut tokens = Vec::new();
        for step in 0..max_len {
            let mut logits = self.decoder.logits(&hidden);
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
            if guard && runs_away(&tokens) {
                return Ok(Decoded { tokens, no_speech_prob, positions, ran_away: true });
            }
            if step + 1 < max_len {
                hidden = self.decoder.step(&mut cache, next)?;
            }
        }
        Ok(Decoded { tokens, no_speech_prob, positions, ran_away: false })
    }
}

/// The same run of tokens said `LOOP_REPEATS` times in a row at the end (a run of up to
/// `LOOP_LONGEST` tokens: "Thank you. Thank you. Thank you. Thank you."). Speech that
/// repeats a phrase four times over is rare; a decoder stuck in a loop does it every time.
fn runs_away(tokens: &[u32]) -> bool {
    const LOOP_REPEATS: usize = 4;
    const LOOP_LONGEST: usize = 16;
    let len = tokens.len();
    (1..=LOOP_LONGEST.min(len / LOOP_REPEATS)).any(|n| {
        let last = &tokens[len - n..];
        (2..=LOOP_REPEATS).all(|r| &tokens[len - r * n..len - (r - 1) * n] == last)
    })
}

/// softmax(logits)[index], computed stably.
fn softmax_at(logits: &[f32], index: usize) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|l| libm::expf(l - max)).sum();
    libm::expf(logits[index] - max) / sum
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

#[cfg(test)]
mod tests {
    use super::runs_away;

    #[test]
    fn a_phrase_said_four_times_over_is_a_loop_and_three_times_is_not() {
        let phrase = [1, 2, 3];
        let said = |times: usize| -> Vec<u32> {
            [9, 8].iter().chain(phrase.iter().cycle().take(3 * times)).copied().collect()
        };
        assert!(!runs_away(&said(3)));
        assert!(runs_away(&said(4)));
        assert!(runs_away(&[5, 5, 5, 5]));
        assert!(!runs_away(&[5, 5, 5]));
        assert!(!runs_away(&[1, 2, 3, 4, 5, 6, 7, 8]));
    }
}
