"""WhatsApp chat exports: Android and iOS lines, multi-line messages, date orders, what is left out."""

from __future__ import annotations

import pytest
from conftest import ADA, EXPORTS, authored, records

from tabtwin.imports import whatsapp
from tabtwin.imports.author import Author

ANDROID = EXPORTS / "WhatsApp Chat with Bob Smith.txt"
IOS = EXPORTS / "WhatsApp Chat - Climbing crew.txt"


def test_android_chat_becomes_conversations_with_the_author_as_assistant(tabtwin, persona):
    code, out, _ = tabtwin("import", ANDROID, "--me", "Ada Okonkwo", "--into", persona, "--no-mask")
    assert code == 0, out
    first, writing, last = records(persona, "whatsapp")
    assert first["kind"] == "conversation" and first["source"] == f"whatsapp:{ANDROID.name}"
    assert [m["role"] for m in first["messages"]] == ["user", "assistant", "user", "assistant"]
    # Bob's two messages are one turn; Ada's multi-line message keeps its second line
    assert first["messages"][0]["content"].startswith("Hey Ada, are you coming")
    assert first["messages"][1]["content"] == (
        "Not tonight, I'm deep in a Rust refactor.\nThe borrow checker and I are negotiating."
    )
    assert first["messages"][3]["content"] == "It's ada@example.org"  # "<This message was edited>" cut
    # a long message nobody prompted (a new day) stands alone as writing; the last 👍 was not answered
    assert writing["kind"] == "writing" and writing["text"].startswith("Happy new year Bob!")
    assert last["messages"][-1] == {"role": "assistant", "content": "Thanks Bob, see you at Smith's Bakery on 1/13."}
    assert "imported: conversations 2, writing 1" in out
    assert "system lines 1, media-only messages 2, deleted messages 1" in out


def test_ios_group_chat_leaves_out_notes_media_and_deleted_messages():
    found = whatsapp.read(IOS, Author.parse("Ada"))
    assert found.others == {"Carol Jones", "Dan"}
    assert found.left_out["system lines"] == 3  # encryption notice, "created group", a missed call
    assert found.left_out["media-only messages"] == 2 and found.left_out["deleted messages"] == 1
    crag, grade = found.records
    assert crag["messages"][0]["content"] == "Who's in for Saturday at the crag?\nMe! Carol can you bring the rope"
    assert crag["messages"][1]["content"] == "Count me in. I'll bring snacks\nand the guidebook."
    assert grade["messages"][1]["content"].startswith("6a.")
    assert all("omitted" not in w and "attached" not in w for w in authored(found.records))


def test_dates_are_read_day_first_when_a_day_is_above_12(tmp_path):
    chat = tmp_path / "chat.txt"
    chat.write_text("13/01/2024, 09:00 - Bob: Lunch?\n13/01/2024, 09:05 - Ada: Yes\n01/02/2024, 09:10 - Ada: Hi\n")
    found = whatsapp.read(chat, Author.parse("Ada"))
    assert found.records[0]["messages"] == [
        {"role": "user", "content": "Lunch?"},
        {"role": "assistant", "content": "Yes"},
    ]
    assert found.left_out["your messages nobody prompted"] == 1  # 1 February (not 2 January): a new session


def test_a_long_pause_starts_a_new_conversation(tmp_path):
    chat = tmp_path / "chat.txt"
    chat.write_text(
        "[1/2/24, 9:00:00 AM] Bob: Coffee?\n[1/2/24, 9:01:00 AM] Ada: Sure\n"
        "[1/2/24, 6:00:00 PM] Bob: Dinner?\n[1/2/24, 6:02:00 PM] Ada: Can't, sorry\n"
    )
    found = whatsapp.read(chat, Author.parse("Ada"))
    assert [len(r["messages"]) for r in found.records] == [2, 2]


def test_the_same_chat_gives_the_same_ids(tmp_path):
    first = whatsapp.read(ANDROID, Author.parse(ADA)).records
    copy = tmp_path / ANDROID.name
    copy.write_bytes(ANDROID.read_bytes())
    assert [r["id"] for r in whatsapp.read(copy, Author.parse(ADA)).records] == [r["id"] for r in first]


LONG = "I keep notes on everything I build, because a month later I remember nothing of why. " * 4


@pytest.mark.parametrize(
    "line",
    [
        "12/31/23, 9:41 PM - Ada: ",  # Android, US
        "12/31/23, 9:41\u202fPM - Ada: ",  # Android, newer: a narrow no-break space before PM
        "31/12/2023, 21:41 - Ada: ",  # Android, UK and most of Europe
        "31.12.23, 21:41 - Ada: ",  # Android, Germany
        "2023-12-31, 21:41 - Ada: ",  # Android, year first
        "[31.12.23, 21:41:05] Ada: ",  # iOS, Europe
        "[12/31/23, 9:41:05 PM] Ada: ",  # iOS, US
        "\u200e[31/12/2023, 9:41:05 p. m.] Ada: ",  # iOS, Spanish
    ],
)
def test_the_date_styles_of_both_apps_are_read(tmp_path, line):
    chat = tmp_path / "chat.txt"
    chat.write_text(line + LONG + "\n")
    (note,) = whatsapp.read(chat, Author.parse("Ada")).records
    assert (note["kind"], note["title"], note["text"]) == ("writing", "A message of 2023-12-31", LONG.strip())
