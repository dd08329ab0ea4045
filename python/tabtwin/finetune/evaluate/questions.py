"""What is asked: every assistant turn of the holdout after its expected earlier turns (teacher
forcing), and every canary (after its `history`, when it has one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tabtwin.errors import TabtwinError
from tabtwin.finetune.data.build import HOLDOUT_FILE, Example, read_examples
from tabtwin.finetune.data.sources import tool_line
from tabtwin.finetune.evaluate.canaries import NEEDS_EXPECT, Canary, expect_groups, read_canaries


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


def previous_question(question: Question) -> str | None:
    """The visitor's question before this one (a follow-up is matched with it), if any."""
    return next((text for role, text in reversed(question.history) if role == "user"), None)


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
