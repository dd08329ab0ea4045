"""Splitting a model file into parts below GitHub Pages' 100 MB per-file limit.

The page fetches the parts in order and concatenates them; each part's sha256
and the whole file's sha256 go into models.json.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from tabtwin.paths import CHUNK, sha256_file


def place(src: Path, dst: Path) -> None:
    """Put `src` at `dst` without copying bytes when the filesystem allows."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def split(src: Path, out_dir: Path, stem: str, shard_bytes: int) -> list[dict]:
    """Write `stem.gguf` (one part) or `stem.gguf.part000`, ... into `out_dir`.

    Returns [{name, bytes, sha256}] in order.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{stem}.gguf*"):
        old.unlink()
    size = src.stat().st_size
    if size <= shard_bytes:
        dst = out_dir / f"{stem}.gguf"
        place(src, dst)
        return [{"name": dst.name, "bytes": size, "sha256": sha256_file(dst)}]
    shards = []
    with open(src, "rb") as f:
        index = 0
        while True:
            name = f"{stem}.gguf.part{index:03d}"
            digest, written = hashlib.sha256(), 0
            with open(out_dir / name, "wb") as out:
                while written < shard_bytes:
                    chunk = f.read(min(CHUNK, shard_bytes - written))
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
            if written == 0:
                (out_dir / name).unlink()
                break
            shards.append({"name": name, "bytes": written, "sha256": digest.hexdigest()})
            index += 1
    return shards
