"""The core's logits equal transformers' for tiny random llama, qwen2, qwen3 and gemma3 models.

Both sides compute in float32 from the same F32 weights, so they differ only by
the order of floating-point sums: about n * eps * |x| with n ~ 64-128 terms per
dot product, i.e. ~1e-5 relative. We allow 1e-4 of the largest logit. A real
mistake (a missing q/k permutation, a wrong RoPE base, a dropped bias, a bad mask)
moves logits by O(1) and fails by orders of magnitude.
"""

import numpy as np
import pytest
import torch
from tiny_hf import tiny_config
from transformers import Gemma3ForCausalLM, LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM

from tabtwin._core import Chat
from tabtwin.gguf.convert import DecoderConfig, write_gguf
from tabtwin.gguf.read import open_gguf

pytestmark = pytest.mark.torch  # transformers is the reference

TOKENS = [1, 450, 3000, 17, 99, 42, 7, 1000, 12, 5000, 333]


def vocab_size(path) -> int:
    return len(open_gguf(path).fields["tokenizer.ggml.tokens"].data)


def randomize(model) -> None:
    """Default init leaves norms at 1 and biases at 0, which would hide mistakes there."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.uniform_(0.5, 1.5)
            elif name.endswith("bias"):
                p.normal_(0, 0.5)


def build(arch: str, tokenizer_from, out):
    torch.manual_seed(0)
    config = tiny_config(
        arch, vocab_size(tokenizer_from), max_position_embeddings=256, rms_norm_eps=1e-5, initializer_range=0.2
    )
    model = {
        "llama": LlamaForCausalLM,
        "qwen2": Qwen2ForCausalLM,
        "qwen3": Qwen3ForCausalLM,
        "gemma3": Gemma3ForCausalLM,
    }[arch](config)
    model = model.float().eval()
    randomize(model)
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    if config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    write_gguf(state, DecoderConfig.from_hf(config, arch), tokenizer_from, out, qtype="F32")
    return model


# gemma3 borrows SmolLM2's tokenizer: the logits do not depend on it, and Gemma's own GGUF has no chat
# template for the conversation tests below.
ARCHITECTURES = [("llama", "smollm_path"), ("qwen2", "qwen_path"), ("qwen3", "qwen_path"), ("gemma3", "smollm_path")]


@pytest.mark.parametrize("arch, fixture", ARCHITECTURES)
def test_logits_match_transformers(request, tmp_path, arch, fixture):
    path = tmp_path / f"tiny-{arch}.gguf"
    model = build(arch, request.getfixturevalue(fixture), path)
    chat = Chat.from_path(path)
    assert chat.info()["architecture"] == arch
    for length in (1, 4, len(TOKENS)):
        with torch.no_grad():
            expected = model(torch.tensor([TOKENS[:length]])).logits[0, -1].numpy()
        actual = np.array(chat.logits(TOKENS[:length]), dtype=np.float32)
        assert actual.shape == expected.shape
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4 * scale, err_msg=f"{arch}, {length} tokens")
        assert int(actual.argmax()) == int(expected.argmax())


@pytest.mark.parametrize("arch, fixture", ARCHITECTURES)
def test_kv_cache_decoding_matches_transformers(request, tmp_path, arch, fixture):
    """Generation feeds one token at a time through the KV cache; that path must agree too."""
    path = tmp_path / f"tiny-{arch}.gguf"
    model = build(arch, request.getfixturevalue(fixture), path)
    chat = Chat.from_path(path)
    with torch.no_grad():
        expected = model(torch.tensor([TOKENS])).logits[0, -1].numpy()
    for prefix in (1, 5):
        actual = np.array(chat.logits_stepwise(TOKENS, prefix), dtype=np.float32)
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4 * scale, err_msg=f"{arch}, prefix {prefix}")


@pytest.mark.parametrize("arch, fixture", ARCHITECTURES)
def test_kv_reuse_between_turns_equals_a_fresh_run(request, tmp_path, arch, fixture):
    """Turn 2 computed on the cached prefix equals turn 2 recomputed from scratch.

    F32 weights make prefill and one-token decoding agree to ~1e-6, so greedy
    choices cannot flip between the two paths (on Q8_0 they can, at near-ties).
    """
    path = tmp_path / f"tiny-{arch}.gguf"
    build(arch, request.getfixturevalue(fixture), path)
    reused, fresh = Chat.from_path(path), Chat.from_path(path)
    for chat in (reused, fresh):
        chat.set_system_prompt("sys")
        chat.generate("first question", max_tokens=12)
    fresh.forget_cache()
    second = [chat.generate("second question", max_tokens=12) for chat in (reused, fresh)]
    assert reused.history() == fresh.history()
    assert second[0] == second[1]
    # the fresh run recomputed the whole conversation, the reused one only the new turn
    assert reused.prefill_tokens() < fresh.prefill_tokens() / 2


def test_streamed_pieces_never_split_a_character(tmp_path, qwen_path):
    """A random model emits arbitrary byte-level tokens, multi-byte characters split across
    them included; the stream must hold such bytes back and lose or repeat nothing."""
    path = tmp_path / "tiny-qwen2.gguf"  # Qwen's vocabulary is rich in CJK and byte tokens
    build("qwen2", qwen_path, path)
    chat = Chat.from_path(path)
    chat.set_system_prompt("sys")
    multibyte_seen = False
    for seed in range(4):
        chat.reset()
        pieces = []
        reply = chat.generate("emoji 👋🏽 and 日本語", max_tokens=48, temperature=1.0, seed=seed, on_text=pieces.append)
        raw = chat.last_reply_raw()
        assert "".join(pieces) == reply
        # the stream decodes a short window per token: together the pieces must be the whole decode
        if "<think>" not in raw and "TOOL" not in raw:
            assert reply == raw
        for piece in pieces[:-1]:
            assert not piece.endswith("\ufffd"), pieces
        multibyte_seen |= any(ord(c) > 0x7F and c != "\ufffd" for c in reply)
        assert raw is not None
    assert multibyte_seen, "the random model produced no multi-byte character to test with"


def test_positions_past_4096_match_transformers(tmp_path, qwen_path):
    """The rotary angles come from the file's context length, not a fixed table: a qwen2 model
    whose header allows 8192 positions is exact at position 4200 (candle's table ended at 4096)."""
    torch.manual_seed(0)
    config = tiny_config("qwen2", vocab_size(qwen_path), max_position_embeddings=8192, rms_norm_eps=1e-5)
    model = Qwen2ForCausalLM(config).float().eval()
    randomize(model)
    path = tmp_path / "tiny-long.gguf"
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    write_gguf(state, DecoderConfig.from_hf(config, "qwen2"), qwen_path, path, qtype="F32")
    tokens = [(i * 7919) % 5000 + 10 for i in range(4200)]
    chat = Chat.from_path(path)
    assert chat.info()["context_length"] == 8192
    with torch.no_grad():
        expected = model(torch.tensor([tokens])).logits[0, -1].numpy()
    actual = np.array(chat.logits_stepwise(tokens, 4100), dtype=np.float32)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4 * scale)
