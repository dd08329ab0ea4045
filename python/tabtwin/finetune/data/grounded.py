"""Grounded examples: the user turn as the page sends it, with the author's passages the core
retrieves for it, rendered by the core (tabtwin._core Grounding, the same code the page and the
evaluation run), so the twin trains on the bytes it will see in the tab.

Each training example gets one of three forms (drawn with an RNG seeded by the config's seed and the
example's own messages, so adding a seed redraws nothing else; `[data] grounded` and
`[data] unanswerable` giving the shares):
  plain         no passages: the twin still answers when grounding is off or finds nothing;
  grounded      every user turn with the passages retrieved for it, the answer unchanged: the
                right passage among whatever else the retrieval brings;
  unanswerable  a fact question with the passages that hold its answer left out (the rest of the
                retrieval fills in), and the answer replaced by one of `[data] dont_know`: the twin
                learns to say it does not know when its notes do not say. Each comes with its
                partner: the same wording grounded as retrieved, the answer kept. Alone, a refused
                wording is a shortcut (that question means "I don't know") that a small twin takes:
                the session-7 twin refused 32% of paraphrased questions whose answer topped its
                notes. As a pair, only the notes tell the two apart.
An item about who the twin is (an answer names the persona) trains in both the plain and the grounded
form: "who are you?" must get the persona whether or not notes come with it, and a single draw left
some identity wordings seen only one way (the 135M twin, grounded, answered "which company built
you?" with a refusal). So does an item whose answer admits not knowing (a seed's own refusal, a
conversation that asks after a known fact for a detail never written): with notes, the passage
about the topic is there and lacks the detail, which is the near-miss a visitor brings; drawn once,
most were seen only plain (the twin retrained from the base with them, grounded, answered "What
colour is Tärnan's hull?" with what Tärnan is).
A held-out seed question is kept plain (`tabtwin eval` grounds it itself, as the page would) and
gets one grounded or unanswerable copy beside it, marked, so the training's holdout loss watches
both forms.
"""

from __future__ import annotations

import random
import re

from tabtwin.finetune.data.build import Example
from tabtwin.paths import sha256_json

PLAIN, GROUNDED, UNANSWERABLE = "plain", "grounded", "unanswerable"
# An answer that already says the persona does not know (the seeds' own refusals).
DONT_KNOW = re.compile(r"\b(I don't know|I do not know|I won't guess|I'd rather not|I don't share)\b", re.IGNORECASE)
FORMS = (PLAIN, GROUNDED, UNANSWERABLE)


# Words that open a sentence capitalized without naming anything.
OPENERS = frozenset(
    "a an and as at but by for from he her his i i'm i've i'd i'll in it it's its my no not of on or our she so "
    "that the their then there these they this to we what when where which who why with yes you your".split()
)


def answer_terms(answer: str, persona_words: set[str], rare: set[str] = frozenset()) -> set[str]:
    """The words that carry an answer's facts: names (capitalized, unless a sentence merely opens with
    the word), numbers, and the answer's words that are `rare` in the passages (a project's lowercase
    name), the persona's own name aside (it is in every passage)."""
    terms = set()
    for word in re.findall(r"[\w'-]+", answer):
        if word in persona_words or len(word) < 3:
            continue
        if any(c.isdigit() for c in word) or (word[0].isupper() and word.lower() not in OPENERS):
            terms.add(word)
        elif word.lower() in rare:
            terms.add(word)
    return terms


def rare_words(passages: list[dict], most: int = 3) -> set[str]:
    """Lowercase words of five letters or more that at most `most` passages use."""
    counts: dict[str, int] = {}
    for p in passages:
        for word in set(re.findall(r"[a-z][\w'-]{4,}", (p["title"] + " " + p["text"]).lower())):
            counts[word] = counts.get(word, 0) + 1
    return {w for w, n in counts.items() if n <= most}


def holders(passages: list[dict], terms: set[str]) -> list[str]:
    """Ids of the passages that state any of `terms` (whole words, case as written)."""
    patterns = [re.compile(rf"(?<![\w-]){re.escape(t)}(?![\w-])") for t in terms]
    return [p["id"] for p in passages if any(pat.search(p["title"] + " " + p["text"]) for pat in patterns)]


def user_turns_grounded(example: Example, grounding) -> list[dict]:
    """Every user turn as the page sends it: a follow-up retrieved with the question before it."""
    out, previous = [], None
    for m in example.messages:
        if m["role"] == "user":
            out.append({**m, "content": grounding.ground(m["content"], previous=previous)["text"]})
            previous = m["content"]
        else:
            out.append(m)
    return out


class Grounder:
    def __init__(self, grounding, grounded: float, unanswerable: float, dont_know: tuple[str, ...], persona: str):
        self.grounding = grounding
        self.passages = grounding.passages()
        self.rare = rare_words(self.passages)
        self.shares = (grounded, unanswerable)
        self.dont_know = dont_know
        self.persona_words = set(re.findall(r"[\w'-]+", persona)) | {w for n in persona.split() for w in n.split("-")}
        self.terms_by_item: dict[str, set[str]] = {}  # a seed's answers, every variant: see learn_answers
        # items whose answers name the persona or admit not knowing: never made unanswerable, and
        # trained in both forms (the module's docstring says why)
        self.both_forms: set[str] = set()
        self.holders_by_item: dict[str, list[str] | None] = {}

    def learn_answers(self, examples: list[Example]) -> None:
        """The names and numbers of every answer variant of each item (seed line): a question is only
        unanswerable when no passage names any of them, whichever variant this example was paired with.
        Items about who the persona is (an answer names it) and items whose answer already admits not
        knowing are never made unanswerable (the twin always knows who it is) and train in both forms."""
        self.both_forms.clear()
        self.holders_by_item.clear()  # they follow from the terms learned here
        for ex in examples:
            terms = self.terms_by_item.setdefault(ex.where, set())
            for m in ex.messages:
                if m["role"] != "assistant":
                    continue
                words = set(re.findall(r"[\w'-]+", m["content"]))
                if words & self.persona_words or DONT_KNOW.search(m["content"]):
                    self.both_forms.add(ex.where)
                terms.update(answer_terms(m["content"], self.persona_words, self.rare))

    def answer_holders(self, example: Example) -> list[str] | None:
        """Ids of the passages that hold the example's answer, or None when it is not a one-turn fact
        whose answer names something (a name, a number) the passages could hold."""
        turns = [m for m in example.messages if m["role"] != "system"]
        if example.kind != "fact" or len(turns) != 2 or not self.dont_know or example.where in self.both_forms:
            return None
        if example.where not in self.holders_by_item:  # one scan of the passages per item, not per example
            terms = self.terms_by_item.get(example.where) or answer_terms(
                turns[1]["content"], self.persona_words, self.rare
            )
            self.holders_by_item[example.where] = holders(self.passages, terms) if terms else None
        return self.holders_by_item[example.where]

    def unanswerable(self, example: Example) -> Example | None:
        """The example's question without the passages that answer it, answered with a refusal (None when
        the example cannot be made so: see answer_holders). When nothing else passes the core's score
        threshold, the best of the rest are shown: notes that do not answer, as a near-miss brings."""
        exclude = self.answer_holders(example)
        if exclude is None:
            return None
        question = example.messages[1]["content"]
        grounded = self.grounding.ground(question, exclude=exclude)
        if not grounded["sources"]:
            grounded = self.grounding.ground(question, exclude=exclude, min_score=0.0, top_k=2)
        refusal = self.dont_know[int(sha256_json(example.messages)[:8], 16) % len(self.dont_know)]
        system = example.messages[0]
        messages = [system, {"role": "user", "content": grounded["text"]}, {"role": "assistant", "content": refusal}]
        return Example(messages, example.kind, example.source, example.where, grounding=UNANSWERABLE)

    def grounded(self, example: Example) -> Example:
        return Example(
            user_turns_grounded(example, self.grounding),
            example.kind,
            example.source,
            example.where,
            example.accept,
            grounding=GROUNDED,
        )

    def forms(self, example: Example, rng: random.Random, refuse_chance: float) -> tuple[Example, ...]:
        """One of the three forms for a training example, an unanswerable one with its answered partner
        (the module's docstring says why), an identity item's or a refusal's in both plain and grounded forms;
        `refuse_chance` applies to the examples that can be made unanswerable (so that `unanswerable`
        is a share of all examples)."""
        grounded, unanswerable = self.shares
        if example.where in self.both_forms and example.kind != "writing":
            return example, self.grounded(example)
        if rng.random() < refuse_chance and self.answer_holders(example) is not None:
            return self.unanswerable(example), self.grounded(example)
        if rng.random() < grounded / max(1.0 - unanswerable, 1e-9) and example.kind != "writing":
            return (self.grounded(example),)
        return (example,)

    def copy_for_holdout(self, example: Example, rng: random.Random) -> Example | None:
        """A grounded or unanswerable copy of a held-out example (the plain one stays as it is)."""
        if example.kind == "writing":
            return None
        grounded, unanswerable = self.shares
        if rng.random() < unanswerable / max(grounded + unanswerable, 1e-9):
            refused = self.unanswerable(example)
            if refused is not None:
                return refused
        return self.grounded(example)


def ground_split(train: list[Example], holdout: list[Example], grounder: Grounder, seed: int):
    """(train, holdout) with the forms drawn; the same inputs and seed give the same data, and an
    example keeps its form when others are added or removed (its draws depend on it alone)."""

    def rng(ex: Example) -> random.Random:
        return random.Random(f"{seed}:grounding:{sha256_json(ex.messages)}")

    grounder.learn_answers(train + holdout)
    can_refuse = sum(grounder.answer_holders(ex) is not None for ex in train)
    refuse_chance = min(1.0, grounder.shares[1] * len(train) / can_refuse) if can_refuse else 0.0
    train = [formed for ex in train for formed in grounder.forms(ex, rng(ex), refuse_chance)]
    copies = [grounder.copy_for_holdout(ex, rng(ex)) for ex in holdout]
    return train, holdout + [c for c in copies if c is not None]
