"""From a chat's messages to records (WhatsApp and Telegram share this).

A chat becomes sessions (a pause of more than `SESSION_GAP` starts a new one); in a session,
consecutive messages of one side are one turn (the author's: assistant; anyone else's: user), so
the turns alternate. A session gives conversations of at most `MAX_TURNS` turns that start with
another person's turn and end with the author's reply: what the author answered, and how. What
the others said last, with no answer, is left out; so is an author's turn that opens a session,
unless it is long enough to stand alone as writing (`WRITING_MIN_CHARS`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from tabtwin.imports import record

SESSION_GAP = timedelta(hours=6)
MAX_TURNS = 8  # 4 exchanges: long enough for context, short enough to fit a small model's window
WRITING_MIN_CHARS = 280  # an unprompted message this long reads as a note, not a chat line


@dataclass
class ChatMessage:
    stamp: str  # the export's own timestamp or message id, as written: part of the stable key
    when: datetime | None
    sender: str
    text: str
    mine: bool


@dataclass
class Turn:
    role: str
    messages: list[ChatMessage]

    @property
    def content(self) -> str:
        return "\n".join(m.text for m in self.messages)


def sessions(messages: list[ChatMessage]) -> list[list[ChatMessage]]:
    found: list[list[ChatMessage]] = []
    for message in messages:
        last = found[-1][-1] if found else None
        if last is None or (message.when and last.when and message.when - last.when > SESSION_GAP):
            found.append([message])
        else:
            found[-1].append(message)
    return found


def turns(session: list[ChatMessage]) -> list[Turn]:
    found: list[Turn] = []
    for message in session:
        role = record.ASSISTANT if message.mine else record.USER
        if found and found[-1].role == role:
            found[-1].messages.append(message)
        else:
            found.append(Turn(role, [message]))
    return found


def records(fmt: str, source: str, chat_key: str, messages: list[ChatMessage]) -> tuple[list[dict], Counter]:
    """The conversations and writing in one chat, and what was left out (by reason)."""
    found: list[dict] = []
    left_out: Counter = Counter()
    for session in sessions(messages):
        session_turns = turns(session)
        if session_turns and session_turns[0].role == record.ASSISTANT:
            opening = session_turns.pop(0)
            if len(opening.content) >= WRITING_MIN_CHARS:
                found.append(_writing(fmt, source, chat_key, opening))
            else:
                left_out["your messages nobody prompted"] += len(opening.messages)
        if session_turns and session_turns[-1].role == record.USER:
            left_out["others' messages you did not answer"] += len(session_turns.pop().messages)
        for start in range(0, len(session_turns), MAX_TURNS):
            found.append(_conversation(fmt, source, chat_key, session_turns[start : start + MAX_TURNS]))
    return found, left_out


def _key(chat_key: str, first: ChatMessage) -> str:
    return f"{chat_key}\n{first.stamp}\n{first.sender}\n{first.text}"


def _conversation(fmt: str, source: str, chat_key: str, chunk: list[Turn]) -> dict:
    messages = [{"role": t.role, "content": t.content} for t in chunk]
    return record.conversation(fmt, _key(chat_key, chunk[0].messages[0]), source, messages)


def _writing(fmt: str, source: str, chat_key: str, turn: Turn) -> dict:
    first = turn.messages[0]
    title = f"A message of {first.when:%Y-%m-%d}" if first.when else "A message"
    return record.writing(fmt, _key(chat_key, first), source, title, turn.content)
