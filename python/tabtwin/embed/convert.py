"""all-MiniLM-L6-v2 (a sentence-transformers BERT checkpoint folder) -> one GGUF: the file the core
reads in the browser (questions) and in the site build (passages, through `tabtwin.host`), so both
embed with the same weights and the same code.

The GGUF is a contract with the Rust core; what it holds, exactly:

  general.architecture "bert", general.name "all-MiniLM-L6-v2", general.license "apache-2.0" (strings)
  bert.block_count 6, bert.embedding_length 384, bert.feed_forward_length 1536,
  bert.attention.head_count 12, bert.context_length 512 (u32), bert.attention.layer_norm_epsilon
  1e-12 (f32), bert.pooling_type 1 (u32: mean)
  tabtwin.embedder.max_tokens 256 (u32: sentence-transformers' max_seq_length, [CLS]/[SEP] included),
  tabtwin.embedder.lowercase true (bool)
  tokenizer.ggml.model "bert" (string), tokenizer.ggml.tokens (string array: vocab.txt in id order),
  tokenizer.ggml.cls_token_id 101, tokenizer.ggml.seperator_token_id 102 (gguf-py's spelling),
  tokenizer.ggml.unknown_token_id 100, tokenizer.ggml.padding_token_id 0 (u32)

and the tensors under llama.cpp's BERT names, each matrix given to the writer in Hugging Face's
[out, in] layout (numpy shape [rows, cols], as gguf.convert passes a decoder's Linear weights):

  token_embd.weight [30522, 384] (Q8_0 by default), position_embd.weight [512, 384] (F32),
  token_types.weight [2, 384] (F32), token_embd_norm.weight/.bias [384];
  per layer i: blk.i.attn_q / attn_k / attn_v / attn_output .weight [384, 384] (Q8_0) + .bias [384],
  blk.i.attn_output_norm.weight/.bias [384], blk.i.ffn_up.weight [1536, 384] + .bias [1536],
  blk.i.ffn_down.weight [384, 1536] + .bias [384], blk.i.layer_output_norm.weight/.bias [384].

Vectors are F32 always; `quantization` ("q8_0", "f16", "f32") chooses how token_embd and the
layers' matrices are stored. The checkpoint's pooler and position_ids are not stored (mean pooling
uses neither). numpy + gguf-py only: the safetensors file is read by hand (F32 tensors), so this
runs on the site build path.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, PoolingType
from gguf.quants import quantize

from tabtwin import keys
from tabtwin.errors import TabtwinError
from tabtwin.gguf.store import gguf_writer

ARCH = "bert"
NAME = "all-MiniLM-L6-v2"
LICENSE = "apache-2.0"
MAX_TOKENS = 256
# tabtwin's own keys in the embedder GGUF (the standard ones come from gguf-py's writer methods).
MAX_TOKENS_KEY = keys.EMBEDDER_MAX_TOKENS
LOWERCASE_KEY = keys.EMBEDDER_LOWERCASE
CLS_ID_KEY = "tokenizer.ggml.cls_token_id"  # gguf-py has no writer method for it (llama.cpp dropped it)
QUANTIZATIONS = ("q8_0", "f16", "f32")

# The configuration this contract describes; another checkpoint is refused rather than half-read.
EXPECTED_CONFIG = {
    "model_type": "bert",
    "num_hidden_layers": 6,
    "hidden_size": 384,
    "intermediate_size": 1536,
    "num_attention_heads": 12,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "vocab_size": 30522,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-12,
    "position_embedding_type": "absolute",
}
SPECIAL_IDS = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102}

TOP_NAMES = {
    "embeddings.word_embeddings.weight": "token_embd.weight",
    "embeddings.position_embeddings.weight": "position_embd.weight",
    "embeddings.token_type_embeddings.weight": "token_types.weight",
    "embeddings.LayerNorm.weight": "token_embd_norm.weight",
    "embeddings.LayerNorm.bias": "token_embd_norm.bias",
}
LAYER_NAMES = {
    "attention.self.query": "attn_q",
    "attention.self.key": "attn_k",
    "attention.self.value": "attn_v",
    "attention.output.dense": "attn_output",
    "attention.output.LayerNorm": "attn_output_norm",
    "intermediate.dense": "ffn_up",
    "output.dense": "ffn_down",
    "output.LayerNorm": "layer_output_norm",
}
NOT_STORED = ("embeddings.position_ids", "pooler.")
# The matrices `quantization` applies to; every other tensor is F32.
QUANTIZED = ("token_embd.weight", ".attn_q.weight", ".attn_k.weight", ".attn_v.weight", ".attn_output.weight")
QUANTIZED += (".ffn_up.weight", ".ffn_down.weight")


def gguf_name(hf_name: str) -> str | None:
    """llama.cpp's name for a BertModel tensor (None: not stored)."""
    hf_name = hf_name.removeprefix("bert.")
    if hf_name.startswith(NOT_STORED):
        return None
    if hf_name in TOP_NAMES:
        return TOP_NAMES[hf_name]
    if hf_name.startswith("encoder.layer."):
        index, rest = hf_name.removeprefix("encoder.layer.").split(".", 1)
        module, _, kind = rest.rpartition(".")
        if module in LAYER_NAMES and kind in ("weight", "bias"):
            return f"blk.{int(index)}.{LAYER_NAMES[module]}.{kind}"
    raise TabtwinError(f"no GGUF name for tensor '{hf_name}' (not a BertModel of the expected shape)")


def read_safetensors(path: Path | str) -> dict[str, np.ndarray]:
    """F32 tensors of a .safetensors file by name (other dtypes are skipped), read with numpy."""
    path = Path(path)
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        array = np.frombuffer(data, dtype="<f4", count=(end - begin) // 4, offset=base + begin)
        if array.size != int(np.prod(shape)):
            raise TabtwinError(f"{path}: tensor {name} holds {array.size} values, not {shape}")
        tensors[name] = array.reshape(shape)
    return tensors


def stored(name: str, weights: np.ndarray, quantization: str) -> tuple[np.ndarray, GGMLQuantizationType | None]:
    """(data, raw_dtype) for one tensor as the contract stores it."""
    if quantization == "f32" or not name.endswith(QUANTIZED):
        return np.ascontiguousarray(weights, dtype=np.float32), None
    if quantization == "f16":
        return weights.astype(np.float16), None
    return quantize(np.ascontiguousarray(weights, dtype=np.float32), GGMLQuantizationType.Q8_0), (
        GGMLQuantizationType.Q8_0
    )


def _check_config(config: dict, folder: Path) -> None:
    wrong = {k: (config.get(k), v) for k, v in EXPECTED_CONFIG.items() if config.get(k) != v}
    if wrong:
        raise TabtwinError(f"{folder}/config.json: not all-MiniLM-L6-v2's shape: {wrong} (found, expected)")


def read_vocab(folder: Path) -> list[str]:
    tokens = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    if len(tokens) != EXPECTED_CONFIG["vocab_size"]:
        raise TabtwinError(f"{folder}/vocab.txt: {len(tokens)} tokens, expected {EXPECTED_CONFIG['vocab_size']}")
    for token, expected in SPECIAL_IDS.items():
        if tokens[expected] != token:
            raise TabtwinError(f"{folder}/vocab.txt: {token} is not id {expected}")
    return tokens


def convert(src: Path | str, out: Path | str, quantization: str = "q8_0", log=print) -> Path:
    """Write `out` from the checkpoint folder `src` (config.json, vocab.txt, model.safetensors)."""
    src, out = Path(src), Path(out)
    if quantization not in QUANTIZATIONS:
        raise TabtwinError(f"unknown quantization {quantization!r}; use {', '.join(QUANTIZATIONS)}")
    config = json.loads((src / "config.json").read_text())
    _check_config(config, src)
    tokens = read_vocab(src)
    lowercase = json.loads((src / "tokenizer_config.json").read_text()).get("do_lower_case", True)
    if not lowercase:
        raise TabtwinError(f"{src}: an uncased tokenizer was expected (do_lower_case true)")
    state = read_safetensors(src / "model.safetensors")
    tensors = {}
    for hf_name, weights in state.items():
        name = gguf_name(hf_name)
        if name is not None:
            tensors[name] = weights
    expected = len(TOP_NAMES) + 16 * config["num_hidden_layers"]
    if len(tensors) != expected:
        raise TabtwinError(f"{src}/model.safetensors: {len(tensors)} BertModel tensors, expected {expected}")

    log(f"embedder: writing {out.name} ({quantization})")
    with gguf_writer(out, ARCH) as writer:
        writer.add_name(NAME)
        writer.add_license(LICENSE)
        writer.add_block_count(config["num_hidden_layers"])
        writer.add_embedding_length(config["hidden_size"])
        writer.add_feed_forward_length(config["intermediate_size"])
        writer.add_head_count(config["num_attention_heads"])
        writer.add_context_length(config["max_position_embeddings"])
        writer.add_layer_norm_eps(config["layer_norm_eps"])
        writer.add_pooling_type(PoolingType.MEAN)
        writer.add_uint32(MAX_TOKENS_KEY, MAX_TOKENS)
        writer.add_bool(LOWERCASE_KEY, True)
        writer.add_tokenizer_model("bert")
        writer.add_token_list(tokens)
        writer.add_uint32(CLS_ID_KEY, SPECIAL_IDS["[CLS]"])
        writer.add_sep_token_id(SPECIAL_IDS["[SEP]"])
        writer.add_unk_token_id(SPECIAL_IDS["[UNK]"])
        writer.add_pad_token_id(SPECIAL_IDS["[PAD]"])
        for name in sorted(tensors, key=_tensor_order):
            data, raw = stored(name, tensors[name], quantization)
            writer.add_tensor(name, data, raw_dtype=raw)
    log(f"embedder: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return out


def _tensor_order(name: str) -> tuple[int, str]:
    """Embeddings first, then the layers in order (the order llama.cpp's converter writes)."""
    if name.startswith("blk."):
        _, index, rest = name.split(".", 2)
        return 1 + int(index), rest
    return 0, name
