"""The worker dying is noticed (#18): a model too large for the tab (the real core traps), a worker that
throws outside any request, a reply that cannot be read, a worker killed mid-answer. Each time the page
says what happened, names the model and offers a smaller one, and a fresh worker (the real one, with the
real core) then loads that model and answers in the same page, without a reload.

The crash itself comes from the real worker and core where that is possible (a 3 GB model: the core
cannot reserve its bytes in wasm32 memory and aborts, a WebAssembly trap); the other ways to die are
played by stand-in workers served in place of worker.js for the first worker only."""

from __future__ import annotations

import json

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_FLAGS
from standin import WORKER as STANDIN
from test_chat_page import ANSWER_TIMEOUT_MS, LOAD_TIMEOUT_MS

MODEL = "smollm2-135m-instruct"
HUGE = {"id": "huge-twin", "label": "Huge twin", "bytes": 3_000_000_000}

# The test's probe (not the page's): keeps every Worker the page makes, and whether it was terminated.
WATCH_WORKERS = """
(() => {
  const Original = window.Worker;
  window.__workers = [];
  window.Worker = class extends Original {
    constructor(url, options) {
      super(url, options);
      this.terminated = false;
      window.__workers.push(this);
    }
    terminate() {
      this.terminated = true;
      return super.terminate();
    }
  };
})();
"""

# A worker that throws outside any request (as a trap escaping every handler would): the page's only
# news of it is the Worker's `error` event.
THROWS = """
self.onmessage = ({ data }) => {
  if (data.type === "load") throw new WebAssembly.RuntimeError("unreachable");
};
"""

# A worker that takes requests and never answers.
MUTE = "self.onmessage = () => {};"

# A worker stuck in one long call (a loop that never ends): it cannot even read a PING.
STUCK = 'self.onmessage = ({ data }) => { if (data.type === "load") for (;;) {} };'

# A worker that works on a LOAD for ever but is there: it answers every PING.
BUSY_BUT_THERE = """
import * as msg from "./protocol.js";
self.onmessage = ({ data }) => {
  if (data.type === msg.PING) self.postMessage({ type: msg.PONG, id: data.id });
};
"""

# The stand-in answering slowly, so that it can be killed in the middle of an answer.
SLOW_STANDIN = STANDIN.replace("__PER_PIECE_MS__", "1000").replace("__DOWNLOAD_STEPS__", "0")


@pytest.fixture(scope="module")
def context(playwright, tmp_path_factory, built_site):
    """One profile on disk for the module (a visitor's browser: room in the Cache API for the real
    model, so each recovery after the first reads it from this device)."""
    instance = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("profile")),
        executable_path=CHROMIUM,
        args=CHROMIUM_FLAGS,
        service_workers="block",  # so page.route sees every request for worker.js
    )
    yield instance
    instance.close()


def with_a_huge_model(page) -> None:
    """models.json with a 3 GB model beside the real one (the same shards: the core gives up before
    any is fetched)."""

    def route(route):
        registry = route.fetch().json()
        huge = {**registry["models"][0], **HUGE}
        huge["cache_key"] = huge["cache_key"].replace(MODEL, HUGE["id"])
        registry["models"].append(huge)
        route.fulfill(body=json.dumps(registry), content_type="application/json")

    page.route("**/models.json", route)


def first_worker_is(page, code: str) -> None:
    """worker.js is `code` for the page's first worker; every later worker is the real one."""
    served = []

    def route(route):
        if served:
            route.continue_()
            return
        served.append(route.request.url)
        route.fulfill(status=200, content_type="text/javascript", body=code)

    page.route("**/static/js/worker.js", route)


def open_chat(context, site_url, first_worker: str | None = None, clock: bool = False):
    page = context.new_page()
    page.console_lines = []
    page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
    page.add_init_script(WATCH_WORKERS)
    if clock:
        page.clock.install()
    with_a_huge_model(page)
    if first_worker:
        first_worker_is(page, first_worker)
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.evaluate("window.__samePage = true")  # gone if the page reloads
    return page


def load(page, model_id: str) -> None:
    page.check(f".model-card[data-id='{model_id}'] input")
    page.click("#load")


def assert_lost_and_offered(page, words: str) -> str:
    """The page says `words` happened, names the huge model, offers the real one; its status."""
    page.wait_for_selector("#pick-smaller", timeout=LOAD_TIMEOUT_MS)
    status = page.inner_text("#status")
    assert status.startswith("Error: ") and words in status, status
    assert "Huge twin (3.0 GB) may need more memory than this tab can give it" in status, status
    assert f"try a smaller model, {MODEL}" in status, status
    facts = page.inner_text("#download-facts")
    assert "Huge twin stopped the model engine" in facts and "3.0 GB model" in facts, facts
    assert page.inner_text("#pick-smaller") == f"Use {MODEL} (271 MB) instead"
    assert page.is_visible("#pick-smaller") and not page.is_disabled("#load")
    assert page.get_attribute("body", "data-ready") is None
    assert page.evaluate("window.__workers.map((w) => w.terminated)") == [True], "the dead worker is ended"
    return status


def recover_with_the_real_model(page) -> None:
    """The smaller model offered loads in a fresh worker (the real one) and answers: no reload."""
    page.click("#pick-smaller")
    assert page.is_checked(f".model-card[data-id='{MODEL}'] input")
    page.click("#load")
    page.wait_for_selector("body[data-ready='true']", timeout=LOAD_TIMEOUT_MS)
    assert page.get_attribute("body", "data-error") is None, page.console_lines
    assert page.get_attribute("body", "data-model") == MODEL
    page.fill("#prompt", "What is the capital of France?")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done]:not([data-done='error'])", timeout=ANSWER_TIMEOUT_MS)
    answer = page.inner_text(".turn.assistant >> nth=-1")
    assert "Paris" in answer, (answer, page.console_lines)
    assert page.evaluate("window.__workers.map((w) => w.terminated)") == [True, False]
    assert page.evaluate("window.__samePage") is True, "the page was not reloaded"


def test_a_model_too_large_for_the_tab_traps_the_core_and_a_smaller_one_runs_in_a_fresh_worker(context, site_url):
    """The real worker and core: 3 GB cannot be reserved in wasm32 memory, the core aborts (a trap), the
    worker reports it as fatal and the page replaces it."""
    page = open_chat(context, site_url)
    load(page, HUGE["id"])
    assert_lost_and_offered(page, "the model engine crashed (WebAssembly trap: unreachable)")
    recover_with_the_real_model(page)
    page.close()


def test_a_worker_that_throws_outside_any_request_is_replaced(context, site_url):
    page = open_chat(context, site_url, first_worker=THROWS)
    load(page, HUGE["id"])
    assert_lost_and_offered(page, "the inference worker failed: Uncaught RuntimeError: unreachable")
    recover_with_the_real_model(page)
    page.close()


def test_a_reply_that_cannot_be_read_fails_the_request_and_the_worker_is_replaced(context, site_url):
    """A `messageerror` cannot be caused on purpose between a page and its own worker (every message
    the worker can build can be read), so the test dispatches one on the Worker the page holds: what is
    under test is the page's answer to it, a LOAD that would otherwise wait forever."""
    page = open_chat(context, site_url, first_worker=MUTE)
    load(page, HUGE["id"])
    page.wait_for_function("() => window.__workers.length === 1 && document.body.dataset.busy === 'true'")
    page.evaluate("window.__workers[0].dispatchEvent(new MessageEvent('messageerror'))")
    assert_lost_and_offered(page, "the inference worker failed: a reply from it could not be read")
    recover_with_the_real_model(page)
    page.close()


def test_a_worker_killed_in_the_middle_of_an_answer_is_noticed_when_it_stays_silent(context, site_url):
    """Killed (terminate() from outside the page's own code: what the browser does to a worker out of
    memory), a worker says nothing at all. The page pings a worker that is silent while a request
    waits, and gives it up after three minutes of silence; the page's clock is run forward."""
    page = open_chat(context, site_url, first_worker=SLOW_STANDIN, clock=True)
    load(page, HUGE["id"])
    page.wait_for_selector("body[data-ready='true']")
    page.fill("#prompt", "Tell me something long")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-state='streaming']")
    page.evaluate("Object.getPrototypeOf(window.Worker.prototype).terminate.call(window.__workers[0])")
    page.clock.run_for(60_000)
    assert page.get_attribute("body", "data-error") is None, "a minute of silence is not yet death"
    page.clock.run_for(150_000)
    assert_lost_and_offered(page, "the inference worker stopped answering (not a word for 180 s)")
    assert page.get_attribute(".turn.assistant >> nth=-1", "data-done") == "error"
    assert page.locator("[data-regenerate]").count() == 0, "no model left to regenerate with"
    recover_with_the_real_model(page)
    page.close()


def test_a_worker_stuck_in_a_call_that_never_ends_is_given_up_after_three_minutes(context, site_url):
    page = open_chat(context, site_url, first_worker=STUCK, clock=True)
    load(page, HUGE["id"])
    page.wait_for_function("() => window.__workers.length === 1 && document.body.dataset.busy === 'true'")
    page.clock.run_for(185_000)
    assert_lost_and_offered(page, "the inference worker stopped answering (not a word for 180 s)")
    recover_with_the_real_model(page)
    page.close()


def test_a_worker_that_answers_pings_is_never_given_up(context, site_url):
    """Silence alone is no proof: a worker busy for ten minutes (a long download) that answers the
    page's PINGs is left to its work."""
    page = open_chat(context, site_url, first_worker=BUSY_BUT_THERE, clock=True)
    load(page, HUGE["id"])
    page.wait_for_function("() => window.__workers.length === 1 && document.body.dataset.busy === 'true'")
    for _ in range(20):
        page.clock.run_for(30_000)
    assert page.get_attribute("body", "data-error") is None
    assert page.get_attribute("body", "data-busy") == "true"
    assert page.evaluate("window.__workers.map((w) => w.terminated)") == [False]
    page.close()
