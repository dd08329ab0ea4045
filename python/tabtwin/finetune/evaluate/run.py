"""`evaluate`: the twin (and the base beside it) on every question, plain and grounded, scored and
written as the report beside the twin; and what the report's header records about the run."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.finetune.data.build import HOLDOUT_FILE, MANIFEST_FILE
from tabtwin.finetune.evaluate.answer_cache import AnswerCache
from tabtwin.finetune.evaluate.asking import DECODING, answer_all, decoding_words
from tabtwin.finetune.evaluate.questions import Question, collect_questions
from tabtwin.finetune.evaluate.report import report_rows, retrieval_line, rubric_line, write_report
from tabtwin.finetune.evaluate.retrieval import check_methods, grounded_runs, retrieval_report
from tabtwin.finetune.evaluate.rubric import by_kind, rubric
from tabtwin.finetune.evaluate.scoring import persona_name
from tabtwin.paths import shown


def open_model(spec: str | Path):
    from tabtwin._core import Chat
    from tabtwin.catalog import defaults as models

    path = Path(spec).expanduser()
    if not path.is_file():
        try:
            path = models.fetch(models.find(str(spec)), log=lambda *_: None)
        except KeyError as exc:
            raise TabtwinError(f"{spec}: no such GGUF file or default model id") from exc
    return path, Chat.from_path(path)


def model_record(path: Path) -> dict:
    from tabtwin.paths import sha256_file

    return {"path": shown(path), "sha256": sha256_file(path), "bytes": path.stat().st_size}


def holdout_data(gguf: Path, data_dir: Path) -> dict:
    """Whether the holdout asked is the one the twin was trained beside: the dataset sha256 its GGUF
    records (tabtwin.provenance, written by `tabtwin export`) against the manifest of the data in
    `data_dir`. Data built since (a seed added, the split drawn by another rule) can hold out wordings
    the twin trained on, and its holdout rows then overstate it; the canaries, written apart from the
    training data, are unaffected. None where either side is unknown (a stock model, no manifest)."""
    from tabtwin import keys
    from tabtwin.gguf.read import field, open_gguf

    provenance = json.loads(field(open_gguf(gguf), keys.PROVENANCE) or "{}")
    manifest = data_dir / MANIFEST_FILE
    built = json.loads(manifest.read_text()).get("dataset_sha256") if manifest.is_file() else None
    trained = provenance.get("dataset_sha256")
    same = None if trained is None or built is None else trained == built
    return {"twin_dataset_sha256": trained, "holdout_dataset_sha256": built, "same": same}


def holdout_data_note(gguf: Path, data_dir: Path, h: dict) -> str | None:
    trained, built = h["twin_dataset_sha256"], h["holdout_dataset_sha256"]
    if trained is None or trained == built:
        return None
    return (
        f"note: {gguf.name} was trained on dataset {trained[:12]}, but {data_dir} holds "
        + (f"dataset {built[:12]}" if built else "data without a manifest")
        + ": the holdout rows may ask wordings it trained on and overstate it (the canaries are unaffected)"
    )


def command_line(
    cfg,
    gguf: Path,
    limit: int | None,
    compare_base: str | None,
    no_base: bool = False,
    grounded: bool = False,
    methods: bool | tuple[str, ...] = False,
    sealed: bool = False,
) -> str:
    """The command that reruns this evaluation, for the report's header."""
    chosen = [w for name in methods for w in ("--method", name)] if isinstance(methods, tuple) else []
    words = ["tabtwin", "eval", shown(cfg.path)] + (chosen or ["--methods"] * bool(methods)) + ["--sealed"] * sealed
    if no_base:
        words.append("--no-base")
    if cfg.grounding.site is not None and not grounded:
        words.append("--no-grounding")
    if gguf != Path(cfg.export_path):
        words += ["--gguf", shown(gguf)]
    if limit is not None:
        words += ["--limit", str(limit)]
    if compare_base and compare_base != cfg.eval.compare_base:
        words += ["--base", str(compare_base)]
    return shlex.join(words)


def loss_curves(cfg, gguf: Path) -> list[Path]:
    """The training run's loss curve and the portable adapter's copy (one if they are the same picture)."""
    out, seen = [], set()
    for path in (cfg.train.output / "loss_curve.png", gguf.with_name(gguf.stem + ".adapter") / "loss_curve.png"):
        if path.is_file():
            data = path.read_bytes()
            if data.startswith(b"\x89PNG\r\n\x1a\n") and data not in seen:
                seen.add(data)
                out.append(path)
    return out


def evaluate(
    cfg,
    gguf: Path | None = None,
    limit: int | None = None,
    compare_base: str | None = None,
    log: Callable[[str], None] = print,
    grounding=None,
    no_base: bool = False,
    jobs: int = 1,
    reuse: bool = False,
    methods: bool | tuple[str, ...] = False,
    sealed: bool = False,
) -> dict:
    """`grounding`: the core's Grounding over the site's index (the CLI builds it from [grounding]
    site); every model then answers twice, as labelled, "<model>" without it and
    "<model>+grounding" with it, and the report adds the retrieval's own figures. `jobs`: processes
    answering at once (the same answers, sooner; see `answer_all`). `reuse`: an answer an earlier
    run gave to exactly the same prompt, model, core and decoding comes from the answer cache
    (answer_cache.py), and each new one is added to it: a rerun asks only what could change.
    `methods`: the grounded questions are also asked with each of the core's methods alone and with
    none (`GROUNDED_METHODS`), one row each (a tuple of their names: those alone); "<model>+grounding"
    is always the site as served.
    `sealed`: the sealed canaries alone, reported beside the twin as <twin>.sealed.eval.*."""
    check_methods(methods)
    gguf = Path(gguf or cfg.export_path)
    if not gguf.is_file():
        raise TabtwinError(f"{gguf}: no exported twin; run `tabtwin export {cfg.path}` first")
    questions, canaries = collect_questions(cfg, limit, sealed)
    trained_beside = holdout_data(gguf, cfg.data_dir)
    if note := holdout_data_note(gguf, cfg.data_dir, trained_beside):
        log(note)
    command = command_line(cfg, gguf, limit, compare_base, no_base, grounding is not None, methods, sealed)
    runs = {"twin": gguf}
    compare_base = None if no_base else compare_base or cfg.eval.compare_base
    if compare_base:
        runs["base"] = compare_base
    answers, models_used, sampling = answer_runs(cfg, runs, questions, canaries, log, grounding, jobs, reuse, methods)
    header = {
        "config": shown(cfg.path),
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "models": models_used,
        "holdout": shown(cfg.data_dir / HOLDOUT_FILE),
        "holdout_data": trained_beside,
        "canaries": shown(cfg.eval.sealed if sealed else cfg.eval.canaries) if canaries else None,
        "sealed": sealed,
    }
    curves = loss_curves(cfg, gguf)
    report = scored_report(cfg, header, sampling, questions, answers, canaries, grounding, curves)
    json_path, html_path = write_report(report, curves, gguf, sealed)
    for label in answers:
        log(f"{label}: " + rubric_line(report["summary"][label]["rubric"]))
    if report["retrieval"]:
        log("retrieval: " + retrieval_line(report["retrieval"]))
    log(f"report: {html_path}\n        {json_path}")
    return report


def answer_runs(
    cfg,
    runs: dict,
    questions: list[Question],
    canaries: list,
    log: Callable[[str], None],
    grounding,
    jobs: int,
    reuse: bool,
    methods: bool | tuple[str, ...],
) -> tuple[dict, dict, dict]:
    """Every run's answers by label (each model of `runs`, then its grounded runs), the model file
    each label ran, and the decoding all of them used."""
    answers, models_used, sampling = {}, {}, {}
    for label, spec in runs.items():
        path, chat = open_model(spec)
        if chat.system_prompt != cfg.system_prompt:
            if label == "twin":
                log(f"note: {path.name} does not carry this config's system prompt; using the config's")
            chat.set_system_prompt(cfg.system_prompt, force=True)
        if label == "twin":
            # decode as the page does: the twin's recommendation (its GGUF's general.sampling.*, else the
            # core's defaults), and the base exactly the same way, so the two are compared like for like
            recommended = chat.info()["sampling"]
            sampling = {k: recommended[k] for k in DECODING if k in recommended}
        log(
            f"{label}: {path} on {len(questions)} questions ({len(canaries)} canaries; "
            f"{decoding_words(sampling)}, max {cfg.eval.max_tokens} tokens)"
        )
        models_used[label] = model_record(path)
        cache = AnswerCache(models_used[label]["sha256"]) if reuse else None
        answers[label] = answer_all(chat, questions, cfg.eval.max_tokens, label, log, sampling, jobs=jobs, cache=cache)
        for suffix in grounded_runs(grounding, methods):
            grounded = f"{label}{suffix}"
            answers[grounded] = answer_all(
                chat, questions, cfg.eval.max_tokens, grounded, log, sampling, grounding, jobs=jobs, cache=cache
            )
            models_used[grounded] = models_used[label]
    return answers, models_used, sampling


def scored_report(
    cfg,
    header: dict,
    sampling: dict,
    questions: list[Question],
    answers: dict,
    canaries: list,
    grounding,
    curves: list[Path],
) -> dict:
    """The report: `header` (what ran, on what), how it decoded, every row's marks and the numbers."""
    persona, other_names = persona_name(cfg), list(cfg.eval.other_names)
    rows = report_rows(questions, answers, persona, other_names)
    return {
        **header,
        "persona": persona,
        "other_names": other_names,
        "max_tokens": cfg.eval.max_tokens,
        "sampling": sampling,
        "examples": len(rows),
        "loss_curves": [shown(p) for p in curves],
        "summary": {label: {"rubric": rubric(rows, label), "by_kind": by_kind(rows, label)} for label in answers},
        "retrieval": retrieval_report(grounding, canaries) if grounding is not None else None,
        "rows": rows,
    }
