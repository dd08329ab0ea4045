"""Telegram Desktop result.json: text as a string or entities, service, media and forwarded messages."""

from __future__ import annotations

import json

from conftest import ADA, EXPORTS

from tabtwin.imports import telegram
from tabtwin.imports.author import Author

RESULT = EXPORTS / "result.json"


def test_entities_are_joined_and_service_media_and_forwards_left_out():
    found = telegram.read(RESULT, Author.parse(ADA))
    (conversation,) = found.records
    assert conversation["messages"] == [
        {"role": "user", "content": "Did you see the new release of the parser?"},
        {
            "role": "assistant",
            "content": "Yes! The changelog is at https://example.org/changes, it fixes the quadratic case.",
        },
        {"role": "user", "content": "Nice. Are you speaking at the meetup? Ping me at bob@smith.example"},
        {"role": "assistant", "content": "Maybe, Bob. I'd talk about tiny models in the browser."},
    ]
    assert found.left_out == {
        "service messages": 1,
        "media-only messages": 2,
        "messages you forwarded (someone else's words)": 1,
    }
    assert found.others == {"Bob Smith"}


def test_me_matches_the_from_id_as_well_as_the_name():
    by_id = telegram.read(RESULT, Author.parse("user7")).records
    by_name = telegram.read(RESULT, Author.parse("ada okonkwo")).records
    assert by_id == by_name and by_id


def test_a_whole_account_export_reads_every_chat(tmp_path):
    chat = json.loads(RESULT.read_text())
    other = {**chat, "id": 5151, "name": "Dan"}
    account = tmp_path / "result.json"
    account.write_text(json.dumps({"about": "...", "chats": {"list": [chat, other]}}))
    found = telegram.read(account, Author.parse(ADA))
    assert len(found.records) == 2 and found.records[0]["id"] != found.records[1]["id"]
