"""axe-core, the accessibility checker, from npm: one pinned version fetched once with `npm pack` into
the cache (~/.cache/tabtwin/axe/VERSION/axe.min.js) and injected into pages by the tests only; it is
never part of the site."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from tabtwin.paths import cache_dir, replacing_folder

VERSION = "4.14.1"  # the latest when the checks were written; `npm view axe-core versions` lists others
SCRIPT = "axe.min.js"


def script_path(version: str = VERSION) -> Path:
    """axe.min.js, fetched on first use (npm checks the tarball against the registry's integrity)."""
    target = cache_dir() / "axe" / version
    if (target / SCRIPT).is_file():
        return target / SCRIPT
    npm = shutil.which("npm")
    assert npm, f"npm is needed once to fetch axe-core@{version} into {target}"
    with replacing_folder(target) as tmp:
        tmp.mkdir(parents=True)
        packed = subprocess.run(
            [npm, "pack", f"axe-core@{version}", "--json", "--pack-destination", str(tmp)],
            capture_output=True,
            text=True,
            check=True,
        )
        tarball = tmp / json.loads(packed.stdout)[0]["filename"]
        with tarfile.open(tarball) as tar:
            member = tar.extractfile(f"package/{SCRIPT}")
            (tmp / SCRIPT).write_bytes(member.read())
        tarball.unlink()
    return target / SCRIPT


def violations(page) -> list[str]:
    """axe's violations on the page as it is now, one line each: rule, impact, the elements."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=script_path().read_text())
    found = page.evaluate("async () => (await axe.run(document, { resultTypes: ['violations'] })).violations")
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']]}" for v in found]
