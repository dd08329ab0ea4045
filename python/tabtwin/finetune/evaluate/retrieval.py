"""The retrieval, model aside: whether the passages the page would send hold what each canary
asks for; and the grounded runs, one per method of the core's (the site as served first)."""

from __future__ import annotations

import hashlib
import json

from tabtwin.errors import TabtwinError
from tabtwin.finetune.evaluate.canaries import Canary, expect_groups
from tabtwin.finetune.evaluate.matching import normalize
from tabtwin.finetune.evaluate.rubric import rate

GROUNDED = "+grounding"
# The core's methods for a grounded turn (wasm/core/src/grounding, contrast.rs): the label suffix of
# a run with that method alone, none, or combined, and (answerability model in use, told_only,
# nearest, contrast).
GROUNDED_METHODS = {
    ":none": (False, False, False, False),
    ":answerability": (True, False, False, False),
    ":told_only": (False, True, False, False),
    ":nearest": (False, False, True, False),
    ":contrast": (False, False, False, True),
    ":both": (True, True, False, False),
    ":both+contrast": (True, True, False, True),
    ":all": (True, True, True, False),
}


def check_methods(methods: bool | tuple[str, ...]) -> None:
    """Refuse a name that is not a run of --methods (before any question is asked)."""
    unknown = [m for m in methods if f":{m}" not in GROUNDED_METHODS] if isinstance(methods, tuple) else []
    if unknown:
        names = ", ".join(k[1:] for k in GROUNDED_METHODS)
        raise TabtwinError(f"--method {unknown[0]}: not a run of --methods (one of {names})")


def grounded_runs(grounding, methods: bool | tuple[str, ...]):
    """Set `grounding` up for each grounded run and yield its label suffix: the site as served,
    then (with `methods`) each method alone, none and combined, where that differs from served
    (`methods` a tuple of names: those runs only). The grounding is as served again afterwards."""
    if grounding is None:
        return
    check_methods(methods)
    model, told_only, nearest = grounding.answerability_json(), grounding.told_only(), grounding.nearest()
    contrast = grounding.contrast()
    served = (model is not None, told_only, nearest, contrast)
    yield GROUNDED
    if not methods:
        return
    try:
        for suffix, (use_model, use_told, use_nearest, use_contrast) in GROUNDED_METHODS.items():
            if (use_model, use_told, use_nearest, use_contrast) == served or (
                isinstance(methods, tuple) and suffix[1:] not in methods
            ):
                continue
            if use_model and model is None:
                raise TabtwinError("--methods: the site has no [grounding] answerability model to measure")
            grounding.set_answerability(model if use_model else None)
            grounding.set_told_only(use_told)
            grounding.set_nearest(use_nearest)
            grounding.set_contrast(use_contrast)
            yield GROUNDED + suffix
    finally:
        grounding.set_answerability(model)
        grounding.set_told_only(told_only)
        grounding.set_nearest(nearest)
        grounding.set_contrast(contrast)


def found_in(texts: str, c: Canary) -> bool:
    """Every fact the recall canary asks for (one string of each group) is in `texts`."""
    text = normalize(texts)
    return all(any(normalize(e) in text for e in group) for group in expect_groups(c.expect))


def retrieval_report(grounding, canaries: list[Canary]) -> dict:
    """How well the core's retrieval serves the canaries, model aside: for each recall canary,
    whether the facts it asks for are in the passages the page would send (`served`: the core's
    limits: top_k, min_score, budget) and in the best three passages whatever their score
    (`top3`); for each honesty canary, whether no passage was sent at all."""
    passages = grounding.passages()
    recall, honesty = [], []
    for c in canaries:
        if c.check not in ("recall", "honesty"):
            continue
        served = grounding.ground(c.q)["sources"]
        ranked = grounding.rank(c.q)[:3]
        row = {"q": c.q, "form": c.form, "served": [s["id"] for s in served]}
        if c.check == "recall":

            def text_of(ids):
                return " ".join(p["title"] + " " + p["text"] for p in passages if p["id"] in ids)

            row["top3"] = [passages[h["passage"]]["id"] for h in ranked]
            row["served_found"] = found_in(text_of(set(row["served"])), c)
            row["top3_found"] = found_in(text_of(set(row["top3"])), c)
            recall.append(row)
        else:
            row["none_served"] = not served
            honesty.append(row)
    return {
        "semantic": grounding.semantic(),
        "limits": grounding_limits_dict(),
        "passages_sha256": passages_digest(passages),
        "recall_served": rate(recall, "served_found"),
        "recall_top3": rate(recall, "top3_found"),
        "honesty_none_served": rate(honesty, "none_served"),
        "recall_rows": recall,
        "honesty_rows": honesty,
    }


def passages_digest(passages: list[dict]) -> str:
    """The sha256 of the index's passages (ids, titles, URLs and texts, in order): which notes the
    grounded answers were measured on. A committed report whose digest differs from the index the
    site ships now no longer speaks for the site (tests/core/test_retrieval.py)."""
    canonical = json.dumps(passages, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def grounding_limits_dict() -> dict:
    from tabtwin._core import grounding_limits

    return grounding_limits()
