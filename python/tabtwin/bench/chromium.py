"""Debian's Chromium through Playwright (scripts/install-toolchain.sh: never a downloaded browser), one fresh profile
per launch, and the peak resident memory of the renderer that hosts the page."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# The flags seen working here; Playwright adds --headless and --user-data-dir itself.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def load_model_in_page(page, chat_url: str, model_id: str, timeout_ms: int = 600_000) -> float:
    """Open /chat, pick `model_id` and load it as a visitor does; the seconds from the click until
    the page says it is ready (or shows an error, which the caller reads from body[data-error])."""
    page.goto(chat_url)
    page.wait_for_selector("body[data-initialized='true']")
    page.check(f".model-card[data-id='{model_id}'] input")
    started = time.perf_counter()
    page.click("#load")
    page.wait_for_selector("body[data-ready='true'], body[data-error]", timeout=timeout_ms)
    return time.perf_counter() - started


@contextmanager
def fresh_profile(playwright) -> Iterator[tuple[object, Path]]:
    """A headless Chromium on a brand-new --user-data-dir (nothing cached); yield (context, profile)."""
    with tempfile.TemporaryDirectory(prefix="tabtwin-bench-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            yield context, Path(profile)
        finally:
            context.close()


def _cmdline(process) -> str:
    try:
        return " ".join(process.cmdline())
    except Exception:  # gone, or not ours to read
        return ""


def vm_hwm_kb(pid: int) -> int | None:
    """VmHWM (peak resident set) of a process, in kB, from /proc/PID/status."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def renderer_peak_rss_mb(profile: Path) -> float | None:
    """The largest VmHWM among the renderer processes of the Chromium running on `profile`.

    A page and its dedicated workers (the inference runs in one) live in one renderer process; the
    others (a spare renderer, extensions) stay small, so the largest peak is the page's."""
    import psutil

    descendants = psutil.Process().children(recursive=True)
    browsers = [p for p in descendants if f"--user-data-dir={profile}" in _cmdline(p) and "--type=" not in _cmdline(p)]
    scope = [c for b in browsers for c in b.children(recursive=True)] if browsers else descendants
    peaks = [vm_hwm_kb(p.pid) for p in scope if "--type=renderer" in _cmdline(p)]
    peaks = [kb for kb in peaks if kb is not None]
    return round(max(peaks) / 1024, 1) if peaks else None
