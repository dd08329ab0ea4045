"""canaries.jsonl: one question a line with the check that decides it, read with every problem
named by its file:line and key (the module docstring of `tabtwin.finetune.evaluate` lists the
checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.finetune.data.sources import FORBIDDEN_MARKERS, check_tool, read_jsonl
from tabtwin.finetune.evaluate.matching import normalize

CHECKS = ("recall", "identity", "honesty", "tool", "contrast")
CANARY_KEYS = ("q", "check", "expect", "tool", "history", "form")
NEEDS_EXPECT = ("recall", "contrast")
# How a canary is worded (the optional "form"): plain, casual, misspelled, mixed (two facts in one
# question), trap (an identity question that offers a wrong name), followup (asked after "history"),
# near (an honesty question close to a known fact).
FORMS = ("plain", "casual", "misspelled", "mixed", "trap", "followup", "near")


class CanaryError(TabtwinError):
    """Problems in a canaries file; `problems` are 'file:line: message' strings."""

    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s) in the canaries:\n  " + "\n  ".join(problems))


@dataclass
class Canary:
    where: str  # canaries.jsonl:12
    q: str
    check: str  # one of CHECKS
    expect: list = field(default_factory=list)  # strings (one must appear) or lists of them (one of each)
    tool: dict | None = None  # {"app": ..., "params": {...}} for a tool check
    history: list[tuple[str, str]] = field(default_factory=list)  # (user, assistant) turns said before q
    form: str | None = None  # one of FORMS


def read_canaries(path: Path, apps: tuple[str, ...]) -> list[Canary]:
    """canaries.jsonl -> canaries; every problem, with its file:line and key, raised together."""
    path = Path(path)
    if not path.exists():
        raise TabtwinError(f"[eval] canaries: {path}: no such file")
    problems: list[str] = []
    canaries = []
    for number, obj in read_jsonl(path, problems):
        where = f"{path.name}:{number}"
        found = canary_problems(obj, where, apps)
        problems += found
        if not found:
            tool = obj.get("tool")
            canaries.append(
                Canary(
                    where,
                    obj["q"].strip(),
                    obj["check"],
                    [[s.strip() for s in e] if isinstance(e, list) else e.strip() for e in obj.get("expect", [])],
                    {"app": tool["app"], "params": tool.get("params", {})} if tool else None,
                    [(user.strip(), assistant.strip()) for user, assistant in obj.get("history", [])],
                    obj.get("form"),
                )
            )
    if problems:
        raise CanaryError(path, problems)
    if not canaries:
        raise CanaryError(path, [f"{path.name}: no canaries in the file"])
    return canaries


def canary_problems(obj: dict, where: str, apps: tuple[str, ...]) -> list[str]:
    problems = []
    unknown = set(obj) - set(CANARY_KEYS)
    if unknown:
        problems.append(f"{where}: unknown key(s) {sorted(unknown)}; a canary has {list(CANARY_KEYS)}")
    q = obj.get("q")
    if not isinstance(q, str) or not q.strip():
        problems.append(f'{where}: "q" must be a non-empty string (one question a line)')
    else:
        problems += [f'{where}: "q" contains the chat-format marker {m!r}' for m in FORBIDDEN_MARKERS if m in q]
    problems += history_and_form_problems(obj, where)
    check = obj.get("check")
    if check not in CHECKS:
        problems.append(f'{where}: "check" must be one of {list(CHECKS)}, got {check!r}')
        return problems  # what else is needed depends on the check
    expect = obj.get("expect")
    if expect is None:
        if check in NEEDS_EXPECT:
            problems.append(
                f'{where}: "expect" is required for a {check} check: strings of which one must appear in the reply'
            )
    elif check not in NEEDS_EXPECT:
        problems.append(f'{where}: "expect" is not used by a {check} check; leave it out')
    elif not expect_ok(expect):
        problems.append(
            f'{where}: "expect" must be a non-empty list of strings with words in them (one must appear), '
            "or a list of such lists (one string of each must appear)"
        )
    tool = obj.get("tool")
    if check == "tool":
        problems += tool_problems(tool, where, apps)
    elif tool is not None:
        problems.append(f'{where}: "tool" is only for a tool check (this one is {check!r}); leave it out')
    return problems


def expect_ok(expect) -> bool:
    def strings(items) -> bool:
        # a string of punctuation normalises to nothing and would never be found
        return isinstance(items, list) and bool(items) and all(isinstance(e, str) and normalize(e) for e in items)

    return strings(expect) or (isinstance(expect, list) and bool(expect) and all(strings(g) for g in expect))


def expect_groups(expect: list) -> list[list[str]]:
    """A canary's `expect` as groups that must each be found: a flat list is one group."""
    return [list(g) for g in expect] if expect and isinstance(expect[0], list) else [list(expect)]


def history_and_form_problems(obj: dict, where: str) -> list[str]:
    """The optional "history" (earlier [user, assistant] turns) and "form" (how the question is worded)."""
    problems = []
    history = obj.get("history")
    if history is not None:
        pairs = isinstance(history, list) and history
        pairs = pairs and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(t, str) and t.strip() for t in p) for p in history
        )
        if not pairs:
            problems.append(
                f'{where}: "history" must be a non-empty list of [user, assistant] pairs of non-empty strings '
                '(the turns said before "q")'
            )
        else:
            problems += [
                f'{where}: "history" contains the chat-format marker {m!r}'
                for m in FORBIDDEN_MARKERS
                if any(m in t for p in history for t in p)
            ]
    form = obj.get("form")
    if form is None:
        return problems
    if form not in FORMS:
        problems.append(f'{where}: "form" must be one of {list(FORMS)}, got {form!r}')
    elif (form == "followup") != (history is not None):
        problems.append(
            f'{where}: "form" is "followup" exactly when there is a "history" (the turns it follows up on); '
            f"this one has form {form!r} and {'a' if history is not None else 'no'} history"
        )
    elif form == "near" and obj.get("check") != "honesty":
        problems.append(f'{where}: "form" "near" is for an honesty check (a question close to a known fact)')
    return problems


def tool_problems(tool, where: str, apps: tuple[str, ...]) -> list[str]:
    if tool is None:
        return [f'{where}: "tool" is required for a tool check: {{"app": "...", "params": {{...}}}}']
    return check_tool(tool, f'{where}: "tool"', apps)  # the same rules as a TOOL line in the training data
