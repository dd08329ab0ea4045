"""Tiny random transformers configs (2 layers, width 64) shared by the exactness and fine-tune tests."""

from __future__ import annotations

TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
ROPE_THETA = {"llama": 10000.0, "qwen2": 1000000.0}


def tiny_config(arch: str, vocab_size: int, **overrides):
    """A LlamaConfig or Qwen2Config of the tiny shape (llama ties its head, qwen2 does not, as the
    default models do); `overrides` sets anything else (context, eps, init range...)."""
    from transformers import LlamaConfig, Qwen2Config

    settings = dict(TINY, vocab_size=vocab_size, rope_theta=ROPE_THETA[arch], tie_word_embeddings=arch == "llama")
    settings.update(overrides)
    return (LlamaConfig if arch == "llama" else Qwen2Config)(**settings)
