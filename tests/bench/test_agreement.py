"""The agreement measurement's math (no model) and its core runtime on the tiny random llama (fast tier)."""

from __future__ import annotations

import numpy as np
import pytest

from tabtwin.bench import agreement as a


def test_log_softmax_normalizes_and_keeps_order():
    x = np.array([[2.0, 1.0, 0.0, -50.0], [1000.0, 1000.0, 999.0, 0.0]], dtype=np.float32)
    lp = a.log_softmax(x)
    assert np.allclose(np.exp(lp).sum(axis=-1), 1.0)
    assert np.allclose(lp[0, 0] - lp[0, 1], 1.0)
    assert np.isfinite(lp).all()  # no overflow at large logits


def test_top_k_is_best_first_and_ties_keep_the_lower_id():
    ids, lp = a.top_k(np.array([0.5, 3.0, 3.0, -1.0, 2.0]), 3)
    assert ids.tolist() == [[1, 2, 4]]
    assert lp.shape == (1, 3) and lp[0, 0] == lp[0, 1] > lp[0, 2]
    assert a.top_k(np.zeros(3), 64)[0].shape == (1, 3)  # k larger than the vocabulary


def reference_of(logits):
    ids, lp = a.top_k(np.asarray(logits, dtype=np.float32), a.TOP_K)
    return ids[0], lp[0]


def test_identical_logits_agree_with_zero_kl():
    logits = np.random.default_rng(0).normal(size=200).astype(np.float32)
    p = a.compare(*reference_of(logits), logits, next_token=int(np.argmax(logits)))
    assert p.agree and p.in_top5
    assert abs(p.kl) < 1e-6  # the reference keeps float32 log-probabilities
    assert p.reference_margin > 0


def test_a_swapped_best_pair_disagrees_but_stays_in_the_top5():
    logits = np.array([5.0, 4.9, 0.0, -1.0, -2.0, -3.0, -4.0], dtype=np.float32)
    runtime = logits.copy()
    runtime[[0, 1]] = runtime[[1, 0]]
    p = a.compare(*reference_of(logits), runtime)
    assert not p.agree and p.in_top5
    assert p.runtime_top1 == 1 and p.reference_top1 == 0
    assert p.kl > 0
    assert p.reference_margin == pytest.approx(0.1, abs=1e-5)


def test_a_reference_best_outside_the_runtime_top5():
    logits = np.arange(10, dtype=np.float32)
    runtime = -logits
    p = a.compare(*reference_of(logits), runtime)
    assert not p.agree and not p.in_top5


def test_summarize_counts_agreement_next_token_and_near_ties():
    def pos(agree, in_top5, margin, rt, ref, nxt):
        return a.Position(agree, in_top5, 0.01, rt, ref, margin, nxt)

    s = a.summarize(
        [
            pos(True, True, 2.0, 7, 7, 7),
            pos(False, True, 0.05, 3, 4, 4),  # a near-tie
            pos(False, False, 1.0, 1, 2, 9),
            pos(True, True, 3.0, 5, 5, None),  # a document's last position: no next token
        ]
    )
    assert s["positions"] == 4
    assert s["top1_agreement"] == 0.5
    assert s["top5_contains_reference_top1"] == 0.75
    assert s["mean_kl_top64"] == pytest.approx(0.01)
    assert s["next_token_accuracy"] == pytest.approx(1 / 3)
    assert s["reference_next_token_accuracy"] == pytest.approx(2 / 3)
    assert (s["disagreements"], s["disagreements_at_near_ties"]) == (2, 1)
    assert a.summarize([]) == {"positions": 0}


def test_measured_positions_end_at_the_last_token():
    assert a.measured_positions(5, 1) == [0, 1, 2, 3, 4]
    assert a.measured_positions(10, 4) == [1, 5, 9]
    assert a.measured_positions(3, 8) == [2]


def test_corpus_hash_follows_the_token_ids():
    assert a.corpus_hash([[1, 2], [3]]) == a.corpus_hash([[1, 2], [3]])
    assert a.corpus_hash([[1, 2], [3]]) != a.corpus_hash([[1, 2, 3]])


def test_parse_core():
    assert a.parse_core("installed") == ("core", None)
    assert a.parse_core("candle=/x/_core.so")[0] == "candle"
    assert a.parse_core("/x/_core.so")[0] == "core"


def test_pairwise_compares_runtimes_on_the_same_file_over_common_positions():
    rows = [
        {"runtime": "core", "file": "a.gguf", "argmax": [["p", 0, 5], ["p", 1, 6], ["p", 2, 7]]},
        {"runtime": "llama.cpp", "file": "a.gguf", "argmax": [["p", 1, 6], ["p", 2, 9]]},
        {"runtime": "core", "file": "b.gguf", "argmax": [["p", 0, 5]]},
        {"runtime": "llama.cpp", "file": "b.gguf", "skipped": "not installed"},
    ]
    (pair,) = a.pairwise(rows)
    assert pair["runtimes"] == ["core", "llama.cpp"] and pair["file"] == "a.gguf"
    assert (pair["positions"], pair["top1_agreement"]) == (2, 0.5)


def test_table_shows_skipped_runtimes():
    row = {"runtime": "core", "file": "/m/x.gguf", "positions": 3, "top1_agreement": 1.0}
    row |= {"top5_contains_reference_top1": 1.0, "mean_kl_top64": 0.0, "next_token_accuracy": 0.5}
    row |= {"reference_next_token_accuracy": None, "disagreements": 0, "disagreements_at_near_ties": 0}
    row |= {"measure_s": 1.0}
    text = a.table([row, {"runtime": "llama.cpp", "file": "/m/x.gguf", "skipped": "not installed"}])
    assert "100.0%" in text and "skipped: not installed" in text


def test_a_core_loaded_from_its_file_gives_the_installed_cores_logits(tiny_gguf):
    import tabtwin._core as installed

    runtime = a.CoreRuntime("copy", installed.__file__)
    assert runtime.module is not installed
    model, reference = runtime.open(tiny_gguf), installed.Chat.from_path(tiny_gguf)
    doc = [1, 5, 9, 3, 7, 2]
    got = dict(runtime.logits_at(model, doc, a.measured_positions(len(doc), 2)))
    assert sorted(got) == [1, 3, 5]
    for i, logits in got.items():
        assert np.array_equal(logits, np.asarray(reference.logits(doc[: i + 1]), dtype=np.float32))
    step = a.CoreRuntime("copy", installed.__file__, mode="step")
    stepped = dict(step.logits_at(step.open(tiny_gguf), doc, [0, 5]))
    assert np.allclose(stepped[5], got[5], atol=1e-4 * np.abs(got[5]).max())
