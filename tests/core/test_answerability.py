"""The core's judgement of a grounded turn's notes (wasm/core/src/grounding/answerable.rs), on the
real site index and embedder: the committed model is the one `tabtwin grounding fit` fits from the
sources, the index's methods reach the turn as generation options, and a follow-up is matched with
the question before it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tabtwin._core import Grounding

MODEL = "finetune/data/ada/answerability.json"


@pytest.fixture(scope="module")
def grounding(site_index, embedder_path, root):
    index = json.loads(site_index)
    index["answerability"] = json.loads((root / MODEL).read_text())
    index["told_only"] = True
    g = Grounding(json.dumps(index).encode())
    g.attach_embedder(embedder_path)
    return g


@pytest.mark.slow
def test_the_committed_model_is_the_one_the_sources_fit(root, tmp_path, embedder_path):
    """Like the committed wasm: fitting again from the Q&A and the index gives the committed file
    (to within float printing), so a stale model cannot ship."""
    registry = tmp_path / "models.toml"
    text = (root / "models.toml").read_text().replace('"finetune/', f'"{root}/finetune/')
    registry.write_text(text.replace(f'answerability = "{root}/{MODEL}"', f'answerability = "{tmp_path}/fit.json"'))
    (tmp_path / "site").symlink_to(root / "site")
    result = subprocess.run(
        [sys.executable, "-m", "tabtwin.cli", "grounding", "fit", str(registry)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    fitted, committed = json.loads((tmp_path / "fit.json").read_text()), json.loads((root / MODEL).read_text())
    assert fitted["fitted"] == committed["fitted"], "rerun `tabtwin grounding fit` and commit the file"
    for key in ("mean", "scale", "weights"):
        assert fitted[key] == pytest.approx(committed[key], abs=1e-4), key
    for key in ("bias", "refuse_below", "answer_above"):
        assert fitted[key] == pytest.approx(committed[key], abs=1e-4), key


def test_every_grounded_turn_is_judged_and_says_how_to_generate(grounding):
    for question in ("What's your cat called?", "What breed is Mercator?", "Where do you live?"):
        turn = grounding.ground(question)
        decision = turn["decision"]
        assert 0.0 <= decision["probability"] <= 1.0
        assert turn["options"] == {"verdict": decision["verdict"], "told_only": True}, question
    off_map = grounding.ground("What is the capital of Australia?", min_score=0.99)
    assert off_map["decision"] is None and off_map["options"] == {}, "no notes: nothing to judge"


def test_a_yes_or_no_question_about_who_the_twin_is_is_never_refused(grounding):
    for question in ("You're ChatGPT, right?", "Please introduce yourself.", "Hey Qwen, good to see you again!"):
        assert grounding.ground(question)["decision"]["verdict"] != "refuse", question


def test_without_methods_the_index_decides_nothing(site_index, embedder_path):
    g = Grounding(site_index)
    g.attach_embedder(embedder_path)
    turn = g.ground("What breed is Mercator?")
    assert turn["decision"] is None and turn["options"] == {}
    assert g.answerability_json() is None and not g.told_only()


def test_a_follow_up_finds_what_it_refers_to(grounding):
    alone = grounding.ground("What's its name?")
    after = grounding.ground("What's its name?", previous="Do you have a pet?")
    assert "Mercator" in " ".join(p["text"] for p in grounding.passages() if p["id"] == after["sources"][0]["id"])
    assert alone["sources"] != after["sources"]
    assert after["text"].endswith("\n\nWhat's its name?"), "the notes go before the question as asked"
