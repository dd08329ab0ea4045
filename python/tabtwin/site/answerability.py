"""`tabtwin grounding fit [models.toml]`: fit the site's answerability model, the core's judgement of
whether a turn's notes answer its question (wasm/core/src/grounding/answerable.rs), on the author's
own Q&A (answerable) and the near-miss questions the core generates from it (unanswerable), over the
index `python build.py` publishes. Writes the JSON that [grounding] answerability names; the build
puts it in the index. Runs the native core (the fit is the core's, like the decision)."""

from __future__ import annotations

import json
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.paths import shown, write_text_atomic


def fit(registry_path: Path, log=print) -> Path:
    from tabtwin._core import Grounding
    from tabtwin.site.grounding import index_for
    from tabtwin.site.registry import load_grounding

    config = load_grounding(registry_path, fitting=True)
    if config is None:
        raise TabtwinError(f"{registry_path}: no [grounding] table: nothing to fit")
    if config.answerability is None:
        raise TabtwinError(
            f"{registry_path}: [grounding] answerability: name the file to write "
            '(answerability = "finetune/data/PERSONA/answerability.json")'
        )
    if config.qa is None:
        raise TabtwinError(
            f"{registry_path}: [grounding] qa: the fit learns from the persona's Q&A; name its seeds.jsonl"
        )
    data, embedder = index_for(registry_path, log, fitting=True)
    if embedder is None:
        raise TabtwinError(f"{registry_path}: [grounding] embedder: the answerability model needs the embedder")
    grounding = Grounding(data)
    grounding.attach_embedder(embedder)
    model = grounding.fit_answerability(config.qa.read_text(encoding="utf-8"))
    write_text_atomic(config.answerability, model + "\n")
    fitted = json.loads(model)["fitted"]
    log(
        f"answerability: fitted on {fitted['answerable']} answerable Q&A wordings and {fitted['near_miss']} "
        f"generated near-miss questions; sure to answer {fitted['answerable_sure']}, sure to refuse "
        f"{fitted['near_miss_sure']}; {fitted['answerable_refused']} answerable refused, "
        f"{fitted['near_miss_forced']} near-misses forced (at most {fitted['may_refuse']:.0%} and "
        f"{fitted['may_force']:.0%} by rule)\nwrote {shown(config.answerability)}"
    )
    return config.answerability
