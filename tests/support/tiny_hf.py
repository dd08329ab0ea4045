"""Tiny random transformers configs (2 layers, width 64) shared by the exactness and fine-tune tests."""

from __future__ import annotations

TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
ROPE_THETA = {"llama": 10000.0, "qwen2": 1000000.0, "qwen3": 1000000.0}
# qwen3 gets a head size unlike hidden / heads (as the real ones have) and a tied head.
EXTRA = {"qwen3": dict(head_dim=32)}


def tiny_config(arch: str, vocab_size: int, **overrides):
    """A Llama/Qwen2/Qwen3 config of the tiny shape (llama and qwen3 tie their head, qwen2 does
    not, as the real models do); `overrides` sets anything else (context, eps, init range...)."""
    from transformers import LlamaConfig, Qwen2Config, Qwen3Config

    config_class = {"llama": LlamaConfig, "qwen2": Qwen2Config, "qwen3": Qwen3Config}[arch]
    settings = dict(TINY, vocab_size=vocab_size, rope_theta=ROPE_THETA[arch], tie_word_embeddings=arch != "qwen2")
    settings.update(EXTRA.get(arch, {}))
    settings.update(overrides)
    return config_class(**settings)
