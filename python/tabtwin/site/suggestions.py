"""Suggestion chips: questions a visitor might ask the twin, gathered at build time from the author's
own material, so that an empty conversation shows what this twin knows about. The chat page carries
them as JSON data and shows a few at random (static/js/suggestions.js), a different few each time.

Two sources: the persona's Q&A (the first wording of each `fact` seed, when `[grounding]` indexes
"qa", so that the twin is grounded in its answer) and the site's content (one question per project,
book, musing and talk, asked about the entry by name). A Q&A seed whose answer begins with a refusal
("I don't know", "No, I'm Ada") taught the twin what not to invent: it makes a poor suggestion.
"""

from __future__ import annotations

import re

from tabtwin.site.content import SiteContent
from tabtwin.site.grounding import qa_seeds
from tabtwin.site.registry import Grounding

# How a question asks about each kind of entry: (content list, the field naming the entry, question).
ABOUT_ENTRY = (
    ("projects", "name", "What is {} and why did you build it?"),
    ("books", "title", "What did you think of {}?"),
    ("musings", "title", "What is your essay “{}” about?"),
    ("talks", "title", "What was your talk “{}” about?"),
)
REFUSAL = re.compile(r"^(no\b|i don't|i do not|i can't|i cannot|i won't|i'd rather not)", re.IGNORECASE)
PER_SOURCE = 24  # enough variety for the page to draw from; the page stays small


def qa_questions(grounding: Grounding | None) -> list[str]:
    """The first wording of each Q&A seed the index holds whose answer is not a refusal."""
    if grounding is None or grounding.qa is None or "qa" not in grounding.sources:
        return []
    seeds = qa_seeds(grounding.qa)
    return [seed["q"][0].strip() for seed in seeds if not REFUSAL.match(seed["a"][0].strip())]


def suggestions(content: SiteContent, grounding: Grounding | None) -> list[dict[str, str]]:
    """[{"q": question, "source": "qa" | "projects" | "books" | "musings" | "talks"}, ...]."""
    found = [{"q": q, "source": "qa"} for q in qa_questions(grounding)[:PER_SOURCE]]
    for source, name_field, question in ABOUT_ENTRY:
        names = [entry[name_field] for entry in getattr(content, source) if entry.get(name_field)]
        found += [{"q": question.format(name), "source": source} for name in names[:PER_SOURCE]]
    return found
