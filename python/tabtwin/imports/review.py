"""`tabtwin import-sample`: imported records drawn at random and printed for the author to read
before training (what was masked, what became whose words)."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.imports import record
from tabtwin.imports.refusal import refuse
from tabtwin.inputs import read_text

SPEAKERS = {record.USER: "them", record.ASSISTANT: "you"}


def imported_records(persona_dir: Path, fmt: str | None = None) -> list[dict]:
    folder = Path(persona_dir) / record.IMPORTED_DIR
    files = [record.imported_file(persona_dir, fmt)] if fmt else sorted(folder.glob("*.jsonl"))
    found = []
    for file in (f for f in files if f.exists()):
        for number, line in enumerate(read_text(file, "imported records").splitlines(), 1):
            if line.strip():
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise refuse(file, number, f"not valid JSON ({exc.msg})") from None
    if not found:
        raise TabtwinError(f"{folder}: nothing imported yet; run tabtwin import PATH --me NAME --into {persona_dir}")
    return found


def sample(persona_dir: Path, n: int, seed: int | None = None, fmt: str | None = None) -> list[dict]:
    if n < 1:
        raise TabtwinError("-n must be at least 1")
    found = imported_records(persona_dir, fmt)
    return random.Random(seed).sample(found, min(n, len(found)))


def shown(item: dict, width: int = 100) -> str:
    """One record as the author reads it: its source, kind and id, then who said what, indented."""
    lines = [f"--- {item.get('source')} · {item.get('kind')} · {item.get('id')}"]
    if item.get("kind") == record.CONVERSATION:
        for message in item["messages"]:
            lines += [f"{SPEAKERS.get(message['role'], message['role'])}:", *_indented(message["content"], width)]
    else:
        lines += [f"title: {item.get('title')}", *_indented(item.get("text", ""), width)]
    return "\n".join(lines) + "\n"


def _indented(text: str, width: int) -> list[str]:
    return [
        textwrap.fill(p, width, initial_indent="  ", subsequent_indent="  ") if p.strip() else ""
        for p in text.split("\n")
    ]
