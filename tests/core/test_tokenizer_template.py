"""The core's tokenizer and chat template equal transformers' for the same GGUF."""

import pytest
from transformers import AutoTokenizer

from tabtwin._core import Chat

pytestmark = pytest.mark.torch  # transformers is the reference

CORPUS = [
    "What is the capital of France?",
    "Hello, world! 你好，世界。 Ça va? Grüße aus Köln — naïve café.",
    "emoji: 👋🏽 🧑‍💻 🇫🇷 ✨ and a ZWJ family 👨‍👩‍👧",
    "def f(x):\n    return {'a': [1, 2, 3]}  # comment\n\tindented\r\nwindows line",
    "numbers 1234567 3.14159 -42 1e-9 2026-11-22 0x1F",
    "   leading spaces, trailing spaces   ",
    "runs of whitespace:\n\n\n   \t\t  end",
    "it's they're we've I'm you'll he'd DON'T",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "a<|endoftext|>b",
    "العربية עברית हिन्दी русский ελληνικά 日本語のテキスト 한국어",
    "",
]

CONVERSATIONS = [
    [("user", "What is the capital of France?")],
    [("system", "You are Ada, a terse assistant."), ("user", "Who are you?")],
    [
        ("system", "Be kind."),
        ("user", "Hi!"),
        ("assistant", "Hello! How can I help?"),
        ("user", "Tell me a joke about 🦀."),
    ],
]


@pytest.fixture(scope="module", params=["smollm_path", "qwen_path"])
def pair(request):
    path = request.getfixturevalue(request.param)
    reference = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    return Chat.from_path(path), reference


@pytest.mark.parametrize("text", CORPUS)
def test_token_ids_equal_transformers(pair, text):
    chat, reference = pair
    assert chat.encode(text) == reference.encode(text, add_special_tokens=False)


@pytest.mark.parametrize("text", CORPUS)
def test_decode_round_trips(pair, text):
    chat, _ = pair
    assert chat.decode(chat.encode(text)) == text


@pytest.mark.parametrize("conversation", CONVERSATIONS)
def test_template_equals_transformers(pair, conversation):
    chat, reference = pair
    messages = [{"role": r, "content": c} for r, c in conversation]
    expected = reference.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    # The core prepends its own system prompt only when the file carries one; these do not.
    assert chat.system_prompt is None
    assert chat.render(conversation) == expected
