"""Honest downloads, at both sizes: before a download the page says its size, that it happens once,
and what this device can take (free storage, reported memory, a data saver); a model that will not
fit is named so, with a smaller one offered; the browser is asked to keep the model; the progress bar
says how long is left."""

from __future__ import annotations

import json

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_FLAGS
from standin import MODEL, SIZES, open_tab

QUOTA_BYTES = 50_000_000


@pytest.fixture(scope="module")
def quota_browser(playwright):
    """Chromium whose navigator.storage.estimate() reports the real quota: by default it reports a
    static one (usage + 10 GiB, against fingerprinting), which a DevTools override does not change."""
    instance = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, "--disable-features=StaticStorageQuota"]
    )
    yield instance
    instance.close()


def with_a_smaller_model(page) -> None:
    """models.json with a second, 20 MB model beside the real one."""

    def route(route):
        registry = route.fetch().json()
        small = {**registry["models"][0], "id": "tiny-twin", "label": "Tiny twin", "bytes": 20_000_000}
        small["cache_key"] = small["cache_key"].replace(MODEL, "tiny-twin")
        registry["models"].append(small)
        route.fulfill(body=json.dumps(registry), content_type="application/json")

    page.route("**/models.json", route)


def small_quota(site_url):
    def prepare(page):
        with_a_smaller_model(page)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Storage.overrideQuotaForOrigin", {"origin": site_url.rstrip("/"), "quotaSize": QUOTA_BYTES})

    return prepare


@pytest.mark.parametrize("size", list(SIZES))
def test_a_model_that_will_not_fit_is_named_and_a_smaller_one_offered(quota_browser, site_url, built_site, size):
    opened = open_tab(quota_browser, site_url, SIZES[size], prepare=small_quota(site_url))
    page = opened.page
    megabytes = json.loads((built_site / "models.json").read_text())["models"][0]["bytes"] / 1e6
    facts = page.locator("#download-facts")
    facts.locator(".warning").wait_for()
    text = facts.inner_text()
    assert f"{megabytes:.0f} MB download, once" in text
    assert "will not fit" in facts.locator(".warning").inner_text() and "50 MB" in text
    assert page.locator("#download-facts .warning").is_visible()
    page.click("#pick-smaller")
    assert page.is_checked(".model-card[data-id='tiny-twin'] input")
    page.wait_for_function("() => document.getElementById('download-facts').dataset.warnings === '0'")
    assert "20 MB download, once" in facts.inner_text()
    opened.context.close()


def test_little_memory_and_a_data_saver_are_said_plainly(browser, site_url):
    def prepare(page):
        page.add_init_script(
            "Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => 0.25 });"
            "Object.defineProperty(NetworkInformation.prototype, 'saveData', { get: () => true });"
        )

    opened = open_tab(browser, site_url, SIZES["phone"], prepare=prepare)
    warnings = opened.page.locator("#download-facts .warning")
    warnings.first.wait_for()
    text = " ".join(warnings.all_inner_texts())
    assert "250 MB of memory" in text and "data is limited" in text
    opened.context.close()


def test_a_model_already_here_needs_no_download(browser, site_url):
    opened = open_tab(browser, site_url, SIZES["desktop"])
    page = opened.page
    page.evaluate(
        """async () => {
          const registry = await (await fetch('../models.json')).json();
          const key = new URL(registry.models[0].cache_key, new URL('../models.json', location.href)).href;
          await (await caches.open('tabtwin-models-v1')).put(key, new Response('bytes'));
        }"""
    )
    page.reload()
    page.wait_for_selector("#download-facts:has-text('on this device already')")
    opened.context.close()


def test_the_browser_is_asked_to_keep_the_model_and_progress_says_time_left(browser, site_url):
    def prepare(page):
        page.add_init_script(
            "window.__persistAsked = 0; const persist = StorageManager.prototype.persist;"
            "StorageManager.prototype.persist = function () { window.__persistAsked += 1; return persist.call(this); };"
        )

    opened = open_tab(browser, site_url, SIZES["phone"], download_steps=3, prepare=prepare)
    page = opened.page
    page.check(f".model-card[data-id='{MODEL}'] input")
    page.click("#load")
    page.wait_for_selector("#progress-text:has-text('left')")
    assert page.is_visible("#progress") and "download:" in page.inner_text("#progress-text")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)
    assert page.evaluate("window.__persistAsked") == 1
    assert page.get_attribute("body", "data-persisted") in {"true", "false"}
    opened.context.close()
