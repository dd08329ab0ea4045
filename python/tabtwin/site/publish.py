"""`python build.py publish`: push the built site to a gh-pages branch with plain git."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def publish(site_dir: Path, repo: Path, remote: str | None, branch: str = "gh-pages") -> int:
    target = remote or "origin"
    try:
        url = _git("remote", "get-url", target, cwd=repo) if remote is None or not _looks_like_url(remote) else remote
    except subprocess.CalledProcessError:
        url = None
    if not url:
        print(
            f"publish: no git remote '{target}' is set, so nothing was pushed.\n"
            f"  Add one (git remote add origin git@github.com:YOU/REPO.git) and run `python build.py publish`,\n"
            f"  or pass --remote URL. Then enable GitHub Pages for the '{branch}' branch in the repo settings\n"
            f"  (or use .github/workflows/pages.yml, which runs the same build)."
        )
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "site"
        # the build's own files (its record, the grounding report) are not published
        shutil.copytree(site_dir, work, ignore=shutil.ignore_patterns(".tabtwin-*"))
        (work / ".nojekyll").touch()  # serve files starting with _ and skip Jekyll
        _git("init", "-q", "-b", branch, cwd=work)
        _git("add", "-A", cwd=work)
        _git(
            "-c",
            "user.name=tabtwin",
            "-c",
            "user.email=tabtwin@localhost",
            "commit",
            "-q",
            "-m",
            "Publish site with tabtwin",
            cwd=work,
        )
        _git("push", "-q", "--force", url, f"{branch}:{branch}", cwd=work)
    print(f"publish: pushed {site_dir} to {url} ({branch})")
    return 0


def _looks_like_url(value: str) -> bool:
    return "://" in value or value.startswith("/") or value.startswith("git@") or Path(value).exists()
