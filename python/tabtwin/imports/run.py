"""`tabtwin import`: one export -> records -> the privacy step -> merged into
`PERSONA_DIR/imported/<format>.jsonl` by id.

Everything is read, checked and masked before anything is written, and the file is written whole to
a temporary name and renamed: a refused export (or any failure) leaves the persona as it was. An
item already in the file (the same id: the same export item) is not added again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.imports import mbox, posts, record, telegram, whatsapp, x
from tabtwin.imports.author import Author
from tabtwin.imports.detect import detect
from tabtwin.imports.privacy import Masker
from tabtwin.imports.refusal import refuse
from tabtwin.inputs import read_text
from tabtwin.paths import replacing, shown

READERS = {"whatsapp": whatsapp.read, "telegram": telegram.read, "x": x.read, "mbox": mbox.read, "posts": posts.read}
FIX_THE_LINE = "this file is written by tabtwin import: fix or delete the line, then import again"
MASKED = {"phone": "phone numbers", "email": "email addresses", "name": "names"}
ITEMS = {"whatsapp": "messages", "telegram": "messages", "x": "tweets", "mbox": "messages of yours", "posts": "posts"}


@dataclass
class ImportReport:
    fmt: str
    source: str
    target: Path
    kinds: Counter  # kind -> records this export gave
    left_out: Counter  # reason -> how many
    masked: Counter  # "email" | "phone" | "name" -> how many replaced
    kept: int
    new: int
    already: int
    dry_run: bool

    def lines(self) -> list[str]:
        """What the import did, for the terminal: counts per kind, left out by reason, masked by kind."""
        kinds = Counter({f"{k}s" if k == record.CONVERSATION else k: self.kinds[k] for k in record.KINDS})
        # "what n": "conversations 2, writing 1", "system lines 1" read right for any n
        masked = Counter({MASKED[k]: n for k, n in self.masked.items()})
        written = "dry run: nothing written (" if self.dry_run else "added "
        return [
            f"{self.source} ({self.fmt}) -> {shown(self.target)}",
            f"  read: {self.kept} {ITEMS[self.fmt]} kept",
            f"  imported: {_listed(kinds)}",
            f"  left out: {_listed(self.left_out)}",
            f"  masked: {_listed(masked)}",
            f"  {written}{self.new} new, {self.already} already imported{')' if self.dry_run else ''}",
        ]


def _listed(counts: Counter) -> str:
    return ", ".join(f"{what} {n}" for what, n in counts.items()) or "nothing"


def import_export(
    path: Path, me: Author, persona_dir: Path, fmt: str | None = None, dry_run: bool = False, mask: bool = True
) -> ImportReport:
    path, persona_dir = Path(path), Path(persona_dir)
    if not persona_dir.is_dir():
        raise TabtwinError(f"{persona_dir}: no such persona folder (--into: the folder with seeds.jsonl)")
    fmt = fmt or detect(path)
    imported = READERS[fmt](path, me)
    masker = Masker(imported.others if mask else set(), me.name_words())
    records = [masker.record(r) if mask else r for r in imported.records]
    for item in records:
        if record.problems(item):  # a reader's bug, not the author's: keep the traceback
            raise AssertionError(f"{imported.source}: made an invalid record {item}: {record.problems(item)}")
    target = record.imported_file(persona_dir, fmt)
    lines, ids = _existing(target)
    new = []
    for item in records:
        if item["id"] not in ids:
            ids.add(item["id"])
            new.append(json.dumps(item, ensure_ascii=False))
    if new and not dry_run:
        with replacing(target) as tmp:
            tmp.write_text("".join(f"{line}\n" for line in lines + new), encoding="utf-8")
    return ImportReport(
        fmt=fmt,
        source=imported.source,
        target=target,
        kinds=Counter(r["kind"] for r in records),
        left_out=imported.left_out,
        masked=masker.counts,
        kept=imported.read,
        new=len(new),
        already=len(records) - len(new),
        dry_run=dry_run,
    )


def _existing(target: Path) -> tuple[list[str], set[str]]:
    """The lines already imported (kept as written) and their ids; a damaged line is refused."""
    if not target.exists():
        return [], set()
    lines, ids = [], set()
    for number, line in enumerate(read_text(target, "imported records").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise refuse(
                target, number, f"not valid JSON ({exc.msg}); fix or delete the line, then import again"
            ) from None
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise refuse(target, number, f'a record without an "id"; {FIX_THE_LINE}')
        lines.append(line)
        ids.add(item["id"])
    return lines, ids
