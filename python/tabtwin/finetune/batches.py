"""Which examples go into each optimizer step: a function of (config, epoch) only.

Without packing a micro-batch is `batch_size` examples, padded to the longest.
With `[train] packing = true` a micro-batch is `batch_size` rows of up to
`max_seq_len` tokens, each holding as many whole examples as fit (first fit, in
the epoch's shuffled order). The rows carry position ids that restart at 0 for
every example, and the model's attention mask is built from them (transformers
treats a position reset as the start of an independent sequence), so no example
attends to another: the loss is that of the examples trained one by one, without
the padding. On the demo data (tokens per example: median 152, max 827) padding
is 38% of a random batch of four, so packing buys that much compute on a CPU.

Training (`train.py`) and `tabtwin data stats` both plan their steps here.
"""

from __future__ import annotations

import random

Row = list[int]  # example indices, trained side by side in one sequence
MicroBatch = list[Row]


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The example order of one epoch: a function of (seed, epoch) only, so a resumed run sees the same."""
    order = list(range(n))
    random.Random(f"{seed}:epoch:{epoch}").shuffle(order)
    return order


def pack(order: list[int], lengths: list[int], capacity: int) -> list[Row]:
    """Rows of whole examples, at most `capacity` tokens each, first fit in `order` (rows keep that order)."""
    rows: list[Row] = []
    room: list[int] = []
    for i in order:
        if lengths[i] > capacity:
            raise ValueError(f"example {i} has {lengths[i]} tokens, more than a row's {capacity}")
        row = next((r for r, free in enumerate(room) if free >= lengths[i]), None)
        if row is None:
            rows.append([])
            room.append(capacity)
            row = len(rows) - 1
        rows[row].append(i)
        room[row] -= lengths[i]
    return rows


def micro_batches(lengths: list[int], *, batch_size: int, packing: bool, max_seq_len: int, seed: int, epoch: int):
    """The epoch's micro-batches, each a list of rows (a row is one example unless packing)."""
    order = epoch_order(len(lengths), seed, epoch)
    rows = pack(order, lengths, max_seq_len) if packing else [[i] for i in order]
    return [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]


def steps(lengths: list[int], t, epoch: int) -> list[list[MicroBatch]]:
    """The epoch's optimizer steps for `[train]` settings `t`: groups of `grad_accum` micro-batches."""
    batches = micro_batches(
        lengths, batch_size=t.batch_size, packing=t.packing, max_seq_len=t.max_seq_len, seed=t.seed, epoch=epoch
    )
    return [batches[i : i + t.grad_accum] for i in range(0, len(batches), t.grad_accum)]
