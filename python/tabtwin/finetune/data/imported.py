"""The author's archives as `tabtwin import` wrote them: `imported/<format>.jsonl`, one record a line,
a conversation or a piece of writing (the schema, shared with the importer: tabtwin/imports/record.py).

A conversation is checked like a line of conversations.jsonl (user first, turns alternating, the
author's turns are the assistant's); a writing record is cut into paragraph pairs like a file in
writing/. Each item is tagged `imported/<format>.jsonl:<line>` and its source is the file
(`imported/<format>`): the unit that `[data] max_per_source` caps (curate.py). Every problem is
collected with its place, as for the hand-written files.
"""

from __future__ import annotations

import re
from pathlib import Path

from tabtwin.finetune.data.sources import Conversation, check_messages
from tabtwin.imports.record import CONVERSATION, ID_HEX_DIGITS, IMPORTED_DIR
from tabtwin.imports.record import problems as record_problems
from tabtwin.inputs import InputError, jsonl_objects, read_text

FOLDER = IMPORTED_DIR
SOURCE_PREFIX = FOLDER + "/"  # an imported item's source: "imported/whatsapp"
RECORD_ID = re.compile(f"[0-9a-f]{{{ID_HEX_DIGITS}}}")


def is_imported(source: str) -> bool:
    return source.startswith(SOURCE_PREFIX)


def read_imported(
    folder: Path, apps: tuple[str, ...], writing_limits: tuple[int, int], problems: list[str]
) -> tuple[list[Conversation], dict[str, int]]:
    """Every `folder/*.jsonl` (sorted) -> its items in file order, and records read per file name
    (`imported/whatsapp.jsonl`)."""
    items: list[Conversation] = []
    files: dict[str, int] = {}
    for path in sorted(folder.glob("*.jsonl")):
        name = f"{FOLDER}/{path.name}"
        try:
            text = read_text(path, "records written by `tabtwin import`: one JSON object a line")
        except InputError as exc:
            problems.append(str(exc).replace(str(path), name, 1))
            continue
        source = SOURCE_PREFIX + path.stem
        records = 0
        for number, obj in jsonl_objects(path, text, problems, name):
            records += 1
            items += record_items(obj, f"{name}:{number}", source, apps, writing_limits, problems)
        files[name] = records
    return items, files


def record_items(
    obj: dict, where: str, source: str, apps: tuple[str, ...], writing_limits: tuple[int, int], problems: list[str]
) -> list[Conversation]:
    """One record -> its conversation, or its writing's paragraph pairs; [] with problems if it is wrong.
    The record's shape is the schema's (tabtwin.imports.record); what a training example may hold on
    top of it (no chat-format markers, TOOL lines naming allowed apps) is the persona's rule."""
    found = record_problems(obj)
    if not found and not RECORD_ID.fullmatch(obj["id"]):
        found.append(f"id must be {ID_HEX_DIGITS} lowercase hex digits, got {obj['id']!r:.40}")
    if found:
        problems += [f"{where}: {phrase}" for phrase in found]
        return []
    if obj["kind"] == CONVERSATION:
        messages = [{"role": m["role"], "content": m["content"]} for m in obj["messages"]]
        found = check_messages(messages, where, apps)
        problems += found
        return [] if found else [Conversation(where, messages, CONVERSATION, source)]
    return writing_items(obj, where, source, apps, writing_limits, problems)


def writing_items(
    obj: dict, where: str, source: str, apps: tuple[str, ...], limits: tuple[int, int], problems: list[str]
) -> list[Conversation]:
    from tabtwin.finetune.data.writing import piece_to_pairs

    title = " ".join(obj["title"].split())
    # The title as the piece's heading, so the prompts name it as they name a file's in writing/.
    pairs = piece_to_pairs(f"# {title}\n\n{obj['text']}", ".md", where, title, *limits)
    for k, pair in enumerate(pairs, 1):
        pair.origin = source
        pair.where = where if len(pairs) == 1 else f"{where} (part {k})"
        problems += check_messages(pair.messages, pair.where, apps)
    return pairs
