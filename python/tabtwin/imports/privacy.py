"""The privacy step, on by default: phone numbers, email addresses and the names of the other people
in an export are replaced by `[phone]`, `[email]`, `[name]` in every text a record holds, so a twin
trained on a chat does not learn (or repeat to a visitor) a friend's number or name.

Names are the other participants' display names (a chat's senders, a mail's From/To/Cc, the accounts
a post mentions), and each word of them of three letters or more, matched as a whole word as written
or capitalized ("Bob Smith" masks "Bob", "Smith", "bob" only as "@bob"). A word of the author's own
names is never masked. A common word that is also someone's name ("Will") is masked too: the step
errs on the side of the friend.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits with the separators phone numbers are written with; checked further in _phone.
PHONE = re.compile(r"(?<![\w+/.:-])(?:\+|00)?\(?\d[\d ()./-]{5,}\d(?![\w/-])")
DATE_LIKE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}|\d{1,2}[.:]\d{2}([.:]\d{2})?")
MASKS = {"email": "[email]", "phone": "[phone]", "name": "[name]"}


@dataclass
class Masker:
    """Masks one import's texts; `counts` says how many of each it replaced."""

    others: set[str]
    author_words: set[str]
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self):
        words = set()
        for name in self.others:
            if not re.search(r"[^\W\d_]", name) or "@" in name:
                continue  # a phone number or an address as a sender: masked as such
            words.add(name.strip())
            words |= {w for w in re.findall(r"[^\W\d_][\w'-]*[^\W_]|[^\W\d_]", name) if len(w) >= 3}
        words = {w for w in words if w.casefold() not in self.author_words and w}
        forms = {form for w in words for form in (w, w[:1].upper() + w[1:])}
        alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        # "@bob" is a handle however it is cased; a bare word only as written or capitalized
        handles = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True) if " " not in w)
        pattern = []
        if handles:
            pattern.append(f"(?i:(?<=@)(?:{handles}))(?!\\w)")
        if alternatives:
            pattern.append(f"(?<![\\w@])(?:{alternatives})(?!\\w)")
        self._names = re.compile("|".join(pattern)) if pattern else None

    def mask(self, text: str) -> str:
        text = EMAIL.sub(lambda m: self._count("email"), text)
        text = PHONE.sub(self._phone, text)
        if self._names is not None:
            text = self._names.sub(lambda m: self._count("name"), text)
        return text

    def _phone(self, match: re.Match) -> str:
        number = match.group(0).rstrip(" ")
        digits = sum(c.isdigit() for c in number)
        if not 7 <= digits <= 15 or DATE_LIKE.fullmatch(number.strip("()")):
            return match.group(0)
        # a bare run of 7-8 digits is more often an amount or an id than a phone number
        if digits < 9 and not re.search(r"[ ()./-]|^\+|^00", number):
            return match.group(0)
        return self._count("phone") + match.group(0)[len(number) :]

    def _count(self, kind: str) -> str:
        self.counts[kind] += 1
        return MASKS[kind]

    def record(self, record: dict) -> dict:
        """A copy of an imported record with its texts masked (the id and source as they were)."""
        masked = dict(record)
        if "messages" in record:
            masked["messages"] = [{**m, "content": self.mask(m["content"])} for m in record["messages"]]
        for key in ("title", "text"):
            if key in record:
                masked[key] = self.mask(record[key])
        return masked
