//! The sentence-embedding model that finds a passage by meaning ("ur hometown?" meets "I was
//! born in Uppsala"): all-MiniLM-L6-v2, a 6-layer BERT, from the GGUF `tabtwin.embed` writes
//! (general.architecture = "bert"). Its matrices are read in place by the same kernels as the
//! chat models; the site build embeds the passages with this same code, run by wasmtime
//! (wasm/host), on the same file.

use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{AddedToken, Tokenizer};

use crate::error::{Error, Result};
use crate::gguf::{self, GgufFile};
use crate::keys;
use crate::models::blocks::activations::Input;
use crate::models::blocks::matrix::{Linear, Matrix};
use crate::models::blocks::norm::layer_norm_rows;
use crate::models::blocks::tensors::Tensors;

/// `general.architecture` of the embedder GGUF.
pub const ARCH: &str = "bert";
const SPECIAL_TOKENS: &[&str] = &["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    output_norm: Norm,
}

pub struct Embedder {
    tokenizer: Tokenizer,
    cls: u32,
    sep: u32,
    max_tokens: usize,
    words: Matrix,
    positions: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    eps: f32,
}

impl Embedder {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let file = GgufFile::parse(bytes)?;
        let arch = file.string(gguf::ARCHITECTURE)?;
        if arch != ARCH {
            return Err(Error::Invalid(format!(
                "the embedding model must be a '{ARCH}' GGUF (tabtwin's all-MiniLM-L6-v2), not '{arch}'"
            )));
        }
        let key = |k: &str| format!("{ARCH}.{k}");
        let hidden = file.u32(&key("embedding_length"))? as usize;
        let ffn = file.u32(&key("feed_forward_length"))? as usize;
        let heads = file.u32(&key("attention.head_count"))? as usize;
        let blocks = file.u32(&key("block_count"))? as usize;
        let positions_max = file.u32(&key("context_length"))? as usize;
        let eps = file.opt_f32(&key("attention.layer_norm_epsilon"))?.unwrap_or(1e-12);
        if heads == 0 || !hidden.is_multiple_of(heads) {
            return Err(Error::BadGguf(format!("{hidden} hidden units do not split into {heads} heads")));
        }
        let max_tokens =
            (file.opt_u32(keys::EMBEDDER_MAX_TOKENS)?.unwrap_or(positions_max as u32) as usize).min(positions_max);
        let lowercase =
            matches!(file.get(keys::EMBEDDER_LOWERCASE), Some(candle_core::quantized::gguf_file::Value::Bool(true)));
        let tokens = file.strings(gguf::TOKENS)?;
        let id = |k: &str| file.u32(k);
        let (cls, sep, unk) = (
            id("tokenizer.ggml.cls_token_id")?,
            id("tokenizer.ggml.seperator_token_id")?,
            id("tokenizer.ggml.unknown_token_id")?,
        );
        let unk_token = tokens
            .get(unk as usize)
            .ok_or_else(|| Error::Tokenizer(format!("unknown_token_id {unk} is outside the vocabulary")))?;
        let vocab: tokenizers::models::bpe::Vocab =
            tokens.iter().enumerate().map(|(i, t)| (t.to_string(), i as u32)).collect();
        let wordpiece = WordPiece::builder()
            .vocab(vocab)
            .unk_token(unk_token.to_string())
            .continuing_subword_prefix("##".into())
            .max_input_chars_per_word(100)
            .build()
            .map_err(|e| Error::Tokenizer(format!("building WordPiece: {e}")))?;
        let mut tokenizer = Tokenizer::new(wordpiece);
        tokenizer.with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)));
        tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
        // "[CLS]", "[MASK]"... typed in a text are those tokens, as in the original tokenizer.json.
        let specials: Vec<AddedToken> = tokens
            .iter()
            .filter(|t| SPECIAL_TOKENS.contains(t))
            .map(|t| AddedToken::from(t.to_string(), true))
            .collect();
        tokenizer.add_special_tokens(&specials);
        let vocab_size = tokens.len();

        let t = Tensors::new(file);
        let linear = |name: &str, rows: usize, cols: usize| -> Result<Linear> {
            Ok(Linear {
                weight: t.matrix(&format!("{name}.weight"), rows, cols)?,
                bias: Some(t.vector(&format!("{name}.bias"), rows)?),
            })
        };
        let norm = |name: &str| -> Result<Norm> {
            Ok(Norm {
                weight: t.vector(&format!("{name}.weight"), hidden)?,
                bias: t.vector(&format!("{name}.bias"), hidden)?,
            })
        };
        let table = |name: &str, rows: usize| -> Result<Vec<f32>> {
            let m = t.matrix(name, rows, hidden)?;
            let mut out = vec![0f32; rows * hidden];
            for (r, row) in out.chunks_exact_mut(hidden).enumerate() {
                m.row_f32(r, row);
            }
            Ok(out)
        };
        let layers = (0..blocks)
            .map(|i| {
                let b = |n: &str| format!("blk.{i}.{n}");
                Ok(Layer {
                    q: linear(&b("attn_q"), hidden, hidden)?,
                    k: linear(&b("attn_k"), hidden, hidden)?,
                    v: linear(&b("attn_v"), hidden, hidden)?,
                    o: linear(&b("attn_output"), hidden, hidden)?,
                    attention_norm: norm(&b("attn_output_norm"))?,
                    up: linear(&b("ffn_up"), ffn, hidden)?,
                    down: linear(&b("ffn_down"), hidden, ffn)?,
                    output_norm: norm(&b("layer_output_norm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            tokenizer,
            cls,
            sep,
            max_tokens,
            words: t.matrix("token_embd.weight", vocab_size, hidden)?,
            positions: table("position_embd.weight", positions_max)?,
            token_type: table("token_types.weight", t.rows("token_types.weight")?)?[..hidden].to_vec(),
            embedding_norm: norm("token_embd_norm")?,
            layers,
            hidden,
            heads,
            eps,
        })
    }

    pub fn dim(&self) -> usize {
        self.hidden
    }

    /// [CLS] word pieces [SEP], cut to the model's input length.
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.tokenizer.encode(text, false).map_err(|e| Error::Tokenizer(format!("encode: {e}")))?;
        let mut ids = vec![self.cls];
        ids.extend(enc.get_ids().iter().take(self.max_tokens - 2));
        ids.push(self.sep);
        Ok(ids)
    }

    /// The unit-length mean of the last layer's token states.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>> {
        let ids = self.tokenize(text)?;
        let (n, h) = (ids.len(), self.hidden);
        let mut x = vec![0f32; n * h];
        for (i, (row, &id)) in x.chunks_exact_mut(h).zip(&ids).enumerate() {
            self.words.row_f32(id as usize, row);
            for ((v, p), t) in row.iter_mut().zip(&self.positions[i * h..(i + 1) * h]).zip(&self.token_type) {
                *v += p + t;
            }
        }
        layer_norm_rows(&mut x, &self.embedding_norm.weight, &self.embedding_norm.bias, self.eps);
        for layer in &self.layers {
            let input = Input::new(&x, h);
            let attended = self.attention(layer, &input, n);
            let mut out = layer.o.forward(&Input::new(&attended, h));
            add(&mut out, &x);
            layer_norm_rows(&mut out, &layer.attention_norm.weight, &layer.attention_norm.bias, self.eps);
            x = out;
            let mut up = layer.up.forward(&Input::new(&x, h));
            up.iter_mut().for_each(|v| *v = gelu(*v));
            let mut down = layer.down.forward(&Input::new(&up, up.len() / n));
            add(&mut down, &x);
            layer_norm_rows(&mut down, &layer.output_norm.weight, &layer.output_norm.bias, self.eps);
            x = down;
        }
        let mut pooled = vec![0f32; h];
        for row in x.chunks_exact(h) {
            add(&mut pooled, row);
        }
        let norm = libm::sqrtf(pooled.iter().map(|v| v * v).sum::<f32>()).max(1e-12);
        pooled.iter_mut().for_each(|v| *v /= norm);
        Ok(pooled)
    }

    /// Bidirectional self-attention over all `n` tokens, every head.
    fn attention(&self, layer: &Layer, input: &Input, n: usize) -> Vec<f32> {
        let (q, k, v) = (layer.q.forward(input), layer.k.forward(input), layer.v.forward(input));
        let h = self.hidden;
        let d = h / self.heads;
        let scale = 1.0 / libm::sqrtf(d as f32);
        let mut out = vec![0f32; n * h];
        let mut scores = vec![0f32; n];
        for head in 0..self.heads {
            let at = |t: usize| -> std::ops::Range<usize> { t * h + head * d..t * h + (head + 1) * d };
            for i in 0..n {
                let qi = &q[at(i)];
                for (j, s) in scores.iter_mut().enumerate() {
                    *s = qi.iter().zip(&k[at(j)]).map(|(a, b)| a * b).sum::<f32>() * scale;
                }
                let most = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut total = 0.0;
                for s in scores.iter_mut() {
                    *s = libm::expf(*s - most);
                    total += *s;
                }
                let range = at(i);
                for (j, s) in scores.iter().enumerate() {
                    let weight = s / total;
                    for (o, vj) in out[range.clone()].iter_mut().zip(&v[at(j)]) {
                        *o += weight * vj;
                    }
                }
            }
        }
        out
    }
}

fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// BERT's GELU, the exact (erf) form.
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2))
}
