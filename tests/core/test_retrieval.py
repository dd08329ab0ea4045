"""Grounding in the core, through the Python binding the evaluation and the data build use: the
site's index with its passage vectors (made by the build, running the core in wasmtime), the core's own
all-MiniLM-L6-v2 on the same GGUF for the question, and retrieval by meaning and by words."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from tabtwin._core import Grounding, grounding_limits, render_grounded_turn


def passage_vectors(index: bytes) -> np.ndarray:
    rows = json.loads(index)["passages"]
    return np.stack([np.frombuffer(base64.b64decode(p["vector"]), dtype="<f2").astype(np.float32) for p in rows])


@pytest.fixture(scope="module")
def grounding(site_index, embedder_path):
    g = Grounding(site_index)
    g.attach_embedder(embedder_path)
    return g


def test_the_core_embeds_as_the_build_does(grounding, site_index):
    """The page embeds the question in wasm, the build embedded the passages with the same core in
    wasmtime: the same vectors."""
    rows = grounding.passages()
    stored = passage_vectors(site_index)
    picked = list(range(0, len(rows), max(1, len(rows) // 12)))
    core = np.array([grounding.embed(rows[i]["text"]) for i in picked], dtype=np.float32)
    cosines = np.sum(core * stored[picked], axis=1) / np.linalg.norm(stored[picked], axis=1)
    assert cosines.min() > 0.999, cosines  # float16 storage of the build's vectors
    assert np.allclose(np.linalg.norm(core, axis=1), 1.0, atol=1e-5)


def test_a_paraphrase_finds_its_passage_by_meaning(site_index, grounding):
    words_only = Grounding(site_index)
    assert grounding.semantic() and not words_only.semantic()
    question = "ur hometown?"  # shares no word with "born in Uppsala"

    def served(g):
        ids = {s["id"] for s in g.ground(question)["sources"]}
        return " ".join(p["text"] for p in g.passages() if p["id"] in ids)

    assert "Uppsala" in served(grounding), grounding.ground(question)
    assert served(words_only) == "", "by words alone the question matches nothing"


def test_the_grounded_turn_is_the_rendered_block_then_the_question(grounding):
    grounded = grounding.ground("Which of your tools prints tide tables?")
    assert grounded["sources"] and grounded["sources"][0]["url"] in ("projects/", "")
    used = [p for s in grounded["sources"] for p in grounding.passages() if p["id"] == s["id"]]
    assert grounded["text"] == render_grounded_turn("Which of your tools prints tide tables?", used)
    assert len(grounded["sources"]) <= grounding_limits()["top_k"]


def test_an_embedder_the_index_was_not_built_with_is_refused(site_index, tmp_path, embedder_path):
    other = tmp_path / "other.gguf"
    other.write_bytes(embedder_path.read_bytes() + b"\0")
    g = Grounding(site_index)
    with pytest.raises(ValueError, match="is not the all-MiniLM-L6-v2 the index was built with"):
        g.attach_embedder(other)
    assert not g.semantic()


@pytest.mark.parametrize("twin", ["ada-smollm2-135m", "ada-qwen2.5-0.5b"])
def test_the_committed_evaluations_were_grounded_as_the_site_grounds_now(grounding, root, twin):
    """A committed evaluation speaks for the site only while its grounded questions carry the notes
    the shipped index brings them: the same passages (ids, titles, URLs, texts), the same limits and
    the same picks. Editing the pages or the Q&A changes them; the twins are then evaluated again."""
    from tabtwin.finetune.evaluate.retrieval import passages_digest

    report = json.loads((root / f"finetune/twins/{twin}.eval.json").read_text())
    retrieval = report["retrieval"]
    assert retrieval["passages_sha256"] == passages_digest(grounding.passages()), f"{twin}: re-run tabtwin eval"
    assert retrieval["limits"] == grounding_limits() and retrieval["semantic"]

    def picks(row):  # a follow-up is matched with the question before it, as the page does
        return [s["id"] for s in grounding.ground(row["question"], previous=row.get("previous"))["sources"]]

    stale = [r["question"] for r in report["rows"] if r["twin+grounding"]["sources"] != picks(r)]
    assert not stale, f"{twin}: {len(stale)} questions now get other notes, e.g. {stale[:3]}"
