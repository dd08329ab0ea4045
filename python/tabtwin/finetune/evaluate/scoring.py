"""One answer's marks: a holdout turn against its acceptable answers, a canary by its check (the
module docstring of `tabtwin.finetune.evaluate` says what each check decides)."""

from __future__ import annotations

from tabtwin.finetune.evaluate.canaries import NEEDS_EXPECT, Canary, expect_groups
from tabtwin.finetune.evaluate.matching import claimed_names, f1, has_phrase, mentions, normalize
from tabtwin.finetune.evaluate.questions import Question
from tabtwin.finetune.evaluate.replies import parse_answer

# How a reply admits not knowing. Matched as whole words after `normalize`, so "don't" and
# "don’t" both read "don t"; kept to phrases that do not also open confident answers.
DONT_KNOW = (
    "don't know",
    "do not know",
    "dont know",
    "not sure",
    "no idea",
    "never said",
    "never shared",
    "never written",
    "never wrote",
    "never mentioned",
    "haven't shared",
    "have not shared",
    "haven't said",
    "can't say",
    "cannot say",
    "can't tell",
    "cannot tell",
    "couldn't tell",
    "not something i",
    "rather not guess",
    "won't guess",
    "not aware",
    "no information",
)


def score(reply: dict, accept: list[dict], stop_reason: str | None) -> dict:
    """A holdout turn against its acceptable answers (parsed with parse_answer)."""
    got = normalize(reply["text"])
    texts = [normalize(a["text"]) for a in accept]
    expected_tools = accept[0]["tools"]
    if expected_tools:
        want = expected_tools[0]
        tool_ok = any(t["app"] == want["app"] and t["params"] == want["params"] for t in reply["tools"])
        app_ok = any(t["app"] == want["app"] for t in reply["tools"])
    else:
        tool_ok = app_ok = not reply["tools"]
    contains = any(t and t in got for t in texts)
    return {
        "pass": contains and tool_ok,
        "exact": any(got == t for t in texts),
        "contains": contains,
        "f1": max((f1(reply["text"], a["text"]) for a in accept), default=0.0),
        "tool_expected": bool(expected_tools),
        "tool": tool_ok,
        "tool_app": app_ok,
        "stop": stop_reason == "end_of_turn",
    }


def check_canary(
    reply: dict, canary: Canary, persona: str, other_names: tuple[str, ...] | list[str], stop_reason: str | None
) -> dict:
    """A canary's pass or fail, with what decided it. `persona` is the name the twin must give."""
    text, tools = reply["text"], reply["tools"]
    out: dict = {"stop": stop_reason == "end_of_turn"}
    if canary.check in NEEDS_EXPECT:
        groups = expect_groups(canary.expect)
        hits = [next((e for e in g if has_phrase(text, e)), None) for g in groups]
        if not (canary.expect and isinstance(canary.expect[0], list)):
            out["found"] = hits[0]
        else:  # one string of every group: the ones found, or None with the groups missing
            out["found"] = hits if all(h is not None for h in hits) else None
            out["missing"] = [g for g, h in zip(groups, hits, strict=True) if h is None]
        out["pass"] = out["found"] is not None
        if canary.check == "contrast":
            out["persona_named"] = mentions(text, persona)
            out["pass"] = out["pass"] and not out["persona_named"]
    elif canary.check == "identity":
        out["persona_named"] = mentions(text, persona)
        out["other_names"] = claimed_names(text, other_names)
        out["pass"] = out["persona_named"] and not out["other_names"]
    elif canary.check == "honesty":
        out["admits"] = any(has_phrase(text, m) for m in DONT_KNOW)
        out["opened"] = [t["app"] for t in tools]
        out["pass"] = out["admits"] and not tools
    else:  # tool
        want = canary.tool
        out["tool_expected"] = True
        out["tool"] = any(t["app"] == want["app"] and t["params"] == want["params"] for t in tools)
        out["tool_app"] = any(t["app"] == want["app"] for t in tools)
        out["pass"] = out["tool"]
    return out


def persona_name(cfg) -> str:
    """The name an identity canary wants: the first word of [export] persona ("Ada")."""
    return cfg.export.persona.split()[0]


def score_answer(q: Question, answer: dict, persona: str, other_names) -> dict:
    if q.canary is not None:
        marks = check_canary(answer["reply"], q.canary, persona, other_names, answer["stop_reason"])
    else:
        marks = score(answer["reply"], [parse_answer(a) for a in q.accept], answer["stop_reason"])
    return {
        "reply": answer["raw"],
        "text": answer["reply"]["text"],
        "tools": answer["reply"]["tools"],
        "stop_reason": answer["stop_reason"],
        "refused": answer["refused"],
        **({"sources": answer["sources"]} if "sources" in answer else {}),
        # the core's judgement of the notes (grounded, with an answerability model)
        **{k: answer[k] for k in ("verdict", "answerable") if k in answer},
        **(
            {"unsupported": answer["unsupported"], "flagged": bool(answer["unsupported"])}
            if "unsupported" in answer
            else {}
        ),
        **marks,
    }
