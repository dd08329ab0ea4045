"""A prompt fed while the visitor types (`Chat.prepare`, the page's PREPARE) changes nothing but
the time to the first token: the reply to the question sent afterwards is the reply a fresh
conversation gives, token for token, and only the part of the prompt that differs is fed then."""

from __future__ import annotations

import pytest

from tabtwin._core import Chat

QUESTION = "Where were you born, and where do you live now?"


def reply(chat: Chat, question: str) -> str:
    chat.generate(question, max_tokens=24)
    return chat.last_reply_raw()


@pytest.mark.parametrize("typed", ["Where were y", "Where were you born, and where do you live now?", "Who"])
def test_the_reply_after_a_prepared_prompt_is_the_fresh_reply(tiny_gguf, typed):
    fresh = Chat.from_path(tiny_gguf)
    want = reply(fresh, QUESTION)
    whole = fresh.prefill_tokens()

    chat = Chat.from_path(tiny_gguf)
    fed, left = chat.prepare(typed, max_tokens=24)
    assert fed > 0 and left == 0
    assert reply(chat, QUESTION) == want
    assert 1 <= chat.prefill_tokens() < whole  # the shared opening was not fed again


def test_a_prompt_read_ahead_in_chunks_and_cut_short_still_gives_the_fresh_reply(tiny_gguf):
    want = reply(Chat.from_path(tiny_gguf), QUESTION)
    chat = Chat.from_path(tiny_gguf)
    fed, left = chat.prepare(QUESTION, max_tokens=24, most=7)
    assert (fed, left > 0) == (7, True)
    assert reply(chat, QUESTION) == want  # Enter came after one chunk: the rest is read then
    assert chat.prefill_tokens() == left


def test_a_prepared_prompt_in_a_conversation_keeps_the_conversation(tiny_gguf):
    fresh = Chat.from_path(tiny_gguf)
    reply(fresh, "Hello there.")
    want = reply(fresh, QUESTION)

    chat = Chat.from_path(tiny_gguf)
    first = reply(chat, "Hello there.")
    chat.prepare("Where were you", max_tokens=24)
    assert [m for m, _ in chat.history()] == ["user", "assistant"] and chat.history()[1][1] == first
    assert reply(chat, QUESTION) == want


@pytest.mark.models
def test_a_grounded_question_prepared_while_typed_gets_the_same_answer(smollm_path):
    """The real model and the page's grounded turn: notes retrieved for the half-typed question are
    fed early; the answer to the whole question is what it is without that."""
    notes = "Notes from my own pages (they may not answer the question):\n[About] I was born in Uppsala.\n\n"
    fresh = Chat.from_path(smollm_path)
    want = reply(fresh, notes + QUESTION)
    chat = Chat.from_path(smollm_path)
    while chat.prepare(notes + "Where were you bo", max_tokens=24, most=16)[1]:  # a chunk at a time, as the page
        pass
    assert reply(chat, notes + QUESTION) == want
    assert chat.prefill_tokens() < fresh.prefill_tokens() // 2
