"""Tiny random transformers configs (2 layers, width 64; gemma3 6) shared by the exactness and fine-tune tests."""

from __future__ import annotations

TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
ROPE_THETA = {"llama": 10000.0, "qwen2": 1000000.0, "qwen3": 1000000.0, "gemma3": 1000000.0}
# qwen3 gets a head size unlike hidden / heads (as the real ones have) and a tied head. gemma3 gets
# six layers (the sixth is its first global one), a window of 4 positions for the five local ones
# (shorter than the tests' sequences) and query_pre_attn_scalar = head size, as every real one has.
EXTRA = {
    "qwen3": dict(head_dim=32),
    "gemma3": dict(head_dim=32, query_pre_attn_scalar=32, num_hidden_layers=6, sliding_window=4),
}


def tiny_config(arch: str, vocab_size: int, **overrides):
    """A Llama/Qwen2/Qwen3/Gemma3 config of the tiny shape (all but qwen2 tie their head, as the real
    models do); `overrides` sets anything else (context, eps, init range...)."""
    from transformers import Gemma3TextConfig, LlamaConfig, Qwen2Config, Qwen3Config

    config_class = {"llama": LlamaConfig, "qwen2": Qwen2Config, "qwen3": Qwen3Config, "gemma3": Gemma3TextConfig}[arch]
    settings = dict(TINY, vocab_size=vocab_size, rope_theta=ROPE_THETA[arch], tie_word_embeddings=arch != "qwen2")
    settings.update(EXTRA.get(arch, {}))
    settings.update(overrides)
    return config_class(**settings)
