"""Telegram Desktop "Export chat history" as JSON (`result.json`): one chat (`{"name", "id",
"messages": [...]}`) or a whole account (`{"chats": {"list": [chat, ...]}}`).

A message's `text` is a string or a list of strings and entities (`{"type": "link", "text": ...}`),
joined back into the text as written. Service messages (`"type": "service"`: joins, calls, pins),
messages with no text (a photo, a sticker, a file) and messages the author forwarded (another
person's words) are left out. `--me` matches the sender's `from` name or its `from_id` ("user123").
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

from tabtwin.imports import chat, record
from tabtwin.imports.author import Author
from tabtwin.imports.refusal import line_of, refuse
from tabtwin.imports.result import Imported
from tabtwin.inputs import read_text

NOT_TELEGRAM = 'not a Telegram Desktop export: expected an object with a "messages" list (or "chats": {"list": [...]})'


def read(path: Path, me: Author) -> Imported:
    text = read_text(path, "a Telegram Desktop result.json")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise refuse(path, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    source = record.source_name("telegram", path.name)
    found, left_out, others, kept = [], Counter(), set(), []
    for chat_document in _chats(path, document):
        messages = _messages(path, text, chat_document, me, left_out, others)
        kept += messages
        records, dropped = chat.records("telegram", source, str(chat_document.get("id", "")), messages)
        found += records
        left_out += dropped
    if not any(m.mine for m in kept):
        senders = ", ".join(sorted({m.sender for m in kept})) or "none"
        raise refuse(path, None, f"no message is from --me ({me.shown()}); the senders are: {senders}")
    return Imported(source, found, others, left_out, len(kept))


def _chats(path: Path, document) -> list[dict]:
    if isinstance(document, dict) and isinstance(document.get("messages"), list):
        return [document]
    chats = document.get("chats") if isinstance(document, dict) else None
    if isinstance(chats, dict) and isinstance(chats.get("list"), list):
        if all(isinstance(c, dict) and isinstance(c.get("messages"), list) for c in chats["list"]):
            return chats["list"]
    raise refuse(path, 1, NOT_TELEGRAM)


def _messages(path: Path, text: str, chat_document: dict, me: Author, left_out: Counter, others: set):
    found = []
    for message in chat_document["messages"]:
        line = _line(text, message)
        if not isinstance(message, dict) or message.get("type") not in ("message", "service"):
            raise refuse(path, line, 'a message must be an object with "type": "message" or "service"')
        if message["type"] == "service":
            left_out["service messages"] += 1
            continue
        words = _text(path, line, message.get("text", ""))
        sender, sender_id = message.get("from") or "", message.get("from_id") or ""
        mine = me.is_me(sender, sender_id)
        if not mine and sender:
            others.add(sender)
        if mine and "forwarded_from" in message:
            left_out["messages you forwarded (someone else's words)"] += 1
        elif not words.strip():
            left_out["media-only messages"] += 1
        else:
            when = _date(path, line, message.get("date"))
            found.append(chat.ChatMessage(str(message.get("id")), when, sender or sender_id, words.strip(), mine))
    return found


def _text(path: Path, line: int, value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p if isinstance(p, str) else p.get("text") if isinstance(p, dict) else None for p in value]
        if all(isinstance(p, str) for p in parts):
            return "".join(parts)
    raise refuse(path, line, '"text" must be a string or a list of strings and {"type", "text"} entities')


def _date(path: Path, line: int, value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value is not None else None
    except (TypeError, ValueError):
        raise refuse(path, line, f'"date" {value!r} is not an ISO date like "2023-12-31T21:41:05"') from None


def _line(text: str, message) -> int | None:
    """The line a message starts on, found by its id (json keeps no positions)."""
    if isinstance(message, dict) and isinstance(message.get("id"), int):
        match = re.search(rf'"id":\s*{message["id"]}\s*[,}}]', text)
        if match:
            return line_of(text, match.start())
    return None
