"""A reply as the page shows it: its thought, its visible text and the apps it opens, read from
the core's events (what the model said) or by the core's own parser (what it should have said)."""

from __future__ import annotations


def from_events(events: list[dict]) -> dict:
    """A reply as the page shows it, from the core's events: thought, visible text, the apps it opens."""
    return {
        "text": "".join(e["text"] for e in events if e["kind"] == "text").strip(),
        "thinking": "".join(e["text"] for e in events if e["kind"] == "thinking") or None,
        "tools": [{"app": e["app"], "params": e["params"]} for e in events if e["kind"] == "tool"],
    }


def parse_answer(text: str) -> dict:
    """An expected answer split by the core's own channel parser (`tabtwin._core.parse_reply`), so the
    evaluation reads TOOL lines and thoughts exactly as the page does."""
    from tabtwin._core import parse_reply

    return from_events(parse_reply(text))
