"""Hugging Face weights (numpy arrays) -> a GGUF the core and llama.cpp both read.

Used by `tabtwin export` for merged twins and by the tests for tiny random
models. Tensor names follow llama.cpp; the llama architecture needs llama.cpp's
q/k row permutation (its RoPE pairs interleaved rows, HF's pairs halves), qwen2
does not (NEOX RoPE), nor does qwen3 (NEOX, plus per-head q/k norms and a head size
of its own), nor gemma3 (NEOX; its norms are stored with Gemma's 1 added, as llama.cpp's
converter stores them, and four of them per layer; its sliding window in the header).
The tokenizer and chat template are copied from a GGUF of the same base model, so the
result is self-describing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import LlamaFileType

from tabtwin.errors import TabtwinError
from tabtwin.gguf.read import open_gguf
from tabtwin.gguf.store import copy_metadata, gguf_writer, store


@dataclass
class DecoderConfig:
    architecture: str  # "llama" | "qwen2" | "qwen3" | "gemma3"
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    context_length: int
    rms_norm_eps: float
    rope_theta: float
    vocab_size: int
    name: str = "tabtwin model"
    head_dim: int | None = None  # when not hidden_size / num_heads (qwen3, gemma3)
    sliding_window: int | None = None  # gemma3: the local layers' window

    @property
    def head_size(self) -> int:
        return self.head_dim or self.hidden_size // self.num_heads

    @classmethod
    def from_hf(cls, config, architecture: str) -> DecoderConfig:
        if architecture == "gemma3":
            check_gemma3(config)
        return cls(
            architecture=architecture,
            hidden_size=config.hidden_size,
            intermediate_size=config.intermediate_size,
            num_layers=config.num_hidden_layers,
            num_heads=config.num_attention_heads,
            num_kv_heads=config.num_key_value_heads,
            context_length=config.max_position_embeddings,
            rms_norm_eps=config.rms_norm_eps,
            rope_theta=global_rope_theta(config),
            vocab_size=config.vocab_size,
            head_dim=getattr(config, "head_dim", None),
            sliding_window=getattr(config, "sliding_window", None) if architecture == "gemma3" else None,
        )


GEMMA3_GLOBAL_EVERY = 6  # llama.cpp's (and the core's) fixed pattern: layers 6, 12, ... are global


def check_gemma3(config) -> None:
    """Refuse a Gemma 3 config the GGUF cannot describe as llama.cpp (and the core) read it."""
    rope = getattr(config, "rope_parameters", None) or {}
    layer_types = getattr(config, "layer_types", None) or []
    want = [
        "full_attention" if (i + 1) % GEMMA3_GLOBAL_EVERY == 0 else "sliding_attention" for i in range(len(layer_types))
    ]
    problems = []
    if layer_types != want:
        problems.append(f"layer_types must put a global layer every {GEMMA3_GLOBAL_EVERY} (got {layer_types})")
    if config.query_pre_attn_scalar != config.head_dim:
        problems.append(f"query_pre_attn_scalar {config.query_pre_attn_scalar} must equal head_dim {config.head_dim}")
    if (rope.get("sliding_attention") or {}).get("rope_theta", 10000.0) != 10000.0:
        problems.append("the local layers' rope_theta must be 10000")
    for name in ("attn_logit_softcapping", "final_logit_softcapping"):
        if getattr(config, name, None) is not None:
            problems.append(f"{name} is not written to the GGUF")
    if problems:
        raise TabtwinError("gemma3: " + "; ".join(problems))


def global_rope_theta(config) -> float:
    rope = getattr(config, "rope_parameters", None) or {}
    rope = rope.get("full_attention", rope)  # gemma3 keeps one table per layer type
    return float(getattr(config, "rope_theta", None) or rope.get("rope_theta", 10000.0))


LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


# gemma3's four norms a layer: its post_attention_layernorm is an output norm, not the MLP's input.
GEMMA3_LAYER_NAMES = {
    **LAYER_NAMES,
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
}


def gguf_name(hf_name: str, architecture: str = "llama") -> str | None:
    names = GEMMA3_LAYER_NAMES if architecture == "gemma3" else LAYER_NAMES
    name = hf_name.removeprefix("model.")
    if name == "embed_tokens.weight":
        return "token_embd.weight"
    if name == "norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    if name.startswith("layers."):
        _, index, rest = name.split(".", 2)
        if rest in names:
            return f"blk.{index}.{names[rest]}"
    return None


def permute_for_llama(weights: np.ndarray, heads: int) -> np.ndarray:
    """HF's rotate-half q/k rows -> llama.cpp's interleaved pairs."""
    out_dim = weights.shape[0]
    rest = weights.shape[1:]
    return weights.reshape(heads, 2, out_dim // heads // 2, *rest).swapaxes(1, 2).reshape(out_dim, *rest)


def write_gguf(
    state: dict[str, np.ndarray],
    config: DecoderConfig,
    tokenizer_from: Path | str,
    out: Path | str,
    qtype: str = "F32",
    extra_metadata: dict[str, str] | None = None,
) -> Path:
    """Write `state` (HF names -> float arrays) as a GGUF with `qtype` matrices (F32, F16 or Q8_0)."""
    out = Path(out)
    arch = config.architecture
    with gguf_writer(out, arch) as writer:
        tokenizer_reader = open_gguf(tokenizer_from)  # a file the core accepts
        copy_metadata(
            tokenizer_reader, writer, skip={k for k in tokenizer_reader.fields if not k.startswith("tokenizer.")}
        )
        writer.add_name(config.name)
        writer.add_context_length(config.context_length)
        writer.add_embedding_length(config.hidden_size)
        writer.add_block_count(config.num_layers)
        writer.add_feed_forward_length(config.intermediate_size)
        writer.add_head_count(config.num_heads)
        writer.add_head_count_kv(config.num_kv_heads)
        writer.add_layer_norm_rms_eps(config.rms_norm_eps)
        writer.add_rope_freq_base(config.rope_theta)
        writer.add_rope_dimension_count(config.head_size)
        if config.head_size != config.hidden_size // config.num_heads:
            writer.add_key_length(config.head_size)
            writer.add_value_length(config.head_size)
        if config.sliding_window is not None:
            writer.add_sliding_window(config.sliding_window)
        writer.add_vocab_size(config.vocab_size)
        file_type = {"F32": LlamaFileType.ALL_F32, "F16": LlamaFileType.MOSTLY_F16, "Q8_0": LlamaFileType.MOSTLY_Q8_0}
        writer.add_file_type(file_type[qtype])
        for key, value in (extra_metadata or {}).items():
            writer.add_string(key, value)

        for hf_name, tensor in state.items():
            name = gguf_name(hf_name, arch)
            if name is None:
                raise TabtwinError(f"no GGUF name for tensor '{hf_name}'")
            weights = np.asarray(tensor, dtype=np.float32)
            if arch == "llama" and name.endswith(("attn_q.weight", "attn_k.weight")):
                heads = config.num_heads if "attn_q" in name else config.num_kv_heads
                weights = permute_for_llama(weights, heads)
            if arch == "gemma3" and name.endswith("norm.weight"):
                weights = weights + np.float32(1.0)  # Gemma's norms scale by (1 + w)
            data, raw = store(name, weights, qtype.lower())
            writer.add_tensor(name, data, raw_dtype=raw)
    return out
