"""A twin's refusals travel in its GGUF (`tabtwin.refusals`, the run config's `[data] dont_know`),
so the core can tell a visitor's page that the twin said it does not know: the page then lists the
turn's passages as "looked in", not as where an answer came from. The marking itself (a reply that
opens like a trained refusal) is tested in the core (refusal.rs, chat/tests.rs)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tabtwin import keys
from tabtwin._core import Chat, refusal_openings
from tabtwin.finetune.config import load
from tabtwin.finetune.export import twin_metadata

BASE = SimpleNamespace(spec="smollm2-135m-instruct", name="base.gguf", sha256="0" * 64)


def metadata(cfg) -> dict[str, str]:
    return twin_metadata(cfg, BASE, "1" * 64, {}, "q8_0")


def test_the_demo_twins_refusals_go_into_its_gguf_as_the_core_reads_them(root):
    cfg = load(root / "finetune/configs/demo.toml")
    assert cfg.data.dont_know
    written = metadata(cfg)[keys.REFUSALS]
    assert json.loads(written) == list(cfg.data.dont_know)
    # each line's opening, as the core compares replies with it
    assert refusal_openings(written) == ["i don't know", "i don't know", "that isn't in anything i've written"]


def test_a_twin_trained_without_refusals_carries_none(root):
    cfg = load(root / "finetune/configs/demo.toml")
    cfg.data.dont_know = ()
    assert keys.REFUSALS not in metadata(cfg)


def test_the_core_loads_a_twin_with_refusals_and_marks_nothing_before_a_reply(tmp_path):
    from tiny_gguf import write_tiny_llama

    raw = json.dumps(["I don't know; my notes don't say."])
    chat = Chat.from_path(write_tiny_llama(tmp_path / "twin.gguf", metadata={keys.REFUSALS: raw}))
    assert chat.info()["refusals"] == raw
    assert chat.refused() is False
    chat.generate("Where were you born?", max_tokens=4)
    assert isinstance(chat.refused(), bool)


@pytest.mark.parametrize("raw", ["I don't know.", "[1]", '["..."]', "{}"])
def test_refusals_the_core_would_not_load_are_refused_naming_the_key(raw):
    with pytest.raises(ValueError, match="'tabtwin.refusals': expected a JSON list of the twin's refusals"):
        refusal_openings(raw)
