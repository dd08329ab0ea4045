"""Every export that is not what it claims: refused on one line naming the file and the line, exit 2,
and nothing written."""

from __future__ import annotations

import json

import pytest

NOT_WHATSAPP = (
    "not a WhatsApp chat export: "
    'a line should start like "12/31/23, 9:41 PM - Name: text" (Android) or "[31.12.23, 21:41:05] Name: text" (iOS)'
)
TELEGRAM = 'not a Telegram Desktop export: expected an object with a "messages" list (or "chats": {"list": [...]})'


def telegram(*messages) -> str:
    return json.dumps({"name": "Bob", "id": 1, "messages": list(messages)}, indent=1)


def tweets(items) -> str:
    return "window.YTD.tweets.part0 = " + json.dumps(items, indent=1)


GOOD_MESSAGE = {"id": 1, "type": "message", "date": "2024-01-01T10:00:00", "from": "Bob", "text": "hi"}
# (file name, its content, --format or None, what follows the path in the message). A JSON message or
# tweet is named by the line of its id (json keeps no positions).
BAD = {
    "text that is not a chat": ("chat.txt", "Dear diary,\ntoday I\n", None, f":1: {NOT_WHATSAPP}"),
    "a chat after other text": ("chat.txt", "\n\nnotes\n12/31/23, 9:41 PM - Ada: hi\n", None, f":3: {NOT_WHATSAPP}"),
    "an empty chat": ("chat.txt", "", None, ":1: not a WhatsApp chat export: the file is empty"),
    "a day that does not exist": (
        "chat.txt",
        "12/31/23, 9:41 PM - Bob: hi\n12/32/23, 9:42 PM - Ada: yo\n",
        None,
        ':2: "12/32/23, 9:42 PM" is not a date and time (day is out of range for month)',
    ),
    "dates in two orders": (
        "chat.txt",
        "01/02/2024, 10:00 - Bob: hi\n01/13/2024, 10:00 - Ada: yo\n13/01/2024, 10:00 - Ada: yo\n",
        None,
        ":3: dates in two orders (day-first at line 3, month-first at line 2)",
    ),
    "a chat with nothing from --me": (
        "chat.txt",
        "12/31/23, 9:41 PM - Bob: hi\n12/31/23, 9:42 PM - Carol: yo\n",
        None,
        ": no message is from --me (Ada); the senders are: Bob, Carol",
    ),
    "a chat that is not UTF-8": (
        "chat.txt",
        b"12/31/23, 9:41 PM - Bob: hi\n12/31/23, 9:42 PM - Ada: caf\xe9\n",
        None,
        ":2: not UTF-8 text (byte 0xe9); save the file as UTF-8 (a WhatsApp chat export)",
    ),
    "invalid JSON": (
        "result.json",
        '{"name": "Bob",\n "messages": [}\n',
        None,
        ":2: not valid JSON: Expecting value (column 15)",
    ),
    "JSON that is not a Telegram export": ("result.json", '{"name": "Bob"}', None, f":1: {TELEGRAM}"),
    "a Telegram message of no known type": (
        "result.json",
        telegram(GOOD_MESSAGE, {**GOOD_MESSAGE, "id": 2, "type": "poll"}),
        None,
        ':13: a message must be an object with "type": "message" or "service"',
    ),
    "a Telegram text that is a number": (
        "result.json",
        telegram({**GOOD_MESSAGE, "text": 42}),
        None,
        ':3: "text" must be a string or a list of strings and {"type", "text"} entities',
    ),
    "a Telegram date that is not one": (
        "result.json",
        telegram({**GOOD_MESSAGE, "date": "yesterday"}),
        None,
        ':3: "date" \'yesterday\' is not an ISO date like "2023-12-31T21:41:05"',
    ),
    "a tweets.js without its prefix": (
        "tweets.js",
        '[{"tweet": {"id_str": "1", "full_text": "hi"}}]',
        None,
        ':1: not an X archive tweets.js: it does not start with "window.YTD.tweets.part0 = "',
    ),
    "a tweets.js with broken JSON": (
        "tweets.js",
        'window.YTD.tweets.part0 = [\n{"tweet": {"id_str": "1",}}\n]',
        None,
        ":2: not valid JSON after the window.YTD prefix: Expecting property name enclosed in double quotes",
    ),
    "a tweets.js that holds no list": (
        "tweets.js",
        'window.YTD.tweets.part0 = {"tweet": {}}',
        None,
        ':1: not an X archive tweets.js: expected a list of {"tweet": {...}} after the prefix',
    ),
    "a tweet without text": (
        "tweets.js",
        tweets([{"tweet": {"id_str": "1", "full_text": "hi"}}, {"tweet": {"id_str": "2"}}]),
        None,
        ':10: a tweet must have a "full_text" and an "id_str" string',
    ),
    "an mbox without From separators": (
        "mail.mbox",
        "From: Ada <ada@example.org>\nSubject: hi\n\nhello\n",
        None,
        ':1: not an mbox: the first line should start with "From " (a separator)',
    ),
    "an mbox after blank lines": (
        "mail",
        "\n\nSubject: hi\n",
        "mbox",
        ':3: not an mbox: the first line should start with "From " (a separator)',
    ),
    "an mbox with nothing from --me": (
        "mail.mbox",
        "From x@y Mon Jan 01 00:00:00 2024\nFrom: Bob <bob@x.org>\nSubject: hi\n\nhello\n",
        None,
        ": no message is from --me (Ada); give the addresses you send from",
    ),
    "a post whose front matter never ends": (
        "post.md",
        "---\ntitle: Half\n\nThe text.\n",
        None,
        ":1: front matter opened with --- is never closed",
    ),
    "a file of no known export": (
        "notes.csv",
        "a,b\n",
        None,
        ": cannot tell which export this is; give --format whatsapp|telegram|x|mbox|posts",
    ),
    "a chat forced to be read as Telegram": (
        "chat.txt",
        "12/31/23, 9:41 PM - Ada: hi\n",
        "telegram",
        ":1: not valid JSON: Extra data (column 3)",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_export_is_refused_on_one_line_and_nothing_is_written(tabtwin, persona, tmp_path, case):
    name, content, fmt, expected = BAD[case]
    export = tmp_path / name
    export.write_bytes(content if isinstance(content, bytes) else content.encode())
    args = ["import", export, "--me", "Ada", "--into", persona] + (["--format", fmt] if fmt else [])
    code, out, err = tabtwin(*args)
    assert (code, out) == (2, "")
    assert err == f"tabtwin: error: {export}{expected}\n"
    assert not (persona / "imported").exists()


def test_a_folder_without_posts_is_refused(tabtwin, persona, tmp_path):
    empty = tmp_path / "blog"
    empty.mkdir()
    (empty / "image.png").write_bytes(b"\x89PNG")
    code, _, err = tabtwin("import", empty, "--me", "Ada", "--into", persona)
    assert code == 2
    assert err == f"tabtwin: error: {empty}: no posts here: expected .htm, .html, .markdown, .md, .txt files\n"


def test_a_refused_export_leaves_what_was_imported_before_as_it_was(tabtwin, persona, tmp_path):
    chat = tmp_path / "chat.txt"
    chat.write_text("12/31/23, 9:41 PM - Bob: hi\n12/31/23, 9:42 PM - Ada: yo\n")
    assert tabtwin("import", chat, "--me", "Ada", "--into", persona)[0] == 0
    before = (persona / "imported" / "whatsapp.jsonl").read_bytes()
    chat.write_text("12/31/23, 9:41 PM - Bob: hi\n12/31/23, 9:43 PM - Ada: more\n12/32/23, 9:42 PM - Ada: yo\n")
    assert tabtwin("import", chat, "--me", "Ada", "--into", persona)[0] == 2
    assert (persona / "imported" / "whatsapp.jsonl").read_bytes() == before
    assert [p.name for p in (persona / "imported").iterdir()] == ["whatsapp.jsonl"]  # no temporary left
