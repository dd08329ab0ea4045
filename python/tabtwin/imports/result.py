"""What one export gave: its records (not yet masked) and what was read and left out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass
class Imported:
    source: str  # "<format>:<file basename>"
    records: list[dict]
    others: set[str]  # the other people's names, handles and addresses: what the privacy step masks
    left_out: Counter  # reason -> how many messages, tweets or posts
    read: int  # messages, tweets or posts kept after the left-out ones (before grouping)
