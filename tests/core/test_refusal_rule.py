"""`tabtwin.refusals` has one rule, the core's (wasm/core/src/refusal.rs); the build path, which
loads no native code, checks it with a Python copy (tabtwin.gguf.read.refusal_openings). Both must
give the same openings for a good list and refuse the same bad ones."""

from __future__ import annotations

import json

import pytest

from tabtwin._core import refusal_openings as core_openings
from tabtwin.gguf.read import refusal_openings

CASES = [
    json.dumps(["I don't know; my notes don't say.", "That isn't in anything I've written, so I don't know."]),
    json.dumps(["  I DON\u2019T   know. Really", "No idea!", "Hmm: maybe", "Who knows?"]),
    json.dumps(["Jag vet inte, tyvärr.", "Ich weiß es nicht."]),
    json.dumps([]),
    json.dumps(["; nothing before"]),
    json.dumps(["ok", "   ."]),
    json.dumps("I don't know."),
    json.dumps({"a": 1}),
    "[1, 2]",
    '["unterminated',
    "",
]


@pytest.mark.parametrize("raw", CASES)
def test_the_python_rule_gives_the_cores_answer(raw):
    try:
        want = core_openings(raw)
    except ValueError:
        with pytest.raises(ValueError, match="expected a JSON list of the twin's refusals"):
            refusal_openings(raw)
        return
    assert refusal_openings(raw) == want
