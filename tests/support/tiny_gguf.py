"""A tiny llama GGUF written with gguf-py alone (no torch, no download): a byte-level BPE vocabulary
of the 256 bytes plus ChatML's special tokens, a ChatML template, 2 layers of width 64 with seeded
random weights. The native core loads it and chats (nonsense, deterministically), so the fast tier
can test the site build, the registry, the CLI and the engine's plumbing without a real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter, TokenType

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
MERGES = ("H e", "l l", "Ġ t", "h e")  # a few, so the BPE has merges to apply (and the key is written)


def byte_tokens() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes (the byte-level BPE alphabet)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    shown, extra = {}, 0
    for b in range(256):
        if b in keep:
            shown[b] = chr(b)
        else:
            shown[b] = chr(256 + extra)
            extra += 1
    return [shown[b] for b in range(256)]


def write_tiny_llama(
    path: Path,
    seed: int = 0,
    metadata: dict[str, str | int] | None = None,
    hidden: int = 64,
    layers: int = 2,
    token_types: list[int] | None = None,
    context_length: int = 256,
) -> Path:
    """Write the model; `hidden` and `layers` make a bigger one (4 MB at 256 x 4) for sharding tests.
    `metadata` values are written as strings, or as u32 when ints (a mistyped key for bad-input tests);
    `token_types` replaces the per-token types (bad-input tests give a list of the wrong length);
    `context_length` is what the header says (long-context tests give more than 4096)."""
    rng = np.random.default_rng(seed)
    merged = [m.replace(" ", "") for m in MERGES]
    tokens = list(SPECIALS) + byte_tokens() + merged
    vocab, ffn, heads, kv_heads = len(tokens), 2 * hidden, 4, 2
    head_dim = hidden // heads
    writer = GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_context_length(context_length)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(
        token_types
        if token_types is not None
        else [TokenType.CONTROL] * len(SPECIALS) + [TokenType.NORMAL] * (256 + len(merged))
    )
    writer.add_token_merges(list(MERGES))
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_chat_template(CHATML)
    for key, value in (metadata or {}).items():
        if isinstance(value, int):
            writer.add_uint32(key, value)
        else:
            writer.add_string(key, value)

    def matrix(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * 0.08).astype(np.float32)

    writer.add_tensor("token_embd.weight", matrix(vocab, hidden))
    writer.add_tensor("output_norm.weight", np.ones(hidden, dtype=np.float32))
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", matrix(hidden, hidden))
        writer.add_tensor(f"blk.{i}.attn_k.weight", matrix(kv_heads * head_dim, hidden))
        writer.add_tensor(f"blk.{i}.attn_v.weight", matrix(kv_heads * head_dim, hidden))
        writer.add_tensor(f"blk.{i}.attn_output.weight", matrix(hidden, hidden))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", matrix(ffn, hidden))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", matrix(ffn, hidden))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", matrix(hidden, ffn))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
