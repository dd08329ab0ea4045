"""Fixtures for the fine-tune pipeline: a tiny random llama as a GGUF base (SmolLM2's
tokenizer and chat template, random weights: seconds to train on a CPU), a small
persona in every source format (finetune_helpers.py), and a run config tying them together."""

from __future__ import annotations

from pathlib import Path

import pytest
from finetune_helpers import write_config, write_persona


@pytest.fixture(scope="session")
def tiny_base(smollm_path, tmp_path_factory) -> Path:
    """A 2-layer, 64-wide llama with random weights, as a GGUF carrying SmolLM2's tokenizer and template."""
    import torch
    from tiny_hf import tiny_config
    from transformers import LlamaForCausalLM

    from tabtwin._core import Chat
    from tabtwin.gguf.convert import DecoderConfig, write_gguf

    vocab = Chat.from_path(smollm_path).info()["vocab_size"]  # gguf-py takes seconds to parse the vocabulary
    torch.manual_seed(0)
    config = tiny_config("llama", vocab, max_position_embeddings=512, rms_norm_eps=1e-5, initializer_range=0.05)
    model = LlamaForCausalLM(config).float().eval()
    state = {k: v.detach().numpy() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    out = tmp_path_factory.mktemp("base") / "tiny-llama.gguf"
    write_gguf(state, DecoderConfig.from_hf(config, "llama"), smollm_path, out, qtype="F32")
    return out


@pytest.fixture
def persona(tmp_path) -> Path:
    return write_persona(tmp_path / "persona")


@pytest.fixture
def config(tmp_path, tiny_base, persona) -> Path:
    return write_config(tmp_path, tiny_base, persona)


@pytest.fixture(scope="session")
def trained(tiny_base, tmp_path_factory):
    """One built and trained run, shared by the export and eval tests (they only read it)."""
    from tabtwin.finetune.base import context_length, load_tokenizer, resolve_base
    from tabtwin.finetune.config import load
    from tabtwin.finetune.data import build
    from tabtwin.finetune.train import train

    folder = tmp_path_factory.mktemp("trained")
    persona = write_persona(folder / "persona")
    cfg = load(write_config(folder, tiny_base, persona, **{"train.epochs": "3", "train.lr": "1e-2"}))
    base = resolve_base(cfg.train.base)
    build(cfg, load_tokenizer(base, log=lambda *_: None), context_length(base))
    train(cfg, log=lambda *_: None, progress=False)
    return cfg
