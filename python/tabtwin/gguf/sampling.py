"""A model's recommended sampling, carried in its GGUF under gguf-py's standard `general.sampling.*`
keys, so the evaluation, the CLI and the page decode a twin the same way (the core reads them; its
own defaults fill the rest; models.toml may override them per site).

The option names are the core's and models.toml's (snake_case); the ranges bound what a registry or
a run config may ask for."""

from __future__ import annotations

import gguf
from gguf import GGUFWriter

from tabtwin.inputs import did_you_mean

# option -> (type, low, high, GGUF key or None when the option is not a model's recommendation)
OPTIONS = {
    "temperature": (float, 0.0, 5.0, gguf.Keys.General.SAMPLING_TEMP),
    "top_k": (int, 0, 1000, gguf.Keys.General.SAMPLING_TOP_K),
    "top_p": (float, 0.0, 1.0, gguf.Keys.General.SAMPLING_TOP_P),
    "repeat_penalty": (float, 1.0, 3.0, gguf.Keys.General.SAMPLING_PENALTY_REPEAT),
    "max_tokens": (int, 1, 8192, None),
    "seed": (int, 0, 2**53, None),
}
RECOMMENDABLE = tuple(name for name, (_, _, _, key) in OPTIONS.items() if key)


def problems(sampling: dict, allowed: tuple[str, ...] = tuple(OPTIONS)) -> list[tuple[str, str]]:
    """(key, what is wrong) for each bad entry of a table of sampling options (empty when all is well)."""
    found = []
    for key, value in sampling.items():
        if key not in allowed:
            found.append((key, f"unknown sampling key{did_you_mean(key, allowed)}; valid: {', '.join(allowed)}"))
            continue
        kind, low, high, _ = OPTIONS[key]
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not is_number or (kind is int and not isinstance(value, int)) or not low <= value <= high:
            what = "an integer" if kind is int else "a number"
            found.append((key, f"must be {what} from {low} to {high} (got {value!r})"))
    return found


def write(writer: GGUFWriter, sampling: dict) -> None:
    """Write a model's recommended sampling (only the options a GGUF can carry)."""
    for key, value in sampling.items():
        kind, _, _, gguf_key = OPTIONS[key]
        if gguf_key is None:
            continue
        if kind is int:
            writer.add_int32(gguf_key, int(value))
        else:
            writer.add_float32(gguf_key, float(value))
