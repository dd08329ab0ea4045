"""wllama (llama.cpp compiled to wasm): the peer runtime in the browser. One pinned npm version, fetched
once with `npm pack` into the cache (~/.cache/tabtwin/bench/wllama/VERSION/), never into the repository."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.paths import cache_dir, replacing_folder

PACKAGE = "@wllama/wllama"
VERSION = "3.8.1"  # the version the issue measured; `npm view @wllama/wllama versions` lists the others
# What the harness loads: the ES module and its one wasm build (since 3.1 a single build runs single- or
# multi-threaded; n_threads 1 and a page without COOP/COEP keep it on one thread).
ENTRY = "esm/index.js"
WASM = "esm/wasm/wllama.wasm"
RECORD = "npm-pack.json"


def folder(version: str = VERSION) -> Path:
    return cache_dir() / "bench" / "wllama" / version


def ensure(version: str = VERSION, log=print) -> Path:
    """The unpacked package (`package/` with esm/index.js and esm/wasm/wllama.wasm), fetched on first use."""
    package = folder(version) / "package"
    if (package / ENTRY).is_file() and (package / WASM).is_file():
        return package
    npm = shutil.which("npm")
    if npm is None:
        raise TabtwinError(f"npm is needed once to fetch {PACKAGE}@{version} (install Node.js and npm)")
    log(f"fetching {PACKAGE}@{version} with npm into {folder(version)}")
    with replacing_folder(folder(version)) as tmp:
        tmp.mkdir(parents=True)
        done = subprocess.run(
            [npm, "pack", f"{PACKAGE}@{version}", "--json", "--pack-destination", str(tmp)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise TabtwinError(f"npm pack {PACKAGE}@{version} failed: {last}")
        info = json.loads(done.stdout)[0]  # npm checked the tarball against the registry's integrity
        with tarfile.open(tmp / info["filename"]) as tar:
            tar.extractall(tmp, filter="data")
        kept = {k: info.get(k) for k in ("name", "version", "integrity", "shasum", "filename")}
        (tmp / RECORD).write_text(json.dumps(kept, indent=2) + "\n")
    if not (package / ENTRY).is_file() or not (package / WASM).is_file():
        raise TabtwinError(f"{PACKAGE}@{version} has no {ENTRY} or {WASM}; pick a 3.x version (--wllama-version)")
    return package


def describe(package: Path) -> dict:
    """Name, version and npm integrity of the fetched package (what the figures were measured with)."""
    record = package.parent / RECORD
    return json.loads(record.read_text()) if record.is_file() else {"name": PACKAGE}
