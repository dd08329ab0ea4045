"""Words and names in a reply: the normalisation every check compares with, whole-word phrases,
names (and names only denied, "not ChatGPT"), and word-overlap F1."""

from __future__ import annotations

import re


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
