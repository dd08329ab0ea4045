"""Chat semantics of the core with a real model: system prompt, context window, KV reuse, sampling."""

import json

import pytest

from tabtwin import keys
from tabtwin._core import Chat
from tabtwin.gguf.store import with_metadata

NAME = "Zorblax"
SYSTEM = f"You are {NAME}, a friendly robot. Your name is {NAME}. Always answer in one short sentence."


@pytest.fixture(scope="module")
def twin_path(smollm_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("twin") / "twin.gguf"
    return with_metadata(
        smollm_path,
        out,
        {keys.SYSTEM_PROMPT: SYSTEM, keys.PERSONA: NAME, keys.TOOLS: json.dumps(["projects", "books"])},
    )


def test_embedded_system_prompt_is_used_verbatim(twin_path):
    chat = Chat.from_path(twin_path)
    assert chat.system_prompt == SYSTEM
    prompt = chat.render([("user", "hi")])
    assert f"<|im_start|>system\n{SYSTEM}<|im_end|>" in prompt
    assert prompt.count("<|im_start|>system") == 1


def test_embedded_system_prompt_needs_force_to_replace(twin_path):
    chat = Chat.from_path(twin_path)
    with pytest.raises(ValueError, match="tabtwin.system_prompt"):
        chat.set_system_prompt("You are someone else.")
    chat.set_system_prompt(SYSTEM)  # the same text is fine
    chat.set_system_prompt("You are someone else.", force=True)
    assert chat.system_prompt == "You are someone else."


def test_without_embedded_prompt_the_template_default_applies(smollm_path):
    chat = Chat.from_path(smollm_path)
    assert chat.system_prompt is None
    # SmolLM2's template inserts its own default system message when none is given.
    assert "<|im_start|>system\nYou are a helpful AI assistant named SmolLM" in chat.render([("user", "hi")])


def test_repeat_penalty_still_lets_the_twin_say_its_name(twin_path):
    chat = Chat.from_path(twin_path)
    reply = chat.generate("What is your name?", max_tokens=30, repeat_penalty=1.3)
    assert NAME in reply


def test_context_window_drops_oldest_turns_whole(smollm_path):
    chat = Chat.from_path(smollm_path)
    chat.set_system_prompt("You are terse.")
    chat.set_context_limit(96)
    questions = ["Name a colour.", "Name a fruit.", "Name an animal.", "Name a country."]
    for question in questions:
        chat.generate(question, max_tokens=24)
        prompt_tokens = len(chat.encode(chat.render(chat.history())))
        assert prompt_tokens <= 96
    history = chat.history()
    roles = [role for role, _ in history]
    assert roles == ["user", "assistant"] * (len(history) // 2), "turns are dropped whole"
    assert history[-2][1] == questions[-1]
    assert len(history) < 2 * len(questions), "the oldest turns were dropped"
    assert history[0][1] in questions[1:]
    assert chat.render(history).startswith("<|im_start|>system\nYou are terse.<|im_end|>")


def test_second_turn_feeds_only_the_new_tokens(smollm_path):
    chat = Chat.from_path(smollm_path)
    chat.generate("Give me one word for happy.", max_tokens=20)
    first_prompt = chat.prefill_tokens()
    chat.generate("Now use it in a sentence.", max_tokens=20)
    history = chat.history()
    full_prompt = len(chat.encode(chat.render(history[:-1])))
    assert chat.prefill_tokens() < full_prompt - first_prompt, "the cached prefix was reused"
    new_turn = "<|im_end|>\n<|im_start|>user\nNow use it in a sentence.<|im_end|>\n<|im_start|>assistant\n"
    # the new turn, plus the last reply token when max_tokens ended it before it was fed
    assert chat.prefill_tokens() <= len(chat.encode(new_turn)) + 1


def test_message_too_long_for_the_window_is_a_clear_error(smollm_path):
    chat = Chat.from_path(smollm_path)
    chat.set_context_limit(64)
    with pytest.raises(ValueError, match="context"):
        chat.generate("word " * 200, max_tokens=16)


def test_seeded_sampling_is_repeatable_and_differs_from_greedy(smollm_path):
    chat = Chat.from_path(smollm_path)
    kwargs = dict(max_tokens=30, temperature=1.2, top_k=50, top_p=0.95)
    a = chat.generate("Invent a name for a cat.", seed=1, **kwargs)
    chat.reset()
    b = chat.generate("Invent a name for a cat.", seed=1, **kwargs)
    replies = set()
    for seed in range(2, 6):
        chat.reset()
        replies.add(chat.generate("Invent a name for a cat.", seed=seed, **kwargs))
    assert a == b
    assert len(replies | {a}) > 1


def test_a_fact_from_turn_one_is_used_in_turn_three(qwen_path):
    chat = Chat.from_path(qwen_path)
    chat.generate("My dog is called Biscuit. Please remember that.", max_tokens=40)
    chat.generate("What is 2 + 2?", max_tokens=20)
    reply = chat.generate("What is my dog called?", max_tokens=30)
    assert "Biscuit" in reply
    assert [role for role, _ in chat.history()] == ["user", "assistant"] * 3


def test_seeded_history_equals_the_live_conversation(smollm_path):
    """set_history puts the model where a live chat with the same turns would be: same prompt, same reply."""
    live = Chat.from_path(smollm_path)
    live.generate("My name is Ingrid. Say hi.", max_tokens=30)
    live.generate("What is 3 + 4?", max_tokens=20)
    seeded = Chat.from_path(smollm_path)
    seeded.set_history(live.history())
    assert seeded.history() == live.history()
    question = "What is my name?"
    expected = live.generate(question, max_tokens=20)
    assert seeded.generate(question, max_tokens=20) == expected
    assert seeded.history() == live.history()


@pytest.mark.parametrize(
    "messages, words",
    [
        ([("system", "x"), ("user", "a"), ("assistant", "b")], ["message 1", "system prompt comes from the model"]),
        ([("user", "a"), ("user", "b")], ["message 2", "should be assistant"]),
        ([("user", "a")], ["ends with a user message"]),
    ],
)
def test_bad_history_is_refused_with_the_message_named(smollm_path, messages, words):
    chat = Chat.from_path(smollm_path)
    chat.generate("Hi.", max_tokens=5)
    before = chat.history()
    with pytest.raises(ValueError) as err:
        chat.set_history(messages)
    assert all(w in str(err.value) for w in words), str(err.value)
    assert chat.history() == before, "a refused history must leave the conversation as it was"


def test_chat_cli_history_file_carries_a_conversation(qwen_path, tmp_path):
    """`tabtwin chat --history F.json`: turn 1's fact is used in turn 3, across three processes."""
    from tabtwin import cli

    path = tmp_path / "chat.json"
    for prompt in ("My dog is called Biscuit. Please remember that.", "What is 2 + 2?"):
        assert cli.main(["chat", str(qwen_path), "--history", str(path), "--prompt", prompt, "--max-tokens", "40"]) == 0
    saved = json.loads(path.read_text())
    assert [m["role"] for m in saved] == ["user", "assistant"] * 2
    # a saved chat may end with the question to answer
    path.write_text(json.dumps(saved + [{"role": "user", "content": "What is my dog called?"}]))
    assert cli.main(["chat", str(qwen_path), "--history", str(path), "--max-tokens", "30"]) == 0
    saved = json.loads(path.read_text())
    assert len(saved) == 6 and "Biscuit" in saved[-1]["content"]


@pytest.mark.parametrize(
    "body, words",
    [
        ('[{"role": "user", "content": "a"},\n {"role": "assistant"', ["line 2", "not a JSON history"]),
        ('[{"role": "system", "content": "be nice"}]', ["message 1", "system message"]),
        ('[{"role": "assistant", "content": "hi"}]', ["message 1", "should be 'user'"]),
        ('{"turns": []}', ["JSON list"]),
    ],
)
def test_chat_cli_names_what_is_wrong_in_a_history_file(smollm_path, tmp_path, capsys, body, words):
    from tabtwin import cli

    path = tmp_path / "chat.json"
    path.write_text(body)
    assert cli.main(["chat", str(smollm_path), "--history", str(path), "--prompt", "Hi"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and all(w in err for w in words), err
    assert path.read_text() == body, "a bad history file must be left as it was"
