"""Who the author is: `--me NAME[,ALIAS...]`, the names, handles, ids or addresses the author's own
messages carry. Only messages from one of them may become the author's (assistant) words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tabtwin.errors import TabtwinError


def _normal(identity: str) -> str:
    # "@Ada_OL", " ada  okonkwo " and "ADA@x.org" compare as the same spelling however an export writes them
    return re.sub(r"\s+", " ", identity.strip().lstrip("@").strip()).casefold()


@dataclass(frozen=True)
class Author:
    identities: tuple[str, ...]  # as given, for messages

    @classmethod
    def parse(cls, text: str) -> Author:
        identities = tuple(part.strip() for part in text.split(",") if part.strip())
        if not identities:
            raise TabtwinError("--me: give the author's name (and aliases, handles, addresses), comma-separated")
        return cls(identities)

    def is_me(self, *spellings: str | None) -> bool:
        """Whether any of a sender's spellings (display name, address, id, handle) is one of --me."""
        mine = {_normal(i) for i in self.identities}
        return any(s and _normal(s) in mine for s in spellings)

    def name_words(self) -> set[str]:
        """The words of the author's names: never masked as another person's name."""
        return {w.casefold() for i in self.identities for w in re.findall(r"\w+", i)}

    def shown(self) -> str:
        return ", ".join(self.identities)
