"""A site built into a temporary folder for the given GGUF files, served on loopback: what the browser
benchmarks measure is what `tabtwin build` publishes (worker, downloads, the staged wasm)."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tabtwin.errors import TabtwinError

ROOT = Path(__file__).resolve().parents[3]
WASM_FILES = ("tabtwin_web.js", "tabtwin_web_bg.wasm")


def registry_text(paths: dict[str, Path], sampling: dict | None = None, voice: bool = False) -> str:
    """A models.toml serving each file as it is (no size budget: a benchmark may exceed a host's)."""
    lines = ['[site]\ntarget = "unlimited"\n']
    for model_id, path in paths.items():
        lines.append(f'[[model]]\nid = "{model_id}"\nlabel = "{model_id}"\npath = "{path}"\n')
        if sampling:
            lines.append("[model.sampling]\n" + "".join(f"{k} = {v}\n" for k, v in sampling.items()))
    lines.append('[voice]\nmodel = "default"\n' if voice else "[voice]\nenabled = false\n")
    return "\n".join(lines)


def site_with_wasm(root: Path, wasm: Path, work: Path) -> Path:
    """A stand-in repository root whose site/ is `root`'s with static/wasm replaced by `wasm` (a copy of
    an older site/static/wasm, for before/after figures); links only, nothing is copied."""
    missing = [name for name in WASM_FILES if not (wasm / name).is_file()]
    if missing:
        raise TabtwinError(f"--wasm {wasm}: not a site/static/wasm folder (missing {', '.join(missing)})")
    site = work / "root" / "site"
    (site / "static").mkdir(parents=True)
    for child in (root / "site").iterdir():
        if child.name != "static":
            (site / child.name).symlink_to(child.resolve())
    for child in (root / "site" / "static").iterdir():
        if child.name != "wasm":
            (site / "static" / child.name).symlink_to(child.resolve())
    (site / "static" / "wasm").symlink_to(wasm.resolve())
    return site.parent


@contextmanager
def served_site(
    paths: dict[str, Path], wasm: Path | None = None, sampling: dict | None = None, voice: bool = False
) -> Iterator[tuple[str, Path]]:
    """Build the site for `paths` (model id -> GGUF) and serve it; yield (base URL, built folder)."""
    from tabtwin.site.build import build
    from tabtwin.site.serve import make_server

    with tempfile.TemporaryDirectory(prefix="tabtwin-bench-") as tmp:
        work = Path(tmp)
        registry = work / "models.toml"
        registry.write_text(registry_text(paths, sampling, voice))
        root = site_with_wasm(ROOT, wasm, work) if wasm else ROOT
        build(root, work / "site", registry, log=lambda *_: None)
        server = make_server(work / "site", "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/", work / "site"
        finally:
            server.shutdown()
            server.server_close()
