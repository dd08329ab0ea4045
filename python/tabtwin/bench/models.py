"""The files `tabtwin bench browser` compares on by default: what the site serves (SmolLM2-135M F16,
Qwen2.5-Coder-0.5B Q8_0) and an all-Q8_0 SmolLM2 (both runtimes' 8-bit fast path on the small model),
made once from the original download into ~/.cache/tabtwin/bench/."""

from __future__ import annotations

import re
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.paths import cache_dir


def smollm2_q8_0(log=print) -> Path:
    from tabtwin.catalog import defaults
    from tabtwin.gguf.store import STORAGE_REVISION, requantize

    model = defaults.find("smollm2-135m-instruct")
    out = cache_dir() / "bench" / f"{model.id}.q8_0.r{STORAGE_REVISION}.gguf"
    if not out.exists():
        requantize(defaults.unpack_source(model, log), out, progress=log, policy="q8_0")
    return out


def default_files(log=print) -> list[Path]:
    from tabtwin.catalog import defaults

    served = [defaults.fetch(defaults.find(i), log) for i in ("smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct")]
    return [smollm2_q8_0(log), *served]


def resolve(items: list[str], log=print) -> list[Path]:
    """GGUF paths, or default model ids (their served copies); none: the default comparison."""
    if not items:
        return default_files(log)
    from tabtwin.catalog import defaults

    paths = []
    for item in items:
        path = Path(item).expanduser()
        if path.suffix == ".gguf":
            if not path.is_file():
                raise TabtwinError(f"{path}: no such GGUF file")
            paths.append(path)
        else:
            paths.append(defaults.fetch(defaults.find(item), log))
    return paths


def model_id(path: Path) -> str:
    """A registry id from a file name: `smollm2-135m-instruct.q8_0.r3.gguf` -> `smollm2-135m-instruct.q8_0`."""
    stem = re.sub(r"\.r\d+$", "", path.stem.lower())
    return re.sub(r"[^a-z0-9._-]", "-", stem)[:64].strip("-.") or "model"
