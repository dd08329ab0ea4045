"""Check a built site as its host and its visitors will see it.

    python scripts/check_site.py _site --registry models.toml [--url http://127.0.0.1:8000/ --wait 900]

On disk: models.json lists every model of the registry (and the voice model) with its sha256; every
shard exists, is under the host's per-file limit, and hashes to what models.json says; the shards of a
model concatenate to its sha256; the site fits its host's budget; every page is rendered HTML.
With --url (a server started by the README's first command): every page answers 200 and renders in
Chromium without a script error, and the model files are served byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from tabtwin.site.budget import check, host_from  # noqa: E402
from tabtwin.site.registry import load, load_site, load_voice  # noqa: E402

problems: list[str] = []


def expect(ok: bool, message: str) -> None:
    if not ok:
        problems.append(message)


def check_models(site: Path, registry: Path) -> dict:
    listed = json.loads((site / "models.json").read_text())
    entries = load(registry)
    host = host_from(None, load_site(registry), str(registry))
    expect(
        [m["id"] for m in listed["models"]] == [e.id for e in entries],
        f"models.json lists {[m['id'] for m in listed['models']]}, models.toml {[e.id for e in entries]}",
    )
    models = list(listed["models"])
    if load_voice(registry) is not None:
        expect("voice" in listed, "models.json has no voice model although [voice] is on")
        models += [listed["voice"]] if "voice" in listed else []
    for model in models:
        expect(len(model.get("sha256", "")) == 64, f"{model['id']}: no sha256 in models.json")
        if model.get("remote"):
            continue
        whole = hashlib.sha256()
        for shard in model["shards"]:
            path = site / shard["url"]
            data = path.read_bytes() if path.is_file() else b""
            expect(bool(data), f"{model['id']}: shard {shard['url']} is missing")
            expect(
                host.file_bytes is None or len(data) < host.file_bytes,
                f"{shard['url']}: {len(data)} bytes, not under {host.label}'s per-file limit",
            )
            expect(hashlib.sha256(data).hexdigest() == shard["sha256"], f"{shard['url']}: sha256 differs")
            whole.update(data)
        expect(whole.hexdigest() == model["sha256"], f"{model['id']}: the shards do not make the sha256")
    try:
        budget, warnings = check(site, host)
        print(budget.line())
        for warning in warnings:
            print(f"warning: {warning}")
    except Exception as exc:  # the budget's own message says what is over
        problems.append(str(exc))
    return listed


def pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def check_pages_on_disk(site: Path) -> None:
    for name in pages(site):
        text = (site / name).read_text()
        expect(text.lstrip().lower().startswith("<!doctype html>"), f"{name}: not an HTML document")
        expect("{{" not in text and "{%" not in text, f"{name}: unrendered template markup")
        expect("<title>" in text, f"{name}: no <title>")


def wait_for(url: str, seconds: float, log: Path | None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "chat/", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(2)
    tail = log.read_text()[-3000:] if log and log.is_file() else ""
    sys.exit(f"check_site: nothing answered at {url} within {seconds:.0f} s\n{tail}")


def check_served(site: Path, url: str, listed: dict) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from browser_helpers import CHROMIUM, CHROMIUM_FLAGS

    for model in listed["models"] + ([listed["voice"]] if "voice" in listed else []):
        if model.get("remote"):
            continue
        first = model["shards"][0]
        with urllib.request.urlopen(url + first["url"]) as response:
            expect(
                hashlib.sha256(response.read()).hexdigest() == first["sha256"],
                f"{url}{first['url']}: served bytes differ from models.json",
            )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        for name in pages(site):
            if name == "404.html":
                continue
            errors.clear()
            response = page.goto(url + name.removesuffix("index.html"), wait_until="load")
            expect(response is not None and response.status == 200, f"{name}: HTTP {response and response.status}")
            expect(bool(page.inner_text("body").strip()), f"{name}: renders an empty page")
            expect(not errors, f"{name}: script errors in Chromium: {errors[:3]}")
        browser.close()
    print(f"served: {len(pages(site)) - 1} pages rendered in Chromium at {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--url")
    parser.add_argument("--wait", type=float, default=60)
    parser.add_argument("--server-log", type=Path)
    args = parser.parse_args()
    if args.url:
        wait_for(args.url, args.wait, args.server_log)
    listed = check_models(args.site, args.registry)
    check_pages_on_disk(args.site)
    if args.url:
        check_served(args.site, args.url, listed)
    for problem in problems:
        print(f"check_site: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_site: ok ({len(listed['models'])} models, {len(pages(args.site))} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
