"""The native binding's surface: one set of keyword overrides over the model's own defaults, core types
as dicts (their serde serialization), tokens counted as tokens, and the core's reply parser and
end-of-turn rule for Python's own use. Runs on the tiny random llama (fast tier)."""

import pytest
from tiny_gguf import write_tiny_llama

from tabtwin import keys
from tabtwin._core import END_OF_TURN_TOKENS, Chat, is_end_of_turn, parse_reply

OPTIONS = {"max_tokens", "temperature", "top_k", "top_p", "repeat_penalty", "repeat_last_n", "seed"}


def test_info_reports_the_options_a_reply_gets_when_the_caller_gives_none(tiny_gguf):
    chat = Chat.from_path(tiny_gguf)
    defaults = chat.info()["sampling"]
    assert set(defaults) == OPTIONS
    implicit = chat.generate("hello", max_tokens=16)
    chat.reset()
    assert chat.generate("hello", **{**defaults, "max_tokens": 16}) == implicit


def test_a_sampling_recommendation_of_the_wrong_type_is_refused_with_its_key(tmp_path):
    path = write_tiny_llama(tmp_path / "hot.gguf", metadata={"general.sampling.temp": "hot"})
    with pytest.raises(ValueError, match=r"general\.sampling\.temp"):
        Chat.from_path(path)


def test_an_impossible_override_is_refused_with_its_name(tiny_gguf):
    chat = Chat.from_path(tiny_gguf)
    with pytest.raises(ValueError, match="top_p"):
        chat.generate("hello", max_tokens=4, top_p=2.0)
    with pytest.raises(TypeError):
        chat.generate("hello", temprature=0.5)


def test_events_arrive_as_dicts_and_tokens_are_counted_as_tokens(tiny_gguf):
    chat = Chat.from_path(tiny_gguf)
    events = []
    reply = chat.generate("hello", max_tokens=9, on_event=lambda e: events.append(e) or True)
    assert all(e["kind"] in ("text", "thinking", "tool") for e in events)
    assert "".join(e["text"] for e in events if e["kind"] == "text") == reply
    count = chat.generated_tokens()
    assert count == 9 if chat.stop_reason() == "max_tokens" else count < 9


def test_parse_reply_splits_a_whole_reply_as_the_stream_does():
    reply = '<think>they ask about books</think>\nHere you go.\nTOOL {"app": "books", "params": {"tag": "maps"}}'
    assert parse_reply(reply) == [
        {"kind": "thinking", "text": "they ask about books"},
        {"kind": "text", "text": "Here you go.\n"},
        {"kind": "tool", "app": "books", "params": {"tag": "maps"}},
    ]
    # an app the twin may not open is never shown as raw JSON; a garbled line opens the app it names
    assert parse_reply('TOOL {"app": "bank"}', apps=["books"]) == []
    assert parse_reply('TOOL {"app": "books", "par', apps=["books"]) == [{"kind": "tool", "app": "books", "params": {}}]


def test_the_end_of_turn_rule_is_the_constants_table():
    assert END_OF_TURN_TOKENS == keys.END_OF_TURN_TOKENS
    assert all(is_end_of_turn(token) for token in keys.END_OF_TURN_TOKENS)
    assert not is_end_of_turn("<|im_start|>")
