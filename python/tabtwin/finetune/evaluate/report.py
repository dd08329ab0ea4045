"""The report: one row per question with every model's marks, the JSON and the self-contained
HTML page (templates/eval_report.html) beside the twin, and the lines the log prints."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tabtwin.finetune.evaluate.asking import decoding_words
from tabtwin.finetune.evaluate.questions import Question, previous_question
from tabtwin.finetune.evaluate.rubric import RUBRIC
from tabtwin.finetune.evaluate.scoring import score_answer
from tabtwin.paths import shown


def pct(value) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def metric_cell(m: dict) -> str:
    if m["value"] is None:
        return "n/a"
    if "passed" not in m:  # a mean (word F1)
        return f"{m['value']:.2f} (n={m['n']})"
    return f"{m['value']:.0%} ({m['passed']}/{m['n']})"


def rubric_line(r: dict) -> str:
    return ", ".join(f"{title} {metric_cell(r[key])}" for key, title, _ in RUBRIC)


def kind_cell(value, key: str) -> str:
    return "n/a" if value is None else f"{value:.2f}" if key == "f1" else pct(value)


def html_report(report: dict, curves: list[Path]) -> str:
    """The whole report as one HTML page (templates/eval_report.html, autoescaped): no external
    file, script or font; the loss curves are embedded."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parents[1] / "templates"), autoescape=True, undefined=StrictUndefined
    )
    return env.get_template("eval_report.html").render(
        report=report,
        labels=list(report["summary"]),
        rubric=RUBRIC,
        decoding=decoding_line(report),
        curves=[{"name": shown(p), "data": base64.b64encode(p.read_bytes()).decode("ascii")} for p in curves],
        kind_metrics=(("pass", "pass"), ("f1", "word F1"), ("tool", "tool"), ("clean_stop", "clean stop")),
        metric_cell=metric_cell,
        retrieval_line=retrieval_line,
        kind_cell=kind_cell,
        marks=marks,
    )


def decoding_line(report: dict) -> str:
    return f"{decoding_words(report.get('sampling') or {})}, at most {report['max_tokens']} tokens a reply"


def marks(row: dict, a: dict) -> str:
    """Why an answer passed or failed, in a few words."""
    if row["source"] != "canaries":
        words = [
            "exact" if a["exact"] else "contains" if a["contains"] else f"F1 {a['f1']:.2f}",
            "tool ok" if a["tool"] else "tool wrong",
        ]
    elif row["kind"] == "identity":
        words = ["persona named" if a["persona_named"] else "persona not named"]
        words += [f"names {', '.join(a['other_names'])}"] if a["other_names"] else []
    elif row["kind"] == "honesty":
        words = ["admits not knowing" if a["admits"] else "no admission"]
        words += [f"opened {', '.join(map(str, a['opened']))}"] if a["opened"] else []
    elif row["kind"] == "tool":
        words = ["app and params right" if a["tool"] else "right app, wrong params" if a["tool_app"] else "wrong app"]
    else:
        words = [f"found {a['found']!r}" if a["found"] else "expected text missing"]
        words += ["brings in the persona"] if a.get("persona_named") else []
    words.append("clean stop" if a["stop"] else f"stop: {a['stop_reason']}")
    return "; ".join(words)


def retrieval_line(r: dict) -> str:
    how = "meaning + words" if r["semantic"] else "words only"
    return (
        f"({how}) recall canaries with their facts in the passages sent {metric_cell(r['recall_served'])}, "
        f"in the best three {metric_cell(r['recall_top3'])}; honesty canaries sent no passage "
        f"{metric_cell(r['honesty_none_served'])}"
    )


def report_rows(questions: list[Question], answers: dict[str, list[dict]], persona: str, other_names) -> list[dict]:
    """One row per question: what was asked and expected, then each run's answer and marks."""
    rows = []
    for i, q in enumerate(questions):
        row = {
            "source": q.source,
            "kind": q.kind,
            "group": q.group,
            "where": q.where,
            "turn": q.turn,
            "history_turns": len(q.history),
            "previous": previous_question(q),
            "question": q.question,
            "expected": q.expected,
        }
        for label in answers:
            row[label] = score_answer(q, answers[label][i], persona, other_names)
        rows.append(row)
    return rows


def write_report(report: dict, curves: list[Path], gguf: Path, sealed: bool) -> tuple[Path, Path]:
    """<twin>.eval.json and <twin>.eval.html beside the GGUF (<twin>.sealed.eval.* for the sealed set)."""
    stem = gguf.stem + (".sealed" if sealed else "")
    json_path = gguf.with_name(stem + ".eval.json")
    html_path = gguf.with_name(stem + ".eval.html")
    json_path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    html_path.write_text(html_report(report, curves), encoding="utf-8")
    return json_path, html_path
