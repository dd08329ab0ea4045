"""Downloads that go wrong, in real Chromium with the committed wasm: a tiny model cut into 1 MB shards,
served by a host that counts every request per shard and fails the ones a test orders (HTTP 404 or
500, a body shorter or longer than models.json says, a connection that breaks off, damaged bytes).
Each failure ends in words that say what the visitor can do, with Retry; a model partly downloaded
is never run nor said to be on this device, and scripted answers go on. Good shards are kept as
they are verified, so Retry (or a second tab) downloads only what is missing; a full storage quota or
no storage at all costs the visitor nothing but the note that the model was not kept."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tabtwin.site.serve import SiteHandler

MODEL = "tiny"
CHUNK = 64 * 1024
LOAD_TIMEOUT_MS = 60_000


class ShardHost:
    """What the host does: per shard file name, the faults still to play (each once, in order), and
    how many requests each shard got; `pause_s` slows every chunk (a slow network)."""

    def __init__(self):
        self.faults: dict[str, list[str]] = {}
        self.requests: Counter[str] = Counter()
        self.pause_s = 0.0
        self.lock = threading.Lock()

    def reset(self):
        with self.lock:
            self.faults.clear()
            self.requests.clear()
            self.pause_s = 0.0

    def fail(self, shard: str, *faults: str):
        with self.lock:
            self.faults[shard] = list(faults)

    def next_fault(self, shard: str) -> str | None:
        with self.lock:
            self.requests[shard] += 1
            queue = self.faults.get(shard) or []
            return queue.pop(0) if queue else None


class FaultyHandler(SiteHandler):
    """The site as `tabtwin serve` serves it, but a model shard goes through `ShardHost`. HTTP/1.0: a
    body without Content-Length ends when the connection closes."""

    def __init__(self, *args, host: ShardHost, **kwargs):
        self.host = host
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802 (http.server's name)
        if "/models/" not in self.path:
            return super().do_GET()
        path = Path(self.translate_path(self.path))
        fault = self.host.next_fault(path.name)
        if fault in {"404", "500"}:
            return self.send_error(int(fault))
        data = path.read_bytes()
        length = len(data)
        if fault == "damaged":
            data = data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:]
        elif fault == "truncated":  # the file itself is short: its Content-Length says so
            data = data[:-1000]
            length = len(data)
        elif fault == "padded":  # longer than models.json says, and no Content-Length to tell
            data, length = data + bytes(1000), None
        elif fault == "broken-off":  # announces the whole shard, sends half, then hangs up
            data = data[: len(data) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Cache-Control", "no-store")  # every fetch reaches the counter
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        for start in range(0, len(data), CHUNK):
            self.wfile.write(data[start : start + CHUNK])
            time.sleep(self.host.pause_s)


@pytest.fixture(scope="module")
def sharded_site(tmp_path_factory, root):
    """A site whose one model is a tiny llama (3.7 MB) cut into 1 MB shards, on a faulty host."""
    from tiny_gguf import write_tiny_llama

    from tabtwin.site.build import build
    from tabtwin.site.serve import ThreadingHTTPServer

    work = tmp_path_factory.mktemp("sharded")
    model = write_tiny_llama(work / "tiny.gguf", hidden=128, layers=6)
    registry = work / "models.toml"
    registry.write_text(f'[[model]]\nid = "{MODEL}"\nlabel = "Tiny twin"\npath = "{model}"\nshard_mb = 1\n')
    build(root, work / "_site", registry, log=lambda *_: None)
    host = ShardHost()
    handler = functools.partial(FaultyHandler, host=host, directory=str(work / "_site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shards = [Path(s["url"]).name for s in json.loads((work / "_site/models.json").read_text())["models"][0]["shards"]]
    assert len(shards) >= 3, "the tests need a model of several shards"
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "host": host, "shards": shards}
    server.shutdown()
    server.server_close()


@pytest.fixture
def site(sharded_site):
    sharded_site["host"].reset()
    return sharded_site


@pytest.fixture
def context(browser):
    """A fresh profile (empty Cache API) without the service worker, so every fetch reaches the host."""
    context = browser.new_context(service_workers="block")
    yield context
    context.close()


def open_chat(context, site, prepare=None):
    page = context.new_page()
    page.console_lines = []
    page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.console_lines.append(f"pageerror: {e}"))
    if prepare:
        prepare(page)
    page.goto(f"{site['url']}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    return page


def start_load(page):
    page.check(f".model-card[data-id='{MODEL}'] input")
    page.click("#load")


def load_ends(page, button="#load"):
    """Start (or retry) the load; the error shown, or None once the model runs."""
    page.click(button) if button == "#retry" else start_load(page)
    page.wait_for_selector("body[data-ready='true'], body[data-error]", timeout=LOAD_TIMEOUT_MS)
    return page.evaluate("document.body.dataset.error ?? null")


def on_this_device(page, site) -> bool:
    """What the picker says after a reload (it asks the Cache API afresh)."""
    page.goto(f"{site['url']}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    return page.locator(f".model-card[data-id='{MODEL}'] .badge.cached").count() == 1


def assert_scripted_answers_go_on(page):
    page.fill("#prompt", "Show me your Python projects")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done='scripted']")
    assert "scripted" in page.inner_text(".scripted-note").lower()


def assert_failed_with_retry(page, error, *words):
    assert error, page.console_lines
    for word in words:
        assert word in error, error
    assert page.is_visible("#retry")
    assert page.evaluate("document.body.dataset.ready") is None, "a model partly downloaded must not run"


def test_a_download_cut_off_midway_resumes_from_the_shards_already_verified(context, site):
    first, second, third = site["shards"][:3]
    site["host"].fail(third, "broken-off")
    page = open_chat(context, site)
    error = load_ends(page)
    assert_failed_with_retry(page, error, "the connection broke off during part 3 of", third)
    assert "the 2 parts before it are verified and kept on this device: press Retry to continue from part 3" in error
    assert_scripted_answers_go_on(page)
    assert not on_this_device(page, site), "a partly downloaded model is not on this device"

    page.check(f".model-card[data-id='{MODEL}'] input")
    page.click("#load")
    page.wait_for_selector("body[data-ready='true']", timeout=LOAD_TIMEOUT_MS)
    requests = site["host"].requests
    assert (requests[first], requests[second], requests[third]) == (1, 1, 2), requests
    assert all(requests[shard] == 1 for shard in site["shards"][3:]), requests
    assert on_this_device(page, site)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("404", ["part 2 of", "is not on the server (HTTP 404)", "reload the page and start the model again"]),
        ("500", ["the server could not send part 2 of", "(HTTP 500)", "press Retry to continue from part 2"]),
    ],
)
def test_a_shard_the_server_will_not_send_is_named_with_what_to_do(context, site, status, words):
    site["host"].fail(site["shards"][1], status)
    page = open_chat(context, site)
    assert_failed_with_retry(page, load_ends(page), *words)
    assert_scripted_answers_go_on(page)
    assert load_ends(page, "#retry") is None, "the fault was passing: Retry loads the model"
    assert site["host"].requests[site["shards"][0]] == 1


@pytest.mark.parametrize(
    ("fault", "found"),
    [("truncated", "is 999000 bytes on the server"), ("padded", "is longer on the server")],
)
def test_a_shard_longer_or_shorter_than_models_json_says_is_refused(context, site, fault, found):
    site["host"].fail(site["shards"][1], fault)
    page = open_chat(context, site)
    error = load_ends(page)
    assert_failed_with_retry(page, error, found, "but the site's models.json says 1000000 bytes", "reload the page")
    assert_scripted_answers_go_on(page)
    assert not on_this_device(page, site)


def test_a_shard_damaged_once_is_fetched_again_and_the_model_runs(context, site):
    damaged = site["shards"][1]
    site["host"].fail(damaged, "damaged")
    page = open_chat(context, site)
    assert load_ends(page) is None, page.console_lines
    assert site["host"].requests[damaged] == 2
    assert on_this_device(page, site)


def test_a_shard_damaged_twice_stops_the_load_and_retry_fetches_only_it(context, site):
    damaged = site["shards"][1]
    site["host"].fail(damaged, "damaged", "damaged")
    page = open_chat(context, site)
    error = load_ends(page)
    assert_failed_with_retry(page, error, "part 2 of", "arrived damaged twice", "integrity check failed", "Retry")
    assert_scripted_answers_go_on(page)
    assert load_ends(page, "#retry") is None, page.console_lines
    requests = site["host"].requests
    assert (requests[site["shards"][0]], requests[damaged]) == (1, 3), requests
    assert on_this_device(page, site)


def test_a_full_storage_quota_still_runs_the_model_for_the_visit(context, site):
    page = open_chat(context, site)
    cdp = context.new_cdp_session(page)
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": site["url"].rstrip("/"), "quotaSize": 1_500_000})
    assert load_ends(page) is None, page.console_lines
    status = page.inner_text("#status")
    assert "Tiny twin is running on this device." in status
    assert "It was not kept for next time: the browser's storage for this site is full" in status
    assert "removing another model from this device makes room" in status
    assert not on_this_device(page, site), "a model the quota could not hold is not said to be here"


# The worker and the page each import downloads.js: served with this line first, both find the
# storage the way a browser without it (or refusing it) would leave them.
NO_STORAGE = {
    "missing": "Object.defineProperty(self, 'caches', { value: undefined });\n",
    "refused": "CacheStorage.prototype.open = () => Promise.reject(new DOMException('storage is blocked', "
    "'SecurityError'));\n",
}


@pytest.mark.parametrize("storage", list(NO_STORAGE))
def test_no_storage_still_runs_the_model_for_the_visit(context, site, storage):
    def prepare(page):
        def sabotage(route):
            response = route.fetch()
            route.fulfill(response=response, body=NO_STORAGE[storage] + response.text())

        page.route("**/static/js/downloads.js", sabotage)

    page = open_chat(context, site, prepare)
    assert load_ends(page) is None, page.console_lines
    status = page.inner_text("#status")
    assert "It was not kept for next time: this browser gives the site no storage for models" in status, status
    assert "private window" in status
    page.fill("#prompt", "Hello")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done]", timeout=LOAD_TIMEOUT_MS)
    assert page.get_attribute(".turn.assistant", "data-done") != "scripted", "the model answers"


def test_a_second_tab_waits_for_the_first_and_downloads_nothing(context, site):
    site["host"].pause_s = 0.05  # ~3 s for the whole model: the second tab asks while the first downloads
    first, second = open_chat(context, site), open_chat(context, site)
    start_load(first)
    first.wait_for_selector("#progress-text:has-text('download:')")
    start_load(second)
    second.wait_for_selector("#progress-text:has-text('another tab is downloading this model…')")
    for page in (first, second):
        page.wait_for_selector("body[data-ready='true']", timeout=LOAD_TIMEOUT_MS)
    assert "loaded from this device, no download" in second.inner_text("#status")
    requests = site["host"].requests
    assert all(requests[shard] == 1 for shard in site["shards"]), requests


# In the page: the model's entry from models.json, and the Cache API key of its shard `index` (downloads.js shardKey).
MODEL_ENTRY = """async () => {
  const registryUrl = new URL('../models.json', location.href);
  const model = (await (await fetch(registryUrl)).json()).models[0];
  return { ...model, cache_key: new URL(model.cache_key, registryUrl).href,
           urls: model.shards.map((s) => new URL(s.url, registryUrl).href) };
}"""
STORE = """async ([key, body]) => (await caches.open('tabtwin-models-v1')).put(key, new Response(body))"""


def shard_key(model: dict, index: int) -> str:
    return f"{model['cache_key']}?shard={index}&sha256={model['shards'][index]['sha256']}"


def test_a_damaged_copy_on_this_device_is_downloaded_again(context, site):
    page = open_chat(context, site)
    assert load_ends(page) is None, page.console_lines
    model = page.evaluate(MODEL_ENTRY)
    page.evaluate(STORE, [shard_key(model, 1), "not the shard"])
    page.reload()
    page.wait_for_selector("body[data-initialized='true']")
    assert load_ends(page) is None, page.console_lines
    requests = site["host"].requests
    assert [requests[shard] for shard in site["shards"][:3]] == [1, 2, 1], requests


def test_a_model_kept_whole_by_an_earlier_page_is_still_read_from_this_device(context, site):
    page = open_chat(context, site)
    page.evaluate(
        f"""async () => {{
          const model = await ({MODEL_ENTRY})();
          const parts = await Promise.all(model.urls.map(async (url) => (await fetch(url)).blob()));
          await (await caches.open('tabtwin-models-v1')).put(model.cache_key, new Response(new Blob(parts)));
        }}"""
    )
    site["host"].reset()
    page.reload()
    page.wait_for_selector("body[data-initialized='true']")
    assert page.locator(f".model-card[data-id='{MODEL}'] .badge.cached").count() == 1
    assert load_ends(page) is None, page.console_lines
    assert "loaded from this device, no download" in page.inner_text("#status")
    assert not site["host"].requests, "nothing downloaded"


def test_shards_that_do_not_make_the_registrys_file_are_all_forgotten(context, site):
    from browser_helpers import corrupt_registry

    page = context.new_page()
    corrupt_registry(page, "contradicted")  # every shard's own sha256 right, the whole file's wrong
    page.goto(f"{site['url']}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    error = load_ends(page)
    assert "integrity check failed" in (error or ""), error
    stored = page.evaluate("async () => (await (await caches.open('tabtwin-models-v1')).keys()).length")
    assert stored == 0, "nothing of a model that failed its check is kept"
