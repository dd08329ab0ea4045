"""A mailbox in mbox format (Gmail Takeout's `All mail Including Spam and Trash.mbox`, Thunderbird,
Apple Mail): messages separated by lines that start with `From `.

The author's messages are those whose From (address or display name) is one of `--me`. Of each,
only what the author wrote is kept: the quoted reply (`> ` lines, the "On ... wrote:" block and all
below it, Outlook's "-----Original Message-----"), the signature (after a `-- ` line) and "Sent from
my phone" lines are cut; a message with only HTML is turned into text. When the message it answers
(`In-Reply-To`) is in the mailbox and someone else's, that message's own words are the user turn of
a conversation; otherwise a message long enough to stand alone becomes writing, titled by its
subject. Other people's messages are never the author's words.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from tabtwin.imports import record
from tabtwin.imports.author import Author
from tabtwin.imports.chat import WRITING_MIN_CHARS
from tabtwin.imports.html_text import html_to_text
from tabtwin.imports.refusal import refuse
from tabtwin.imports.result import Imported

SEPARATOR = b"From "
QUOTE_HEADER = re.compile(
    r"^(On .{0,200}wrote:|Le .{0,200}a écrit ?:|Am .{0,200}schrieb .{0,100}:|-{2,} ?Original Message ?-{2,}|"
    r"_{20,}|-{2,} ?Forwarded message ?-{2,}|From: .+ Sent: .+)$",
    re.I | re.S,
)
SENT_FROM = re.compile(r"^(Sent from my \w.*|Get Outlook for \w.*|Sent from Mail for Windows.*)$", re.I)
RE_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv|wg)\s*(\[\d+\])?:\s*)+", re.I)


def read(path: Path, me: Author) -> Imported:
    messages = _split(path, path.read_bytes())
    source = record.source_name("mbox", path.name)
    by_id, mine, others, left_out = {}, [], set(), Counter()
    for _, raw in messages:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        sender = getaddresses([str(message.get("From", ""))])
        if not sender or not any(sender[0]):
            left_out["messages without a From"] += 1
            continue
        name, address = sender[0]
        is_mine = me.is_me(name, address)
        if message.get("Message-ID"):
            by_id[message["Message-ID"].strip()] = (message, is_mine)
        people = getaddresses([str(message.get(h, "")) for h in ("From", "To", "Cc")])
        others |= {part for person in people if not me.is_me(*person) for part in person if part}
        if is_mine:
            mine.append(message)
        else:
            left_out["others' messages (read only as what you answered)"] += 1
    if not mine:
        raise refuse(path, None, f"no message is from --me ({me.shown()}); give the addresses you send from")
    found = []
    for message in mine:
        made = _record(source, message, by_id, left_out)
        if made:
            found.append(made)
    return Imported(source, found, others, left_out, len(mine))


def _split(path: Path, data: bytes) -> list[tuple[int, bytes]]:
    """(line of its `From ` separator, the message's bytes) per message; `>From ` unescaped."""
    lines = data.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not lines[first].startswith(SEPARATOR):
        raise refuse(path, (first or 0) + 1, 'not an mbox: the first line should start with "From " (a separator)')
    found: list[tuple[int, list[bytes]]] = []
    for number, line in enumerate(lines[first:], first + 1):
        if line.startswith(SEPARATOR) and (not found or not lines[number - 2].strip()):
            found.append((number, []))
        else:
            found[-1][1].append(re.sub(rb"^>(>*From )", rb"\1", line))
    return [(number, b"".join(body)) for number, body in found]


def _record(source: str, message: EmailMessage, by_id: dict, left_out: Counter) -> dict | None:
    words = own_words(message)
    key = (message.get("Message-ID") or "").strip() or f"{message.get('Date')}\n{message.get('Subject')}\n{words}"
    subject = RE_PREFIX.sub("", str(message.get("Subject") or "")).strip()
    if not words:
        left_out["your messages with nothing of your own (a forward, an attachment)"] += 1
        return None
    parent = by_id.get((message.get("In-Reply-To") or "").strip())
    if parent and not parent[1]:
        asked = own_words(parent[0])
        if asked:
            turns = [{"role": record.USER, "content": asked}, {"role": record.ASSISTANT, "content": words}]
            return record.conversation("mbox", key, source, turns)
    if len(words) >= WRITING_MIN_CHARS:
        return record.writing("mbox", key, source, subject or "A letter", words)
    left_out["short messages of yours with no question in the mailbox"] += 1
    return None


def own_words(message: EmailMessage) -> str:
    """What the sender wrote in a message: its text (or its HTML as text), quotes and signature cut."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        text = part.get_payload(decode=True).decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        text, _ = html_to_text(text)
    return cut_reply(text)


def cut_reply(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if line.rstrip() == "--":
            break  # the signature separator "-- "
        if _quote_starts(lines, i):
            break
        if line.startswith(">") or SENT_FROM.match(line.strip()):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _quote_starts(lines: list[str], i: int) -> bool:
    """Whether the quoted message starts at line i. "On Mon, 1 Jan 2024, Bob <bob@x.org> wrote:" and
    Outlook's "From: ... Sent: ..." are often wrapped onto two lines."""
    here = lines[i].strip()
    two = " ".join(line.strip() for line in lines[i : i + 2])
    return bool(
        QUOTE_HEADER.match(here) or (here.startswith(("On ", "Le ", "Am ", "From: ")) and QUOTE_HEADER.match(two))
    )
