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
from tabtwin.paths import write_text_atomic

ROLES = ("user", "assistant")


def load(path: Path) -> list[tuple[str, str]]:
    """The messages in `path` ([] when it does not exist yet), checked message by message."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise TabtwinError(f"{path}{where}: not a JSON history ({exc})") from None
    if isinstance(data, dict) and "messages" in data:
        data = data["messages"]
    if not isinstance(data, list):
        raise TabtwinError(f'{path}: a history is a JSON list of {{"role", "content"}} messages')
    messages = []
    for i, item in enumerate(data, 1):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("role"), str)
            or not isinstance(item.get("content"), str)
        ):
            raise TabtwinError(f'{path}: message {i} needs string "role" and "content" keys, got {item!r:.80}')
        role = item["role"]
        if role == "system":
            raise TabtwinError(
                f"{path}: message {i} is a system message; the system prompt comes from the model "
                "(or --system), so a history holds only user and assistant turns"
            )
        expected = ROLES[(i - 1) % 2]
        if role != expected:
            raise TabtwinError(
                f"{path}: message {i} has role {role!r}; turns alternate user, assistant, so it should be {expected!r}"
            )
        messages.append((role, item["content"]))
    return messages


def save(path: Path, messages: list[tuple[str, str]]) -> None:
    """Write the conversation atomically (an interrupted write leaves the old file)."""
    body = json.dumps([{"role": r, "content": c} for r, c in messages], ensure_ascii=False, indent=2) + "\n"
    write_text_atomic(path, body)
