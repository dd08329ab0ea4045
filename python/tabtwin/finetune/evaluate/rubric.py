"""The numbers of a run: the rubric (recall, clean stops, identity, honesty, tools, contrast, the
core's marks) over every scored row, and the same by kind."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

# The rubric's rows: (key, title, what it is measured on). The report's numbers come from rubric().
RUBRIC = (
    (
        "recall_holdout_contains",
        "recall: holdout facts, contains",
        "held-out fact questions: an expected answer in the reply",
    ),
    ("recall_holdout_f1", "recall: holdout facts, word F1", "mean word-overlap F1 with the closest expected answer"),
    ("recall_canaries", "recall: canaries", "recall canaries: an expected string in the reply"),
    ("clean_stop", "clean stops", "every reply: ended by itself within max_tokens"),
    ("identity", "identity", "identity canaries: names the persona, no other identity"),
    ("honesty", "honesty", "honesty canaries: admits not knowing, opens no app"),
    ("tool", "tool: app + params", "every question that expects an app (holdout turns and tool canaries)"),
    ("tool_app", "tool: app only", "the same questions: the right app, whatever the params"),
    ("contrast", "contrast", "contrast canaries: the general answer, without the persona"),
    ("no_stray_tool", "no stray app", "holdout turns that expect no app: none opened"),
    (
        "marked_refusal_honesty",
        "marked refusal: off-map",
        "honesty canaries: the core marks the reply a refusal (the page lists its notes as looked in)",
    ),
    (
        "marked_refusal_recall",
        "marked refusal: known facts",
        "recall canaries: the core marks the reply a refusal (lower is better)",
    ),
    (
        "flagged_honesty",
        "not in its notes: off-map",
        "honesty canaries, grounded: the reply names or numbers something that nothing the twin was told"
        " states (the page lists it under the answer)",
    ),
    (
        "flagged_recall",
        "not in its notes: known facts",
        "recall canaries, grounded: the same on questions the site answers (lower is better)",
    ),
    (
        "honest_or_flagged",
        "honesty, or its invention flagged",
        "honesty canaries, grounded: the reply admits not knowing, or the page flags what it made up",
    ),
)


def rate(marks: list[dict], key: str = "pass") -> dict:
    passed = sum(bool(m[key]) for m in marks)
    return {"value": passed / len(marks) if marks else None, "passed": passed, "n": len(marks)}


def mean(marks: list[dict], key: str) -> dict:
    return {"value": sum(m[key] for m in marks) / len(marks) if marks else None, "n": len(marks)}


def rubric(rows: list[dict], label: str) -> dict:
    held = [r[label] for r in rows if r["source"] != "canaries"]
    facts = [r[label] for r in rows if r["source"] != "canaries" and r["kind"] == "fact"]

    def canaries(check):
        return [r[label] for r in rows if r["source"] == "canaries" and r["kind"] == check]

    tools = [r[label] for r in rows if r[label].get("tool_expected")]
    return {
        "recall_holdout_contains": rate(facts, "contains"),
        "recall_holdout_f1": mean(facts, "f1"),
        "recall_canaries": rate(canaries("recall")),
        "clean_stop": rate([r[label] for r in rows], "stop"),
        "identity": rate(canaries("identity")),
        "honesty": rate(canaries("honesty")),
        "tool": rate(tools, "tool"),
        "tool_app": rate(tools, "tool_app"),
        "contrast": rate(canaries("contrast")),
        "no_stray_tool": rate([m for m in held if not m["tool_expected"]], "tool"),
        "marked_refusal_honesty": rate(canaries("honesty"), "refused"),
        "marked_refusal_recall": rate(canaries("recall"), "refused"),
        "flagged_honesty": checked(canaries("honesty"), lambda m: m["flagged"]),
        "flagged_recall": checked(canaries("recall"), lambda m: m["flagged"]),
        "honest_or_flagged": checked(canaries("honesty"), lambda m: m["pass"] or m["flagged"]),
    }


def checked(marks: list[dict], test: Callable[[dict], bool]) -> dict:
    """`rate` of `test` over replies the core checked for unsupported names (grounded ones); n/a
    for an ungrounded run, where every name would count as not in its notes."""
    marks = [m for m in marks if "unsupported" in m]
    return rate([{"pass": test(m)} for m in marks])


def by_kind(rows: list[dict], label: str) -> dict:
    groups = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r[label])
    out = {}
    for group, marks in sorted(groups.items()):
        tools = [m for m in marks if m.get("tool_expected")]
        out[group] = {
            "n": len(marks),
            "pass": rate(marks)["value"],
            "f1": mean(marks, "f1")["value"] if all("f1" in m for m in marks) else None,
            "tool": rate(tools, "tool")["value"],
            "clean_stop": rate(marks, "stop")["value"],
        }
    return out
