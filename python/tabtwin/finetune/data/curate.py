"""What is kept of the imported archives (imported.py): tens of thousands of chat messages, mails and
posts must not drown the author's own Q&A, conversations and essays, nor teach one reply a hundred times.

The hand-written sources (seeds, conversations.jsonl, writing/) are all kept; they come first. Then
each imported item (a conversation, or a paragraph of a post), in file order, is dropped when:

  too_short       the author's words in it are fewer than `[data] min_answer_chars` ("ok", "see you")
  too_long        one of its messages is longer than `max_message_chars` (a pasted log, a whole thread)
  duplicate       the author's words in it (what the twin learns to say: the assistant turns, a
                  paragraph) are an earlier item's, once case, punctuation and spacing are set aside
  near_duplicate  their word 3-shingles overlap an earlier item's by a Jaccard of `near_duplicate` or
                  more (MinHash over banded buckets finds the candidates, the exact Jaccard decides)
  over_cap        its source (one imported file) keeps `max_per_source` items already: those kept are
                  the ones whose digest (the config's seed and the item's text) ranks lowest, spread over
                  the whole archive and stable as it grows, in file order

`data build` then drops an imported example longer than `[train] max_seq_len` (`over_max_seq_len`)
where a hand-written one is refused. Facts stay in seeds.jsonl: nothing here reads or drops a seed.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from tabtwin.finetune.data.imported import is_imported
from tabtwin.finetune.data.sources import Conversation

# Why an imported item was left out, in the order the rules run (stats and the manifest use this order).
DROPPED = ("too_short", "too_long", "duplicate", "near_duplicate", "over_cap", "over_max_seq_len")
PRIME = 4294967291  # the largest prime below 2**32: a * h + b stays inside uint64
PERMUTATIONS, BANDS = 64, 16  # 16 bands of 4 rows: pairs with a Jaccard of ~0.5 already share a bucket
WORD = re.compile(r"\w+")


@dataclass
class Curation:
    """Per imported source (`imported/whatsapp`): items read, kept, and dropped by reason."""

    sources: dict[str, Counter] = field(default_factory=dict)

    def count(self, source: str, what: str, n: int = 1) -> None:
        self.sources.setdefault(source, Counter())[what] += n

    def to_json(self) -> dict[str, dict[str, int]]:
        order = ("read", "kept", *DROPPED)
        return {s: {k: c[k] for k in order if c[k] or k in ("read", "kept")} for s, c in sorted(self.sources.items())}


def words(conv: Conversation) -> list[str]:
    """The author's words in an item (its assistant turns), lower-cased, without punctuation."""
    return WORD.findall("\n".join(m["content"] for m in conv.messages if m["role"] == "assistant").casefold())


def shingles(tokens: list[str]) -> set[str]:
    if len(tokens) < 3:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + 3]) for i in range(len(tokens) - 2)}


class NearIndex:
    """Items seen so far, for "does this one nearly repeat one of them?" in about constant time each."""

    def __init__(self, threshold: float):
        rng = np.random.default_rng(0)
        self.a = rng.integers(1, PRIME, PERMUTATIONS, dtype=np.uint64)
        self.b = rng.integers(0, PRIME, PERMUTATIONS, dtype=np.uint64)
        self.threshold = threshold
        self.buckets: list[dict[bytes, list[int]]] = [{} for _ in range(BANDS)]
        self.items: list[set[str]] = []

    def _bands(self, grams: set[str]) -> list[bytes]:
        hashes = np.fromiter((zlib.crc32(g.encode()) for g in grams), np.uint64, len(grams))
        signature = ((np.outer(self.a, hashes) + self.b[:, None]) % PRIME).min(axis=1)
        return [band.tobytes() for band in signature.reshape(BANDS, -1)]

    def repeats_or_adds(self, grams: set[str]) -> bool:
        """True when an item already seen overlaps `grams` by the threshold; else remember it."""
        bands = self._bands(grams)
        candidates = {i for band, bucket in zip(bands, self.buckets) for i in bucket.get(band, ())}
        for i in candidates:
            other = self.items[i]
            if len(grams & other) >= self.threshold * len(grams | other):
                return True
        index = len(self.items)
        self.items.append(grams)
        for band, bucket in zip(bands, self.buckets):
            bucket.setdefault(band, []).append(index)
        return False


def curate(
    handwritten: list[Conversation], imported: list[Conversation], data, seed: int
) -> tuple[list[Conversation], Curation]:
    """The imported items to keep (in file order) and what was dropped, per `data` ([data] of the config)."""
    report = Curation()
    exact: set[str] = set()
    near = NearIndex(data.near_duplicate) if data.near_duplicate < 1.0 else None
    for conv in handwritten:
        tokens = words(conv)
        exact.add(" ".join(tokens))
        if near is not None:
            near.repeats_or_adds(shingles(tokens))
    survivors: dict[str, list[Conversation]] = {}
    for conv in imported:
        source = conv.origin
        report.count(source, "read")
        reason = None
        author = sum(len(m["content"].strip()) for m in conv.messages if m["role"] == "assistant")
        tokens = words(conv)
        key = " ".join(tokens)
        if author < data.min_answer_chars:
            reason = "too_short"
        elif any(len(m["content"]) > data.max_message_chars for m in conv.messages):
            reason = "too_long"
        elif key in exact:
            reason = "duplicate"
        else:
            exact.add(key)
            if near is not None and near.repeats_or_adds(shingles(tokens)):
                reason = "near_duplicate"
        if reason:
            report.count(source, reason)
        else:
            survivors.setdefault(source, []).append(conv)
    kept: list[Conversation] = []
    for source, items in survivors.items():
        if data.max_per_source and len(items) > data.max_per_source:
            ranked = sorted(range(len(items)), key=lambda i: _digest(seed, source, items[i]))
            chosen = set(ranked[: data.max_per_source])
            report.count(source, "over_cap", len(items) - len(chosen))
            items = [item for i, item in enumerate(items) if i in chosen]
        report.count(source, "kept", len(items))
        kept += items
    return kept, report


def _digest(seed: int, source: str, conv: Conversation) -> str:
    text = "\n".join(m["content"] for m in conv.messages)
    return hashlib.sha256(f"{seed}\0{source}\0{text}".encode()).hexdigest()


def drop_too_long(curation: Curation, examples: list, too_long: list[int]) -> set[int]:
    """The indices of the examples to drop because an imported item is over max_seq_len: every example
    of such an item (its plain and grounded forms alike), counted once per item. Hand-written examples
    are left for the caller to refuse."""
    items = {(examples[i].source, examples[i].where) for i in too_long if is_imported(examples[i].source)}
    for source, _ in items:
        curation.count(source, "over_max_seq_len")
        curation.count(source, "kept", -1)
    return {i for i, ex in enumerate(examples) if (ex.source, ex.where) in items}
