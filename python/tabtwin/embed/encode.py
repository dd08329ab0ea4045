"""The sentence embedder in numpy: all-MiniLM-L6-v2 read from the embedder GGUF
(`tabtwin.embed.convert`), computing what sentence-transformers computes: BERT over
[CLS] pieces [SEP] (at most `tabtwin.embedder.max_tokens` ids), the mean of the last hidden states,
L2-normalized. The site build embeds its passages with this; the browser core embeds questions from
the same file.

numpy + gguf-py only (the site build path): no torch, no native code of ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFValueType
from gguf.quants import dequantize

from tabtwin.embed.convert import ARCH, CLS_ID_KEY, LOWERCASE_KEY, MAX_TOKENS_KEY
from tabtwin.embed.tokenizer import WordPieceTokenizer
from tabtwin.errors import TabtwinError

# Abramowitz & Stegun 7.1.26: erf(x) = 1 - t (a1 + t (a2 + ... + t a5)) exp(-x^2), t = 1 / (1 + p x),
# for x >= 0; absolute error below 1.5e-7 (the test measures it against math.erf).
_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    t = 1.0 / (1.0 + _P * a)
    poly = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4]))))
    y = 1.0 - poly * np.exp(-a * a)
    return np.copysign(y, x)


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU: x * (1 + erf(x / sqrt 2)) / 2."""
    return 0.5 * x * (1.0 + erf(x * np.float32(1 / np.sqrt(2))))


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(-1, keepdims=True)
    return centered / np.sqrt(var + np.float32(eps)) * weight + bias


def _field(reader: GGUFReader, key: str):
    f = reader.fields.get(key)
    if f is None:
        raise TabtwinError(f"embedder GGUF: no {key}")
    return f.contents()


class Embedder:
    """`Embedder.from_gguf(path).embed(texts)` -> float32 [n, 384], unit rows."""

    def __init__(self, tensors: dict[str, np.ndarray], tokenizer: WordPieceTokenizer, config: dict):
        self.t = tensors
        self.tokenizer = tokenizer
        self.layers = config["block_count"]
        self.heads = config["head_count"]
        self.hidden = config["embedding_length"]
        self.eps = config["layer_norm_epsilon"]
        self.head_size = self.hidden // self.heads

    @classmethod
    def from_gguf(cls, path: Path | str) -> Embedder:
        path = Path(path)
        reader = GGUFReader(path)
        arch = _field(reader, "general.architecture")
        if arch != ARCH:
            raise TabtwinError(f"{path}: a {arch!r} GGUF, not the embedder ({ARCH!r})")
        config = {
            "block_count": int(_field(reader, f"{ARCH}.block_count")),
            "embedding_length": int(_field(reader, f"{ARCH}.embedding_length")),
            "head_count": int(_field(reader, f"{ARCH}.attention.head_count")),
            "context_length": int(_field(reader, f"{ARCH}.context_length")),
            "layer_norm_epsilon": float(_field(reader, f"{ARCH}.attention.layer_norm_epsilon")),
        }
        pooling = int(_field(reader, f"{ARCH}.pooling_type"))
        if pooling != 1:
            raise TabtwinError(f"{path}: pooling type {pooling}; the embedder pools by mean (1)")
        tokens_field = reader.fields["tokenizer.ggml.tokens"]
        if tokens_field.types != [GGUFValueType.ARRAY, GGUFValueType.STRING]:
            raise TabtwinError(f"{path}: tokenizer.ggml.tokens is not a string array")
        max_tokens = int(_field(reader, MAX_TOKENS_KEY))
        tokenizer = WordPieceTokenizer(
            tokens_field.contents(),
            cls_id=int(_field(reader, CLS_ID_KEY)),
            sep_id=int(_field(reader, "tokenizer.ggml.seperator_token_id")),
            unk_id=int(_field(reader, "tokenizer.ggml.unknown_token_id")),
            lowercase=bool(_field(reader, LOWERCASE_KEY)),
            max_tokens=min(max_tokens, config["context_length"]),
        )
        tensors = {}
        for t in reader.tensors:
            tensors[t.name] = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32)
        return cls(tensors, tokenizer, config)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.t[f"{name}.weight"].T + self.t[f"{name}.bias"]

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return layer_norm(x, self.t[f"{name}.weight"], self.t[f"{name}.bias"], self.eps)

    def hidden_states(self, ids: Sequence[int]) -> np.ndarray:
        """The last layer's hidden states [len(ids), hidden] of one sequence of token ids."""
        t = self.t
        n = len(ids)
        x = t["token_embd.weight"][np.asarray(ids)] + t["position_embd.weight"][:n] + t["token_types.weight"][0]
        x = self._norm(x, "token_embd_norm")
        scale = np.float32(1.0 / np.sqrt(self.head_size))
        for i in range(self.layers):
            b = f"blk.{i}"

            def heads(y: np.ndarray) -> np.ndarray:
                return y.reshape(n, self.heads, self.head_size).transpose(1, 0, 2)

            q = heads(self._linear(x, f"{b}.attn_q"))
            k = heads(self._linear(x, f"{b}.attn_k"))
            v = heads(self._linear(x, f"{b}.attn_v"))
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, self.hidden)
            x = self._norm(x + self._linear(context, f"{b}.attn_output"), f"{b}.attn_output_norm")
            up = gelu(self._linear(x, f"{b}.ffn_up"))
            x = self._norm(x + self._linear(up, f"{b}.ffn_down"), f"{b}.layer_output_norm")
        return x

    def embed_ids(self, ids: Sequence[int]) -> np.ndarray:
        pooled = self.hidden_states(ids).mean(0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length sentence embeddings, float32 [len(texts), hidden], one text at a time (each
        text's embedding is the same whatever else is embedded with it)."""
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self.embed_ids(self.tokenizer.encode(text))
        return out
