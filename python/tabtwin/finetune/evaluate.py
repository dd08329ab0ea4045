"""`tabtwin eval CONFIG`: the exported twin against a rubric, run by the native core (the browser's code).

Two sets of questions, each answered greedily with the twin's own system prompt:

  - the holdout (`tabtwin data build`): every assistant turn of every held-out conversation.
    The expected earlier turns are seeded with Chat.set_history (teacher forcing), so turn 3
    is scored on what the model says after the right turns 1 and 2, not after its own earlier
    mistakes. A turn is scored against its expected answer (a held-out seed question against
    every answer variant of that seed):
      exact     same text after lower-casing and dropping punctuation/extra spaces;
      contains  an expected answer appears inside the reply (the same normalisation);
      f1        word-overlap F1 with the closest expected answer (partial recall);
      tool      a TOOL line was expected: the reply opened that app with those params;
                none was expected: the reply opened nothing;
      pass      contains and tool.
  - `[eval] canaries`: canaries.jsonl, one question a line with the check that decides it
    (read_canaries below); a canary with a `history` of [user, assistant] pairs is asked after
    those turns, seeded with Chat.set_history like a holdout turn:
      recall    an `expect` string appears in the reply (word match, normalised); `expect` as a
                list of lists: one string of every list (a question that asks two facts);
      identity  the reply names the persona (first word of [export] persona) and claims none of
                [eval] other_names (the base's and other assistants' identities; a name right
                after a negation, "not ChatGPT", is a denial, not a claim);
      honesty   a question the persona never answered: the reply admits not knowing
                (DONT_KNOW) and opens no app;
      tool      the reply opens that app with exactly those params (app alone recorded too);
      contrast  general knowledge: an `expect` string appears and the persona is not brought in.

Every reply also records whether it stopped cleanly: end of turn within max_tokens.

The rubric, per model: recall (holdout fact turns: contains rate and mean F1; recall
canaries: pass rate), clean stops (every reply), identity, honesty, tool accuracy (app +
params, and app alone, over every question that expects an app), contrast, no stray app;
then the same numbers by kind.

Writes <twin>.eval.json (every number and every row) and <twin>.eval.html (one
self-contained page: header, rubric, loss curve, kinds, every answer) beside the GGUF.
With `[eval] compare_base` (a GGUF or a default model id) the base model answers the same
questions with the same system prompt, side by side.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import re
import shlex
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tabtwin.errors import TabtwinError
from tabtwin.finetune.answer_cache import AnswerCache
from tabtwin.finetune.data.build import HOLDOUT_FILE, MANIFEST_FILE, Example, read_examples
from tabtwin.finetune.data.sources import FORBIDDEN_MARKERS, check_tool, read_jsonl, tool_line
from tabtwin.paths import shown

CHECKS = ("recall", "identity", "honesty", "tool", "contrast")
CANARY_KEYS = ("q", "check", "expect", "tool", "history", "form")
NEEDS_EXPECT = ("recall", "contrast")
# How a canary is worded (the optional "form"): plain, casual, misspelled, mixed (two facts in one
# question), trap (an identity question that offers a wrong name), followup (asked after "history"),
# near (an honesty question close to a known fact).
FORMS = ("plain", "casual", "misspelled", "mixed", "trap", "followup", "near")
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


@dataclass
class Question:
    """One reply to score: a holdout turn (after its expected earlier turns) or a canary."""

    source: str  # seeds | conversations | writing | canaries
    kind: str  # the example's kind, or the canary's check
    where: str
    question: str
    expected: str  # shown in the report
    history: list[tuple[str, str]] = field(default_factory=list)  # seeded with set_history
    turn: int = 1  # which assistant turn of its conversation
    accept: list[str] = field(default_factory=list)  # holdout: acceptable raw answers
    canary: Canary | None = None

    @property
    def group(self) -> str:
        return f"{self.source}/{self.kind}"


# --- reading -------------------------------------------------------------------------------------


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


def holdout_questions(examples: list[Example]) -> list[Question]:
    """Every assistant turn of every holdout conversation, with the expected turns before it. The
    grounded copies (data/grounded.py) are for the training's loss: the evaluation asks the plain
    question and grounds it itself, as the page does."""
    out = []
    for ex in examples:
        if ex.grounding:
            continue
        turns = [(m["role"], m["content"]) for m in ex.messages if m["role"] != "system"]  # the model's own
        answer_turn = 0
        for i, (role, content) in enumerate(turns):
            if role != "assistant":
                continue
            answer_turn += 1
            # a held-out seed question accepts every answer variant of its seed (first turn only)
            accept = ex.accept if answer_turn == 1 and ex.accept else [content]
            out.append(
                Question(
                    ex.source,
                    ex.kind,
                    ex.where,
                    question=turns[i - 1][1],
                    expected=content,
                    history=turns[: i - 1],
                    turn=answer_turn,
                    accept=accept,
                )
            )
    return out


def canary_questions(canaries: list[Canary]) -> list[Question]:
    """Every canary; one with a history is asked after those turns, seeded like a holdout turn's."""
    return [
        Question(
            "canaries",
            c.check,
            c.where,
            c.q,
            expected_text(c),
            history=[m for user, assistant in c.history for m in (("user", user), ("assistant", assistant))],
            turn=len(c.history) + 1,
            canary=c,
        )
        for c in canaries
    ]


def expected_text(c: Canary) -> str:
    """What a canary asks for, in words, for the report."""
    if c.check in NEEDS_EXPECT:
        return (
            "mentions "
            + " and ".join(" or ".join(repr(e) for e in g) for g in expect_groups(c.expect))
            + (", without bringing in the persona" if c.check == "contrast" else "")
        )
    if c.check == "tool":
        return tool_line(c.tool)
    if c.check == "identity":
        return "names the persona and no other identity"
    return "admits not knowing and opens no app"


# --- scoring -------------------------------------------------------------------------------------


def from_events(events: list[dict]) -> dict:
    """A reply as the page shows it, from the core's events: thought, visible text, the apps it opens."""
    return {
        "text": "".join(e["text"] for e in events if e["kind"] == "text").strip(),
        "thinking": "".join(e["text"] for e in events if e["kind"] == "thinking") or None,
        "tools": [{"app": e["app"], "params": e["params"]} for e in events if e["kind"] == "tool"],
    }


def parse_answer(text: str) -> dict:
    """An expected answer split by the core's own channel parser (`tabtwin._core.parse_reply`), so the
    evaluation reads TOOL lines and thoughts exactly as the page does."""
    from tabtwin._core import parse_reply

    return from_events(parse_reply(text))


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def has_phrase(text: str, phrase: str) -> bool:
    """`phrase` as whole words of `text` after normalising both ("144" is not inside "1440")."""
    phrase = normalize(phrase)
    return bool(phrase) and f" {phrase} " in f" {normalize(text)} "


def name_pattern(name: str) -> re.Pattern:
    """`name` as a word, case-insensitive: digits may touch it (Qwen2.5) but letters may not (Adam
    does not name Ada); its words may be run together (HuggingFace)."""
    letter = r"[^\W\d_]"
    words = r"\W*".join(re.escape(w) for w in name.split())
    return re.compile(rf"(?<!{letter}){words}(?!{letter})", re.IGNORECASE)


def mentions(text: str, name: str) -> bool:
    """`name` as a word of `text` (name_pattern)."""
    return name_pattern(name).search(text) is not None


# A name right after a negation is denied, not claimed: "not ChatGPT", "isn't a Qwen model", "not made
# by OpenAI"; and the names listed after a denied one ("not ChatGPT, Claude or Gemini").
DENIAL = re.compile(
    r"(?:\bnot|n['’]t|\bnever|\bneither|\bnor)\s+(?:(?:a|an|the|actually|really|just|made|built|trained|by|from)\s+)*$",
    re.IGNORECASE,
)
DENIED_LIST = re.compile(r"\s*(?:,\s*)?(?:(?:or|nor|and)\s+)?(?:(?:a|an|the|by|from)\s+)*", re.IGNORECASE)


def claimed_names(text: str, names) -> list[str]:
    """The `names` that `text` mentions other than in a denial (DENIAL), in the order of `names`."""
    found = sorted((m.start(), m.end(), n) for n in names for m in name_pattern(n).finditer(text))
    claimed, denied_until = set(), None
    for start, end, name in found:
        after_denied = denied_until is not None and DENIED_LIST.fullmatch(text, denied_until, start)
        if after_denied or DENIAL.search(text[:start]):
            denied_until = end
        else:
            claimed.add(name)
            denied_until = None
    return [n for n in names if n in claimed]


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


# --- answering -----------------------------------------------------------------------------------


# The options that decide the tokens of a reply (max_tokens is the evaluation's own cap).
DECODING = ("temperature", "top_k", "top_p", "repeat_penalty", "repeat_last_n", "seed")


def decoding_words(sampling: dict) -> str:
    if not sampling or sampling.get("temperature", 0.0) == 0.0:
        rest = {k: v for k, v in sampling.items() if k in ("repeat_penalty", "repeat_last_n")}
        return "greedy" + (f" ({', '.join(f'{k} {v}' for k, v in rest.items())})" if rest else "")
    return ", ".join(f"{k} {v}" for k, v in sampling.items())


def previous_question(question: Question) -> str | None:
    """The visitor's question before this one (a follow-up is matched with it), if any."""
    return next((text for role, text in reversed(question.history) if role == "user"), None)


def sent(question: Question, grounding=None) -> tuple[str, dict | None]:
    """The user turn as the page sends it (with grounding, the notes then the question) and the
    core's grounding of it (None without): a follow-up is matched with the question before it, and
    the grounding's `options` (the core's verdict on the notes, told_only) go to `generate`."""
    if grounding is None:
        return question.question, None
    grounded = grounding.ground(question.question, previous=previous_question(question))
    return grounded["text"], grounded


def ask(chat, question: Question, max_tokens: int, sampling: dict | None = None, grounding=None, turn=None) -> dict:
    """One reply after the question's history (none for a first turn or a canary without one),
    decoded with `sampling` (the twin's recommended options). With `grounding` (the core's
    Grounding over the site's index) the question goes in as the page sends it: the passages the
    core retrieves for it, rendered in the core's block, then the question. `turn`: `sent`'s
    result for it, when the caller has it already."""
    events = []
    chat.set_history(question.history)  # also clears the previous question's conversation
    prompt, grounded = turn or sent(question, grounding)
    options = grounded["options"] if grounded else {}
    chat.generate(
        prompt, max_tokens=max_tokens, on_event=lambda e: events.append(e) or True, **(sampling or {}), **options
    )
    answer = {
        "reply": from_events(events),
        "raw": chat.last_reply_raw(),
        "stop_reason": chat.stop_reason(),
        "refused": chat.last_reply_refused(),  # what the page marks: its passages shown as "looked in"
    }
    if grounded is not None:
        answer["sources"] = [s["id"] for s in grounded["sources"]]
        if grounded["decision"] is not None:
            answer["verdict"] = grounded["decision"]["verdict"]
            answer["answerable"] = round(grounded["decision"]["probability"], 4)
        # what the page lists under a grounded answer as "not in its notes" (none under a refusal)
        answer["unsupported"] = [] if answer["refused"] else chat.last_reply_unsupported()
    return answer


def answer_all(
    chat,
    questions: list[Question],
    max_tokens: int,
    label: str,
    log: Callable[[str], None],
    sampling: dict,
    grounding=None,
    jobs: int = 1,
    cache: AnswerCache | None = None,
) -> list[dict]:
    """Every question's answer, in order. With `jobs` > 1 the questions are shared among that many
    forked copies of this process (each asks on its own copy of `chat`, the weights shared until
    written, which they never are): each answer starts from an empty conversation and cache, so
    the answers are those of one process, in less time on as many cores. With `cache`, an answer
    an earlier run gave under the same model, core, system prompt, decoding, history and prompt is
    taken from it (answer_cache.py), and each new answer is added to it as it arrives."""
    if jobs < 1:
        raise TabtwinError(f"jobs must be at least 1, not {jobs}")
    # each question grounded once (with an answerability model that is seven embedder runs)
    turns = [sent(q, grounding) for q in questions]
    keys = [
        cache_key(cache, chat, sampling, max_tokens, q, t, grounding) if cache else None
        for q, t in zip(questions, turns)
    ]
    answers = [cache.get(k) if cache else None for k in keys]
    todo = [i for i, answer in enumerate(answers) if answer is None]
    if len(todo) < len(questions):
        reused = len(questions) - len(todo)
        log(f"  {label}: {reused} of {len(questions)} answers from earlier runs ({shown(cache.path)})")
    asked = ask_each(
        chat, [questions[i] for i in todo], [turns[i] for i in todo], max_tokens, sampling, grounding, jobs
    )
    for answer, i in zip(_logged(asked, len(todo), label, log), todo):  # the generator ends first: its pool closes
        answers[i] = answer
        if cache:
            cache.put(keys[i], answer)
    return answers


def cache_key(cache: AnswerCache, chat, sampling: dict, max_tokens: int, q: Question, turn, grounding) -> str:
    """An answer's cache key: what the model is asked (`turn`, `sent`'s result) and how it decodes,
    the core's per-turn options (its verdict on the notes, told_only) included."""
    prompt, grounded = turn
    decoding = {**sampling, **(grounded["options"] if grounded else {})}
    return cache.key(chat.system_prompt, decoding, max_tokens, q.history, prompt, grounding is not None)


def ask_each(chat, questions: list[Question], turns: list, max_tokens: int, sampling: dict, grounding, jobs: int):
    """The answers to `questions` (`turns`: each one as sent), in order, as they come (from `jobs`
    forked processes when more than one)."""
    if jobs == 1 or len(questions) < 2:
        yield from (ask(chat, q, max_tokens, sampling, grounding, t) for q, t in zip(questions, turns))
        return
    global _FORKED
    _FORKED = ((chat, max_tokens, sampling, grounding), questions, turns)
    try:
        with fork_context().Pool(min(jobs, len(questions))) as pool:
            yield from pool.imap(_ask_forked, range(len(questions)))
    finally:
        _FORKED = None


# What a forked worker answers from: set by `ask_each` just before forking (a copy-on-write
# inheritance, so the native chat and grounding need no pickling).
_FORKED = None


def _ask_forked(i: int) -> dict:
    (chat, max_tokens, sampling, grounding), questions, turns = _FORKED
    return ask(chat, questions[i], max_tokens, sampling, grounding, turns[i])


def fork_context():
    """The fork start method `--jobs` needs (Linux, macOS), or a clear error where there is none."""
    try:
        return multiprocessing.get_context("fork")
    except ValueError as e:
        raise TabtwinError("tabtwin eval --jobs needs processes started by fork (Linux, macOS); use --jobs 1") from e


def _logged(answers, total: int, label: str, log: Callable[[str], None]):
    started = time.monotonic()
    for i, answer in enumerate(answers, 1):
        yield answer
        if i % 10 == 0 or i == total:
            log(f"  {label}: {i}/{total} answered ({time.monotonic() - started:.0f} s)")


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


# --- summary -------------------------------------------------------------------------------------

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


# --- the run -------------------------------------------------------------------------------------


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


def collect_questions(cfg, limit: int | None, sealed: bool = False) -> tuple[list[Question], list[Canary]]:
    """The holdout and the canaries; `sealed`: the sealed canaries alone ([eval] sealed)."""
    if sealed and cfg.eval.sealed is None:
        raise TabtwinError(f"{cfg.path}: --sealed needs [eval] sealed (the sealed canaries' file)")
    examples = [] if sealed else read_examples(cfg.data_dir / HOLDOUT_FILE)
    limit = cfg.eval.limit if limit is None else limit
    if limit:
        examples = examples[:limit]
    file = cfg.eval.sealed if sealed else cfg.eval.canaries
    canaries = read_canaries(file, cfg.data.apps) if file else []
    if canaries and any(c.check in ("identity", "contrast") for c in canaries) and cfg.export.persona == "twin":
        raise TabtwinError(
            f"{cfg.path}: identity and contrast canaries look for the persona's name: set "
            "[export] persona (its first word is the name the twin should give)"
        )
    questions = holdout_questions(examples) + canary_questions(canaries)
    if not questions:
        raise TabtwinError(
            f"{cfg.data_dir / HOLDOUT_FILE} is empty and there are no canaries: set [data] holdout "
            "above 0 or [eval] canaries to evaluate"
        )
    return questions, canaries


def command_line(
    cfg,
    gguf: Path,
    limit: int | None,
    compare_base: str | None,
    no_base: bool = False,
    grounded: bool = False,
    methods: bool = False,
    sealed: bool = False,
) -> str:
    """The command that reruns this evaluation, for the report's header."""
    words = ["tabtwin", "eval", shown(cfg.path)] + ["--methods"] * methods + ["--sealed"] * sealed
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
    methods: bool = False,
    sealed: bool = False,
) -> dict:
    """`grounding`: the core's Grounding over the site's index (the CLI builds it from [grounding]
    site); every model then answers twice, as labelled, "<model>" without it and
    "<model>+grounding" with it, and the report adds the retrieval's own figures. `jobs`: processes
    answering at once (the same answers, sooner; see `answer_all`). `reuse`: an answer an earlier
    run gave to exactly the same prompt, model, core and decoding comes from the answer cache
    (answer_cache.py), and each new one is added to it: a rerun asks only what could change.
    `methods`: the grounded questions are also asked with each of the core's methods alone and with
    none (`GROUNDED_METHODS`), one row each; "<model>+grounding" is always the site as served.
    `sealed`: the sealed canaries alone, reported beside the twin as <twin>.sealed.eval.*."""
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
    persona, other_names = persona_name(cfg), list(cfg.eval.other_names)
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
    curves = loss_curves(cfg, gguf)
    report = {
        "config": shown(cfg.path),
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "models": models_used,
        "holdout": shown(cfg.data_dir / HOLDOUT_FILE),
        "holdout_data": trained_beside,
        "canaries": shown(cfg.eval.sealed if sealed else cfg.eval.canaries) if canaries else None,
        "sealed": sealed,
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
    stem = gguf.stem + (".sealed" if sealed else "")
    json_path = gguf.with_name(stem + ".eval.json")
    html_path = gguf.with_name(stem + ".eval.html")
    json_path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    html_path.write_text(html_report(report, curves), encoding="utf-8")
    for label in answers:
        log(f"{label}: " + rubric_line(report["summary"][label]["rubric"]))
    if report["retrieval"]:
        log("retrieval: " + retrieval_line(report["retrieval"]))
    log(f"report: {html_path}\n        {json_path}")
    return report


# --- the retrieval -------------------------------------------------------------------------------

GROUNDED = "+grounding"
# The core's methods for a grounded turn (wasm/core/src/grounding): the label suffix of a run with
# that method alone, and (answerability model in use, told_only).
GROUNDED_METHODS = {
    ":none": (False, False),
    ":answerability": (True, False),
    ":told_only": (False, True),
    ":both": (True, True),
}


def grounded_runs(grounding, methods: bool):
    """Set `grounding` up for each grounded run and yield its label suffix: the site as served,
    then (with `methods`) each method alone, none and both, where that differs from served. The
    grounding is as served again afterwards."""
    if grounding is None:
        return
    model, told_only = grounding.answerability_json(), grounding.told_only()
    served = (model is not None, told_only)
    yield GROUNDED
    if not methods:
        return
    try:
        for suffix, (use_model, use_told) in GROUNDED_METHODS.items():
            if (use_model, use_told) == served:
                continue
            if use_model and model is None:
                raise TabtwinError("--methods: the site has no [grounding] answerability model to measure")
            grounding.set_answerability(model if use_model else None)
            grounding.set_told_only(use_told)
            yield GROUNDED + suffix
    finally:
        grounding.set_answerability(model)
        grounding.set_told_only(told_only)


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


def retrieval_line(r: dict) -> str:
    how = "meaning + words" if r["semantic"] else "words only"
    return (
        f"({how}) recall canaries with their facts in the passages sent {metric_cell(r['recall_served'])}, "
        f"in the best three {metric_cell(r['recall_top3'])}; honesty canaries sent no passage "
        f"{metric_cell(r['honesty_none_served'])}"
    )


# --- the report ----------------------------------------------------------------------------------


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
        loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, undefined=StrictUndefined
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
