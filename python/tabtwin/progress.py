"""Progress a person can follow through the long first build: one bar per step, with bytes, rate
and an ETA (tqdm, which gguf-py already brings). Bars go to stderr and only to a terminal, so CI
logs and tests stay readable; `TABTWIN_PROGRESS=1` forces them on, `=0` off."""

from __future__ import annotations

import os

from tqdm.auto import tqdm


def _enabled() -> bool | None:
    forced = os.environ.get("TABTWIN_PROGRESS")
    if forced is None:
        return None  # tqdm: disable when stderr is not a terminal
    return forced not in ("", "0")


def bar(description: str, total: int | None, unit: str = "B"):
    """A context-managed bar: `with bar("merging", n) as b: b.update(k)`."""
    enabled = _enabled()
    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=unit == "B",
        unit_divisor=1000,
        disable=None if enabled is None else not enabled,
        leave=False,
        dynamic_ncols=True,
    )
