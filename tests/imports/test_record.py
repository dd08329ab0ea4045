"""The imported-record schema both sides share (tabtwin.imports.record): ids, places, validation."""

from __future__ import annotations

from pathlib import Path

from tabtwin.imports import record

TURNS = [{"role": "user", "content": "Coffee?"}, {"role": "assistant", "content": "Sure."}]


def test_ids_are_16_hex_digits_of_the_format_and_the_items_key():
    one = record.record_id("whatsapp", "chat.txt\n12/31/23 9:41 PM\nBob\nCoffee?")
    assert one == record.record_id("whatsapp", "chat.txt\n12/31/23 9:41 PM\nBob\nCoffee?")
    assert len(one) == 16 and int(one, 16) >= 0
    assert one != record.record_id("telegram", "chat.txt\n12/31/23 9:41 PM\nBob\nCoffee?")


def test_records_live_in_one_file_per_format_under_imported():
    assert record.imported_file("finetune/data/me", "mbox") == Path("finetune/data/me/imported/mbox.jsonl")
    assert record.FORMATS == ("whatsapp", "telegram", "x", "mbox", "posts")


def test_a_made_record_is_valid_and_a_broken_one_says_why():
    assert record.problems(record.conversation("x", "k", "x:tweets.js", TURNS)) == []
    assert record.problems(record.writing("posts", "a.md", "posts:blog", "A", "Text.")) == []
    assert record.problems([]) == ["not a JSON object"]
    assert record.problems({"kind": "essay"}) == ["kind 'essay' is not one of ['conversation', 'writing']"]
    assert record.problems({"id": "a", "source": "s", "kind": "writing", "title": "", "text": "t", "x": 1}) == [
        "unknown key(s) x in a writing",
        "title must be a non-empty string",
    ]
    base = {"id": "a", "source": "s", "kind": "conversation"}
    assert record.problems({**base, "messages": TURNS[::-1]}) == [
        "message 1 has role 'assistant'; turns alternate, user first"
    ]
    assert record.problems({**base, "messages": TURNS[:1]}) == ["the last message must be the author's (assistant)"]
