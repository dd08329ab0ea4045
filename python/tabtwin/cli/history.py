"""Saved conversations for `tabtwin chat --history FILE.json`.

The file is a JSON list of {"role", "content"} messages (or {"messages": [...]},
the shape of a finetune dataset line). The system prompt is never stored: it is
the model's own (tabtwin.system_prompt) or `--system`, so replaying a saved chat
against a twin always uses the prompt it was trained with.
"""

from __future__ import annotations

import json
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.inputs import read_text, unknown_key
from tabtwin.paths import write_text_atomic

ROLES = ("user", "assistant")
MESSAGE_KEYS = ("role", "content")


def load(path: Path) -> list[tuple[str, str]]:
    """The messages in `path` ([] when it does not exist yet), checked message by message; a problem
    names the file, the line of the message (for the plain list form) and the key."""
    if not path.exists():
        return []
    text = read_text(path, 'a chat history: a JSON list of {"role", "content"} messages')
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TabtwinError(f"{path}:{exc.lineno}: not a JSON history ({exc})") from None
    lines = _item_lines(text) if isinstance(data, list) else {}
    if isinstance(data, dict) and "messages" in data:
        data = data["messages"]
    if not isinstance(data, list):
        raise TabtwinError(f'{path}:1: a history is a JSON list of {{"role", "content"}} messages')
    messages = []
    for i, item in enumerate(data, 1):
        where = f"{path}:{lines.get(i, 1)}: message {i}"
        for key in item if isinstance(item, dict) else ():
            if key not in MESSAGE_KEYS:
                raise TabtwinError(f"{where}: {unknown_key(key, MESSAGE_KEYS)}")
        if not isinstance(item, dict) or not all(isinstance(item.get(key), str) for key in MESSAGE_KEYS):
            wrong = next(k for k in MESSAGE_KEYS if not isinstance(item, dict) or not isinstance(item.get(k), str))
            raise TabtwinError(
                f'{where}: key \'{wrong}\' must be a string; a message is {{"role", "content"}}, got {item!r:.80}'
            )
        role = item["role"]
        if role == "system":
            raise TabtwinError(
                f"{where} is a system message; the system prompt comes from the model "
                "(or --system), so a history holds only user and assistant turns"
            )
        expected = ROLES[(i - 1) % 2]
        if role != expected:
            raise TabtwinError(
                f"{where} has role {role!r}; turns alternate user, assistant, so it should be {expected!r}"
            )
        messages.append((role, item["content"]))
    return messages


def _item_lines(text: str) -> dict[int, int]:
    """1-based item number -> the line it starts on, for a document that is a JSON list."""
    decoder, lines = json.JSONDecoder(), {}
    at = text.index("[") + 1
    for number in range(1, 1 << 31):
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] == "]":
            break
        lines[number] = text.count("\n", 0, at) + 1
        _, at = decoder.raw_decode(text, at)
    return lines


def save(path: Path, messages: list[tuple[str, str]]) -> None:
    """Write the conversation atomically (an interrupted write leaves the old file)."""
    body = json.dumps([{"role": r, "content": c} for r, c in messages], ensure_ascii=False, indent=2) + "\n"
    write_text_atomic(path, body)
