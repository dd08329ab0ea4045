"""The /chat page itself in Chromium, as a visitor uses it: pick, load, ask; decode speed read from the
worker's DONE figures the page shows (#stats[data-done]). Part of `tabtwin bench` (native)."""

from __future__ import annotations

import json
from pathlib import Path

from tabtwin.bench.chromium import CHROMIUM, FLAGS, load_model_in_page
from tabtwin.bench.native import PROMPT
from tabtwin.bench.site import served_site
from tabtwin.bench.voice import voice_browser


def browser(paths: dict[str, Path], max_tokens: int, clips) -> dict:
    """Run the /chat page in Chromium for each model; read tok/s from the worker's DONE message."""
    from playwright.sync_api import sync_playwright

    results = {}
    with served_site(paths, sampling={"max_tokens": max_tokens}, voice=True) as (base, _), sync_playwright() as p:
        url = f"{base}chat/"
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", *FLAGS])
        for model_id in paths:
            page = b.new_page()
            load_s = load_model_in_page(page, url, model_id)
            page.fill("#prompt", PROMPT)
            page.keyboard.press("Enter")
            page.wait_for_selector(".turn.assistant[data-done]", timeout=600_000)
            stats = json.loads(page.get_attribute("#stats", "data-done") or "null")
            stats = {k: round(v, 2) if isinstance(v, float) else v for k, v in (stats or {}).items()}
            results[model_id] = {
                "load_s": round(load_s, 3),
                **stats,
                "simd128": page.evaluate("document.body.dataset.simd128") == "true",
            }
            page.close()
        page = b.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-initialized='true']")
        results["__voice__"] = voice_browser(page, clips)
        page.close()
        b.close()
    return results
