"""`tabtwin data stats`: what the persona's files turn into, and whether it fits the context.

Nothing is truncated silently anywhere in tabtwin: an example longer than
max_seq_len is listed here and refused by `data build` (and by `train`); an imported one is left out
by both and counted with what else was left out of the imported archives (data/curate.py).
"""

from __future__ import annotations

import time

from tabtwin.finetune import batches
from tabtwin.finetune.config import RunConfig
from tabtwin.finetune.data.build import Lengths, Split, counts, measure, split, without_long_imports
from tabtwin.finetune.data.curate import DROPPED


def stats(cfg: RunConfig, tokenizer, context: int | None = None) -> dict:
    started = time.perf_counter()
    result: Split = split(cfg)
    read_s = time.perf_counter() - started
    lengths: Lengths = measure(result.train + result.holdout, tokenizer, cfg.train.max_seq_len, context)
    lengths = without_long_imports(result, lengths)
    train_tokens = lengths.tokens[: len(result.train)]
    kinds = sorted(set(counts(result.train)) | set(counts(result.holdout)))
    per_kind = {
        k: {"train": counts(result.train).get(k, 0), "holdout": counts(result.holdout).get(k, 0)} for k in kinds
    }
    t = cfg.train
    steps = len(batches.steps([min(n, t.max_seq_len) for n in train_tokens], t, 0)) if result.train else 0
    return {
        "persona": str(cfg.data.persona),
        "files": result.persona.files,
        "imported": result.curation.to_json(),
        "per_kind": per_kind,
        "train": len(result.train),
        "holdout": len(result.holdout),
        "tokens": summary(lengths.tokens),
        "supervised_tokens": summary(lengths.supervised),
        "train_tokens_per_epoch": sum(train_tokens),
        "max_seq_len": t.max_seq_len,
        "context_length": context,
        "over_max_seq_len": lengths.too_long,
        "steps_per_epoch": steps,
        "epochs": t.epochs,
        "seconds": {"read": round(read_s, 2), "tokens": round(time.perf_counter() - started - read_s, 2)},
    }


def summary(values: list[int]) -> dict:
    if not values:
        return {"min": 0, "median": 0, "p95": 0, "max": 0}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"min": ordered[0], "median": pick(0.5), "p95": pick(0.95), "max": ordered[-1]}


def format_stats(s: dict) -> str:
    lines = [
        f"persona  {s['persona']}",
        "files    " + ", ".join(f"{name} ({n})" for name, n in s["files"].items()),
        "",
        f"{'source/kind':<28}{'train':>7}{'holdout':>9}",
    ]
    width = max([28] + [len(kind) + 2 for kind in s["per_kind"]])
    lines[-1] = f"{'source/kind':<{width}}{'train':>7}{'holdout':>9}"
    for kind, c in s["per_kind"].items():
        lines.append(f"{kind:<{width}}{c['train']:>7}{c['holdout']:>9}")
    lines.append(f"{'total':<{width}}{s['train']:>7}{s['holdout']:>9}")
    lines += format_imported(s["imported"])
    tok, sup = s["tokens"], s["supervised_tokens"]
    ctx = f", model context {s['context_length']}" if s["context_length"] else ""
    lines += [
        "",
        f"tokens per example (max_seq_len {s['max_seq_len']}{ctx}):",
        f"  all         min {tok['min']}, median {tok['median']}, p95 {tok['p95']}, max {tok['max']}",
        f"  supervised  min {sup['min']}, median {sup['median']}, p95 {sup['p95']}, max {sup['max']}",
        f"  per epoch   {s['train_tokens_per_epoch']} tokens in {s['steps_per_epoch']} optimizer steps "
        f"({s['epochs']} epochs configured)",
    ]
    over = s["over_max_seq_len"]
    if over:
        lines += [
            "",
            f"{len(over)} example(s) longer than max_seq_len (would be truncated; `data build` refuses them):",
        ] + [f"  {line}" for line in over]
    else:
        lines.append("  truncation  none: every example fits max_seq_len")
    if "seconds" in s:
        lines += ["", f"read and checked in {s['seconds']['read']:.1f} s, tokenized in {s['seconds']['tokens']:.1f} s"]
    return "\n".join(lines)


def format_imported(imported: dict[str, dict[str, int]]) -> list[str]:
    """What was kept of each imported archive and why the rest was not (data/curate.py), or nothing."""
    if not imported:
        return []
    lines = ["", "imported (conversations or paragraphs; [data] max_per_source, min_answer_chars, ...):"]
    width = max(len(source) for source in imported) + 2
    for source, c in imported.items():
        dropped = ", ".join(f"{c[reason]} {reason.replace('_', ' ')}" for reason in DROPPED if c.get(reason))
        lines.append(
            f"  {source:<{width}}{c['kept']:>7} kept of {c['read']}" + (f"; left out: {dropped}" if dropped else "")
        )
    return lines
