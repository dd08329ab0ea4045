"""The fixture exports (written for these tests, with each format's quirks) and a way to run the verbs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXPORTS = Path(__file__).resolve().parent / "exports"
# --me for every fixture: Ada's display names, her address, her Telegram id and her X handle
ADA = "Ada Okonkwo,Ada,ada@example.org,user7,ada_ol"


@pytest.fixture
def persona(tmp_path) -> Path:
    folder = tmp_path / "persona"
    folder.mkdir()
    return folder


@pytest.fixture
def tabtwin(capsys):
    """Run `tabtwin ARGS...` in-process: (exit code, stdout, stderr)."""
    from tabtwin.cli import main

    def run(*args) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def records(persona: Path, fmt: str) -> list[dict]:
    path = persona / "imported" / f"{fmt}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def authored(items: list[dict]) -> list[str]:
    """Everything imported as the author's words: assistant turns and writing."""
    words = [i["text"] for i in items if i["kind"] == "writing"]
    return words + [m["content"] for i in items if i["kind"] == "conversation" for m in i["messages"][1::2]]
