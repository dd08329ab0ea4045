"""Where tabtwin keeps downloads and built models (outside git, shared by every command and test),
and the two file habits every writer shares: write-then-rename (one file, one folder, or several
outputs that change together), and sha256 of a file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

CHUNK = 1 << 22


def cache_dir() -> Path:
    """`$TABTWIN_CACHE`, else `~/.cache/tabtwin`."""
    root = os.environ.get("TABTWIN_CACHE")
    path = Path(root).expanduser() if root else Path.home() / ".cache" / "tabtwin"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = cache_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_json(value) -> str:
    """The sha256 of `value` as JSON with sorted keys: the same for equal values, whatever their order."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def temporary_sibling(path: Path) -> Path:
    """A name beside `path` that no other process writing `path` at the same time will pick."""
    return path.with_name(f".{path.name}.{os.getpid()}.part")


@contextmanager
def replacing(path: Path | str):
    """Yield a temporary path beside `path`; when the block succeeds, rename it onto `path`.

    A crash or an exception leaves `path` as it was (the previous output is never half
    overwritten) and removes the temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def replacing_folder(path: Path | str):
    """Yield a fresh temporary folder path beside `path` (not yet created: `save_pretrained` and
    friends make it); when the block succeeds it takes `path`'s place, the old folder removed only
    after. An exception leaves `path` as it was and removes the temporary folder."""
    with replacing_together(path) as (tmp,):
        yield tmp


@contextmanager
def replacing_together(*paths: Path | str):
    """Yield one temporary path beside each of `paths` (files or folders, none created yet); when the
    block succeeds all of them take their paths' places together, the old ones removed only after.

    For outputs that belong together (a twin GGUF, its adapter folder, its report): an exception in
    the block, or a rename that fails halfway through, leaves every path as it was (renames already
    made are undone) and removes every temporary."""
    targets = [Path(p) for p in paths]
    temps = [temporary_sibling(p) for p in targets]
    olds = [p.with_name(f".{p.name}.{os.getpid()}.old") for p in targets]
    for target, tmp in zip(targets, temps):
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove(tmp)
    try:
        yield temps
        moved = []
        try:
            for target, tmp, old in zip(targets, temps, olds):
                had = target.exists()
                if had:
                    os.replace(target, old)
                moved.append((target, old, had))
                os.replace(tmp, target)
        except BaseException:
            for target, old, had in reversed(moved):
                _remove(target)
                if had:
                    os.replace(old, target)
            raise
    finally:
        for path in (*temps, *olds):
            _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_text_atomic(path: Path | str, text: str) -> Path:
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def shown(path: Path | str) -> str:
    """A path as a report should name it: relative to the working folder (the repository, when the
    author runs the verbs from it), `~/.cache/tabtwin/...` inside the cache, else as given. Committed
    reports then name files the way any clone sees them, not the build machine's absolute paths."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    for base, label in ((Path.cwd(), ""), (cache_dir(), "~/.cache/tabtwin/")):
        try:
            return label + path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return path.as_posix()
