"""`tabtwin.refusals` has one rule, the core's (wasm/core/src/refusal.rs). The build path, which loads
no native code, reads a model's header through the same core in wasmtime (`tabtwin.gguf.read.describe`,
`tabtwin inspect`): it must accept the lists the rule accepts and refuse, naming the key, the ones it
refuses."""

from __future__ import annotations

import json

import pytest

from tabtwin._core import refusal_openings as core_openings
from tabtwin.gguf.read import GgufError, describe

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


@pytest.mark.parametrize("raw", [c for c in CASES if c])  # gguf-py writes no empty string
def test_the_build_reads_a_twins_refusals_by_the_cores_rule(tmp_path, raw):
    from tiny_gguf import write_tiny_llama

    path = write_tiny_llama(tmp_path / "twin.gguf", metadata={"tabtwin.refusals": raw})
    try:
        core_openings(raw)
    except ValueError as refused:
        with pytest.raises(GgufError) as err:
            describe(path)
        assert str(err.value) == f"{path}: {refused}"
        return
    assert describe(path)["tabtwin"]["tabtwin.refusals"] == raw
