"""A conversation longer than 4096 tokens on a model whose GGUF allows more: the native chat keeps
it all, and past the model's own context it drops the oldest turns whole, never failing inside the
model (issue #18). Fast tier: the tiny GGUF written with an 8192-token context."""

import json

import pytest
from tiny_gguf import write_tiny_llama

from tabtwin._core import Chat
from tabtwin.cli import main


@pytest.fixture(scope="module")
def long_gguf(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("long") / "tiny-8k.gguf", context_length=8192)


def turns(count: int, chars: int) -> list[tuple[str, str]]:
    """`count` user/assistant pairs of about `chars` tokens each side (the byte-level vocabulary has
    almost no merges: a letter is a token)."""
    out = []
    for i in range(count):
        out += [("user", f"q{i} " + "x" * chars), ("assistant", f"a{i} " + "y" * chars)]
    return out


def test_a_history_past_4096_tokens_is_kept_whole_when_the_gguf_allows_it(long_gguf):
    chat = Chat.from_path(long_gguf)
    assert chat.info()["context_length"] == 8192 and chat.context_limit == 8192
    history = turns(5, 500)  # ~5000 tokens
    assert len(chat.encode(chat.render(history))) > 4096
    chat.set_history(history)
    chat.generate("and now?", max_tokens=4)
    assert chat.prefill_tokens() > 4096, "the whole conversation was fed, none of it dropped"
    assert chat.history()[: len(history)] == history


def test_a_history_past_the_models_context_drops_the_oldest_turns_whole(long_gguf):
    chat = Chat.from_path(long_gguf)
    history = turns(10, 500)  # ~10000 tokens, more than the 8192 the file allows
    chat.set_history(history)
    chat.generate("and now?", max_tokens=4)
    kept = chat.history()
    assert [role for role, _ in kept] == ["user", "assistant"] * (len(kept) // 2), "turns are dropped whole"
    assert len(kept) < len(history) + 2 and kept[-2] == ("user", "and now?")
    assert kept[:-2] == history[len(history) - (len(kept) - 2) :], "the oldest turns went first"
    assert len(chat.encode(chat.render(kept))) <= 8192


def test_chat_cli_with_a_long_history_answers_and_keeps_every_turn_in_the_file(long_gguf, tmp_path):
    path = tmp_path / "chat.json"
    history = turns(10, 500)
    path.write_text(json.dumps([{"role": r, "content": c} for r, c in history]))
    assert main(["chat", str(long_gguf), "--history", str(path), "--prompt", "and now?", "--max-tokens", "4"]) == 0
    saved = json.loads(path.read_text())
    assert len(saved) == len(history) + 2, "the window forgets old turns; the file keeps them all"
    assert saved[: len(history)] == [{"role": r, "content": c} for r, c in history]
