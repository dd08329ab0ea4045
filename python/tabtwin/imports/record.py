"""The imported-record schema: the one table both sides of `tabtwin import` meet on.

`tabtwin import` writes, and `tabtwin data build` reads, `PERSONA_DIR/imported/<format>.jsonl`: one
file per export format, one JSON object per line, each one of two kinds:

    {"id": ID, "source": "whatsapp:chat.txt", "kind": "conversation",
     "messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}
    {"id": ID, "source": "posts:blog", "kind": "writing", "title": "...", "text": "..."}

A conversation alternates roles, starts with a user turn and ends with an assistant turn (the
author's words); the user turn is another person's message the author answered. Writing is the
author's alone. `id` is the first 16 hex digits of sha256(format, a key stable for the item within
its export), so importing the same export twice adds nothing. This module imports nothing of tabtwin
(a shared leaf that `tests/test_layout.py` holds to that).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# The export formats, in the order `--format` and the counts list them.
FORMATS = ("whatsapp", "telegram", "x", "mbox", "posts")
CONVERSATION = "conversation"
WRITING = "writing"
KINDS = (CONVERSATION, WRITING)
USER, ASSISTANT = "user", "assistant"
ROLES = (USER, ASSISTANT)
# The keys each kind has: exactly these, all required.
KEYS = {
    CONVERSATION: ("id", "source", "kind", "messages"),
    WRITING: ("id", "source", "kind", "title", "text"),
}
MESSAGE_KEYS = ("role", "content")
ID_HEX_DIGITS = 16
IMPORTED_DIR = "imported"  # under the persona folder


def imported_file(persona_dir: Path | str, fmt: str) -> Path:
    """Where the records of one export format live: `PERSONA_DIR/imported/<format>.jsonl`."""
    return Path(persona_dir) / IMPORTED_DIR / f"{fmt}.jsonl"


def record_id(fmt: str, key: str) -> str:
    """The id of an item: the same export item gives the same id on every import."""
    return hashlib.sha256(f"{fmt}\n{key}".encode()).hexdigest()[:ID_HEX_DIGITS]


def source_name(fmt: str, name: str) -> str:
    """`<format>:<file basename>` (a folder's name for posts)."""
    return f"{fmt}:{name}"


def conversation(fmt: str, key: str, source: str, messages: list[dict]) -> dict:
    return {"id": record_id(fmt, key), "source": source, "kind": CONVERSATION, "messages": messages}


def writing(fmt: str, key: str, source: str, title: str, text: str) -> dict:
    return {"id": record_id(fmt, key), "source": source, "kind": WRITING, "title": title, "text": text}


def problems(record) -> list[str]:
    """What is wrong with one parsed line, as phrases a reader puts after `file:line: ` (empty: valid)."""
    if not isinstance(record, dict):
        return ["not a JSON object"]
    kind = record.get("kind")
    if kind not in KINDS:
        return [f"kind {kind!r} is not one of {list(KINDS)}"]
    found = []
    missing = [k for k in KEYS[kind] if k not in record]
    unknown = sorted(set(record) - set(KEYS[kind]))
    if missing:
        found.append(f"{kind} without {', '.join(missing)}")
    if unknown:
        found.append(f"unknown key(s) {', '.join(unknown)} in a {kind}")
    for key in (k for k in KEYS[kind] if k != "messages" and k not in missing):
        if not isinstance(record[key], str) or not record[key].strip():
            found.append(f"{key} must be a non-empty string")
    if kind == CONVERSATION and "messages" in record:
        found += _message_problems(record["messages"])
    return found


def _message_problems(messages) -> list[str]:
    if not isinstance(messages, list) or not messages:
        return ["messages must be a non-empty list"]
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or sorted(message) != sorted(MESSAGE_KEYS):
            return [f"message {i + 1} must have exactly the keys role and content"]
        if message["role"] != ROLES[i % 2]:
            return [f"message {i + 1} has role {message['role']!r}; turns alternate, user first"]
        if not isinstance(message["content"], str) or not message["content"].strip():
            return [f"message {i + 1} has empty content"]
    if messages[-1]["role"] != ASSISTANT:
        return ["the last message must be the author's (assistant)"]
    return []
