"""WhatsApp "Export chat" (.txt, without media), Android and iOS.

    12/31/23, 9:41 PM - Bob: text          Android (US; `31/12/2023, 21:41 - ` elsewhere)
    [31.12.23, 21:41:05] Bob: text         iOS (`[12/31/23, 9:41:05 PM] ` in the US)

A line that does not start with a date and time continues the message above it. Lines without a
sender ("Messages and calls are end-to-end encrypted", "Bob added Carol") and system notes under a
sender (iOS puts the encryption notice under the chat's name), media placeholders and deleted
messages are left out. Whether a date is day- or month-first is read from the whole file: a first
number above 12 means day-first, a second above 12 month-first; with neither, AM/PM times mean the
US order and 24-hour times the day-first one.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from pathlib import Path

from tabtwin.imports import chat, record
from tabtwin.imports.author import Author
from tabtwin.imports.refusal import refuse
from tabtwin.imports.result import Imported
from tabtwin.inputs import read_text

DATE = r"(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4})"
TIME = r"(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:[\s\u202f\u00a0]?[AaPp]\.?\s?[Mm]\.?)?)"
ANDROID = re.compile(rf"{DATE},?\s{TIME}\s-\s(?P<rest>.*)")
IOS = re.compile(rf"\[{DATE},?\s{TIME}\]\s(?P<rest>.*)")
INVISIBLE = "\u200e\u200f\ufeff\u202a\u202c"
EXAMPLE = '"12/31/23, 9:41 PM - Name: text" (Android) or "[31.12.23, 21:41:05] Name: text" (iOS)'

MEDIA = re.compile(
    r"<Media omitted>|<attached: [^>]*>|.* \(file attached\)|(image|video|audio|sticker|GIF|document|"
    r"Contact card) omitted|.*document omitted|location: https?://\S+|Live location shared",
    re.I,
)
DELETED = re.compile(r"This message was deleted\.?|You deleted this message\.?|null", re.I)
SYSTEM = re.compile(
    r"(Messages and calls are end-to-end encrypted|Messages to this (chat|group) and calls are now secured|"
    r"Missed (group )?(voice|video) call|(Voice|Video) call, |Waiting for this message|"
    r"This chat is with a business account|Your security code with ).*|(Voice|Video) call",
    re.I,
)
EDITED = re.compile(r"\s*<This message was edited>$")


def read(path: Path, me: Author) -> Imported:
    lines = read_text(path, "a WhatsApp chat export").splitlines()
    style = _style(path, lines)
    raw = _messages(lines, style)
    day_first = _day_first(path, raw)
    source = record.source_name("whatsapp", path.name)
    messages, left_out, others = [], Counter(), set()
    for line_no, date, time, rest in raw:
        when = _when(path, line_no, date, time, day_first)
        sender, sep, marked = rest.partition(": ")
        text = EDITED.sub("", _visible(marked)).strip()
        kept = "\n".join(line for line in text.split("\n") if not MEDIA.fullmatch(line.strip())).strip()
        if DELETED.fullmatch(text):
            left_out["deleted messages"] += 1
        elif sep and not kept:
            left_out["media-only messages"] += 1
        elif not sep or marked.startswith("\u200e") or SYSTEM.fullmatch(text.split("\n")[0]):
            # iOS marks its notes under a sender ("Carol created group", calls) with a
            # left-to-right mark before the text; Android writes them without a sender
            left_out["system lines"] += 1
        else:
            sender = _visible(sender).strip()
            mine = me.is_me(sender)
            if not mine:
                others.add(sender)
            messages.append(chat.ChatMessage(f"{date} {time}", when, sender, kept, mine))
    if not any(m.mine for m in messages):
        senders = ", ".join(sorted({m.sender for m in messages})) or "none"
        raise refuse(path, None, f"no message is from --me ({me.shown()}); the senders are: {senders}")
    found, dropped = chat.records("whatsapp", source, path.name, messages)
    return Imported(source, found, others, left_out + dropped, len(messages))


def _visible(text: str) -> str:
    return text.translate({ord(c): None for c in INVISIBLE})


def _style(path: Path, lines: list[str]) -> re.Pattern:
    """Android or iOS, from the first line with text; a first line that is neither is refused."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            for style in (ANDROID, IOS):
                if style.match(line.lstrip(INVISIBLE)):
                    return style
            raise refuse(path, number, f"not a WhatsApp chat export: a line should start like {EXAMPLE}")
    raise refuse(path, 1, "not a WhatsApp chat export: the file is empty")


def _messages(lines: list[str], style: re.Pattern) -> list[tuple[int, str, str, str]]:
    """(line, date, time, "sender: text") per message; lines that start no message continue the last."""
    found: list[tuple[int, str, str, str]] = []
    for number, line in enumerate(lines, 1):
        match = style.match(line.lstrip(INVISIBLE))  # the text keeps its marks: iOS flags notes with one
        if match:
            found.append((number, match["date"], match["time"], match["rest"]))
        elif found:
            number0, date, time, rest = found[-1]
            found[-1] = (number0, date, time, f"{rest}\n{line}")
    return found


def _fields(date: str) -> list[int]:
    return [int(f) for f in re.split(r"[./-]", date)]


def _day_first(path: Path, raw: list[tuple[int, str, str, str]]) -> bool | None:
    """True: D/M/Y; False: M/D/Y; None: Y-M-D. Refused when the file holds both orders."""
    if all(len(re.split(r"[./-]", d)[0]) == 4 for _, d, _, _ in raw):
        return None
    day_first_at = next((n for n, d, _, _ in raw if _fields(d)[0] > 12), None)
    month_first_at = next((n for n, d, _, _ in raw if _fields(d)[1] > 12), None)
    if day_first_at and month_first_at:
        raise refuse(
            path,
            max(day_first_at, month_first_at),
            f"dates in two orders (day-first at line {day_first_at}, month-first at line {month_first_at})",
        )
    if day_first_at or month_first_at:
        return bool(day_first_at)
    return not any(re.search(r"[AaPp]\.?\s?[Mm]", t) for _, _, t, _ in raw)


def _when(path: Path, line: int, date: str, time: str, day_first: bool | None) -> datetime:
    a, b, c = _fields(date)
    year, month, day = (a, b, c) if day_first is None else (c, b, a) if day_first else (c, a, b)
    clock = re.match(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\W*([AaPp])?", time)
    hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
    if clock[4]:
        hour = hour % 12 + (12 if clock[4] in "Pp" else 0)
    try:
        return datetime(year + 2000 if year < 100 else year, month, day, hour, minute, second)
    except ValueError as exc:
        raise refuse(path, line, f'"{date}, {time}" is not a date and time ({exc})') from None
