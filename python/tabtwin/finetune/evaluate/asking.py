"""Questions through the native core, as the page asks them: after the question's history, with
the twin's decoding and (grounded) the notes the core retrieves; shared among forked processes
with `--jobs`, and taken from the answer cache where an earlier run asked exactly the same."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable

from tabtwin.errors import TabtwinError
from tabtwin.finetune.evaluate.answer_cache import AnswerCache
from tabtwin.finetune.evaluate.questions import Question, previous_question
from tabtwin.finetune.evaluate.replies import from_events
from tabtwin.paths import shown

# The options that decide the tokens of a reply (max_tokens is the evaluation's own cap).
DECODING = ("temperature", "top_k", "top_p", "repeat_penalty", "repeat_last_n", "seed")


def decoding_words(sampling: dict) -> str:
    if not sampling or sampling.get("temperature", 0.0) == 0.0:
        rest = {k: v for k, v in sampling.items() if k in ("repeat_penalty", "repeat_last_n")}
        return "greedy" + (f" ({', '.join(f'{k} {v}' for k, v in rest.items())})" if rest else "")
    return ", ".join(f"{k} {v}" for k, v in sampling.items())


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
        "refused": chat.refused(),  # what the page marks: its passages shown as "looked in"
    }
    if grounded is not None:
        answer["sources"] = [s["id"] for s in grounded["sources"]]
        if grounded["decision"] is not None:
            answer["verdict"] = grounded["decision"]["verdict"]
            answer["answerable"] = round(grounded["decision"]["probability"], 4)
        # what the page lists under a grounded answer as "not in its notes" (none under a refusal)
        answer["unsupported"] = [] if answer["refused"] else chat.unsupported()
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
