"""`tabtwin eval CONFIG`: the exported twin on the holdout, run by the native core (the browser's code).

For every holdout conversation the core answers its first question (greedy, the
twin's own system prompt) and the answer is scored against the expected one and,
for a held-out seed question, against every answer variant of that seed:
  - exact     same text after lower-casing and dropping punctuation/extra spaces;
  - contains  an expected answer appears inside the reply (the same normalisation);
  - f1        word-overlap F1 with the closest expected answer (partial recall);
  - tool      a TOOL line was expected: the reply opened that app with those params;
              none was expected: the reply opened nothing;
  - stop      the reply ended by itself (end of turn) within max_tokens.
Only first turns are scored: the binding cannot seed a conversation's history, and
generating earlier turns would score the model on its own earlier answers.

`[eval] canaries` adds questions of your own (seeds.jsonl format: every question
variant is asked, any answer variant counts), e.g. identity and "I don't know"
checks, scored by kind like the holdout.

Writes <twin>.eval.json and <twin>.eval.md beside the GGUF. With `[eval]
compare_base` (a GGUF or a default model id) the base model answers the same
questions with the same system prompt, side by side.
"""
from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable

from .data.build import HOLDOUT_FILE, Example, read_examples
from .data.sources import TOOL_PREFIX


def parse_answer(text: str) -> dict:
    """Split an assistant text like the core's channel parser: thought, visible text, TOOL lines."""
    thinking = None
    m = re.match(r"<think>(.*?)</think>\n*", text, re.DOTALL)
    if m:
        thinking, text = m.group(1), text[m.end():]
    tools, lines = [], []
    for line in text.split("\n"):
        if line.startswith(TOOL_PREFIX):
            try:
                tool = json.loads(line[len(TOOL_PREFIX):])
                tools.append({"app": tool.get("app"), "params": tool.get("params", {})})
                continue
            except (json.JSONDecodeError, AttributeError):
                pass
        lines.append(line)
    return {"text": "\n".join(lines).strip(), "thinking": thinking, "tools": tools}


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def f1(reply: str, expected: str) -> float:
    a, b = normalize(reply).split(), normalize(expected).split()
    if not a or not b:
        return float(a == b)
    common = sum(min(a.count(w), b.count(w)) for w in set(a))
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def score(reply: dict, accept: list[dict], stop_reason: str | None) -> dict:
    got = normalize(reply["text"])
    texts = [normalize(a["text"]) for a in accept]
    expected_tools = accept[0]["tools"]
    if expected_tools:
        want = expected_tools[0]
        tool_ok = any(t["app"] == want["app"] and t["params"] == want["params"] for t in reply["tools"])
        app_ok = any(t["app"] == want["app"] for t in reply["tools"])
    else:
        tool_ok = app_ok = not reply["tools"]
    return {
        "exact": any(got == t for t in texts),
        "contains": any(t and t in got for t in texts),
        "f1": max((f1(reply["text"], a["text"]) for a in accept), default=0.0),
        "tool_expected": bool(expected_tools),
        "tool": tool_ok,
        "tool_app": app_ok,
        "stop": stop_reason == "end_of_turn",
    }


def answer_all(chat, examples: list[Example], max_tokens: int, label: str,
               log: Callable[[str], None]) -> list[dict]:
    out = []
    started = time.monotonic()
    for i, ex in enumerate(examples, 1):
        question = next(m["content"] for m in ex.messages if m["role"] == "user")
        events = []
        chat.reset()
        chat.generate(question, max_tokens=max_tokens, on_event=lambda e: events.append(json.loads(e)) or True)
        reply = {"text": "".join(e["text"] for e in events if e["kind"] == "text").strip(),
                 "thinking": "".join(e["text"] for e in events if e["kind"] == "thinking") or None,
                 "tools": [{"app": e["app"], "params": e["params"]} for e in events if e["kind"] == "tool"]}
        out.append({"reply": reply, "raw": chat.last_reply_raw(), "stop_reason": chat.stop_reason()})
        if i % 10 == 0 or i == len(examples):
            log(f"  {label}: {i}/{len(examples)} answered ({time.monotonic() - started:.0f} s)")
    return out


def summarize(rows: list[dict]) -> dict:
    def agg(items):
        n = len(items)
        tool_items = [r for r in items if r["tool_expected"]]
        return {
            "n": n,
            "exact": sum(r["exact"] for r in items) / n if n else None,
            "contains": sum(r["contains"] for r in items) / n if n else None,
            "f1": sum(r["f1"] for r in items) / n if n else None,
            "tool_accuracy": sum(r["tool"] for r in tool_items) / len(tool_items) if tool_items else None,
            "tool_app_accuracy": sum(r["tool_app"] for r in tool_items) / len(tool_items) if tool_items else None,
            "no_stray_tool": (sum(r["tool"] for r in items if not r["tool_expected"])
                              / max(1, n - len(tool_items))) if n > len(tool_items) else None,
            "clean_stop": sum(r["stop"] for r in items) / n if n else None,
        }
    by_kind = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r)
    return {"all": agg(rows), "by_kind": {k: agg(v) for k, v in sorted(by_kind.items())}}


def canary_examples(cfg) -> list[Example]:
    """[eval] canaries: a seeds.jsonl-format file; each question variant is asked, any answer variant counts."""
    from .data.build import conversation
    from .data.sources import DataError, assistant_text, read_seeds

    path = Path(cfg.eval.canaries)
    if not path.is_file():
        raise ValueError(f"[eval] canaries: {path}: no such file")
    problems: list[str] = []
    seeds = read_seeds(path, cfg.data.apps, problems)
    if problems:
        raise DataError(problems)
    out = []
    for seed in seeds:
        answers = [assistant_text(seed, a) for a in seed.answers]
        for question in seed.questions:
            out.append(Example(conversation(cfg.system_prompt, question, answers[0]), seed.kind, "canaries",
                               seed.where, answers))
    return out


def open_model(spec: str | Path):
    from . import models
    from ._core import Chat

    path = Path(spec).expanduser()
    if not path.is_file():
        try:
            path = models.fetch(models.find(str(spec)), log=lambda *_: None)
        except KeyError as exc:
            raise ValueError(f"{spec}: no such GGUF file or default model id") from exc
    return path, Chat.from_path(path)


def evaluate(cfg, gguf: Path | None = None, limit: int | None = None, compare_base: str | None = None,
             log: Callable[[str], None] = print) -> dict:
    gguf = Path(gguf or cfg.export_path)
    if not gguf.is_file():
        raise ValueError(f"{gguf}: no exported twin; run `tabtwin export {cfg.path}` first")
    examples = read_examples(cfg.data_dir / HOLDOUT_FILE)
    limit = cfg.eval.limit if limit is None else limit
    if limit:
        examples = examples[:limit]
    if cfg.eval.canaries:
        examples += canary_examples(cfg)
    if not examples:
        raise ValueError(f"{cfg.data_dir / HOLDOUT_FILE} is empty and there are no canaries: set [data] holdout "
                         "above 0 or [eval] canaries to evaluate")
    runs = {"twin": gguf}
    compare_base = compare_base or cfg.eval.compare_base
    if compare_base:
        runs["base"] = compare_base
    results, models_used = {}, {}
    for label, spec in runs.items():
        path, chat = open_model(spec)
        if chat.system_prompt != cfg.system_prompt:
            if label == "twin":
                log(f"note: {path.name} does not carry this config's system prompt; using the config's")
            chat.set_system_prompt(cfg.system_prompt, force=True)
        log(f"{label}: {path} on {len(examples)} holdout questions (greedy, max {cfg.eval.max_tokens} tokens)")
        results[label] = answer_all(chat, examples, cfg.eval.max_tokens, label, log)
        models_used[label] = str(path)

    rows = []
    for i, ex in enumerate(examples):
        answer_idx = next(j for j, m in enumerate(ex.messages) if m["role"] == "assistant")
        accept = [parse_answer(a) for a in (ex.accept or [ex.messages[answer_idx]["content"]])]
        row = {"where": ex.where, "kind": f"{ex.source}/{ex.kind}",
               "question": ex.messages[answer_idx - 1]["content"],
               "expected": ex.messages[answer_idx]["content"]}
        for label, answers in results.items():
            a = answers[i]
            row[label] = {"reply": a["raw"], "stop_reason": a["stop_reason"],
                          **score(a["reply"], accept, a["stop_reason"])}
        rows.append(row)
    report = {"config": str(cfg.path), "models": models_used, "holdout": str(cfg.data_dir / HOLDOUT_FILE),
              "max_tokens": cfg.eval.max_tokens, "examples": len(rows),
              "summary": {label: summarize([{**r[label], "kind": r["kind"]} for r in rows]) for label in results},
              "rows": rows}
    json_path = gguf.with_name(gguf.stem + ".eval.json")
    md_path = gguf.with_name(gguf.stem + ".eval.md")
    json_path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    md_path.write_text(markdown(report))
    s = report["summary"]["twin"]["all"]
    log(f"twin: exact {pct(s['exact'])}, contains {pct(s['contains'])}, f1 {s['f1']:.2f}, "
        f"tool {pct(s['tool_accuracy'])}, clean stop {pct(s['clean_stop'])} on {s['n']} questions")
    log(f"report: {md_path}\n        {json_path}")
    return report


def pct(value) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def markdown(report: dict) -> str:
    labels = list(report["summary"])
    metrics = [("exact", "exact"), ("contains", "contains"), ("f1", "word F1"), ("tool_accuracy", "tool (app+params)"),
               ("tool_app_accuracy", "tool (app)"), ("no_stray_tool", "no stray tool"), ("clean_stop", "clean stop")]
    lines = ["# Evaluation on the holdout, run by the native core", "",
             f"Config `{report['config']}`, {report['examples']} questions, greedy, max {report['max_tokens']} tokens.",
             "Generated by `tabtwin eval`; the numbers are not typed by hand.", ""]
    for label in labels:
        lines.append(f"- {label}: `{report['models'][label]}`")
    lines += ["", "| metric | " + " | ".join(labels) + " |", "| --- |" + " --- |" * len(labels)]
    for key, title in metrics:
        cells = []
        for label in labels:
            v = report["summary"][label]["all"][key]
            cells.append(f"{v:.2f}" if key == "f1" and v is not None else pct(v))
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines += ["", "## By kind (twin)", "", "| kind | n | exact | contains | F1 | tool | clean stop |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for kind, s in report["summary"]["twin"]["by_kind"].items():
        lines.append(f"| {kind} | {s['n']} | {pct(s['exact'])} | {pct(s['contains'])} | {s['f1']:.2f} | "
                     f"{pct(s['tool_accuracy'])} | {pct(s['clean_stop'])} |")
    lines += ["", "## Answers", ""]
    for r in report["rows"]:
        lines += [f"### {r['where']} ({r['kind']})", "", f"**Q:** {one_line(r['question'])}", "",
                  f"**expected:** {one_line(r['expected'])}", ""]
        for label in labels:
            a = r[label]
            marks = ("exact" if a["exact"] else "contains" if a["contains"] else f"f1 {a['f1']:.2f}")
            marks += ", tool ok" if a["tool"] else ", tool WRONG"
            marks += "" if a["stop"] else f", {a['stop_reason']}"
            lines += [f"**{label}** ({marks}): {one_line(a['reply'] or '')}", ""]
    return "\n".join(lines) + "\n"


def one_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[:limit] + " ..."
