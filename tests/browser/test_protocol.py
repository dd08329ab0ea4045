"""The worker protocol as written in site/static/js/protocol.js is the one the page and the worker
speak: every message carries exactly the fields of its typedef, every request an id, every reply the
id of the request it answers. A stand-in worker (served in place of worker.js) shows how the page
treats what the model asks for: apps it cannot or may not open become visible notices."""

from __future__ import annotations

import json
import re

import pytest
from browser_helpers import corrupt_registry
from test_chat_page import ANSWER_TIMEOUT_MS, LOAD_TIMEOUT_MS

MODEL = "smollm2-135m-instruct"

# The test's own probe (not the page's): wraps Worker so both directions of the protocol are recorded,
# each under the page load it belongs to (ids are unique within one).
RECORD_MESSAGES = """
(() => {
  const Original = window.Worker;
  const pageLoad = performance.timeOrigin;
  const record = (direction, message) => recordMessage(pageLoad, direction, JSON.parse(JSON.stringify(message)));
  window.Worker = class extends Original {
    constructor(url, options) {
      super(url, options);
      this.addEventListener("message", ({ data }) => record("reply", data));
    }
    postMessage(message, transfer) {
      record("request", message);
      return super.postMessage(message, transfer);
    }
  };
})();
"""

TYPEDEF = re.compile(r"/\*\*((?:(?!\*/).)*?)\*/\s*export const (\w+) = \"([^\"]+)\";", re.S)
PROPERTY = re.compile(r"@property\s+\{.*?\}\s+(\[)?(\w+)")

# Which request each reply answers.
ANSWERS = {
    "progress": {"load", "load_voice"},
    "ready": {"load"},
    "event": {"generate"},
    "done": {"generate"},
    "voice_ready": {"load_voice"},
    "transcript": {"transcribe"},
}


def declared_messages(root) -> dict[str, tuple[set[str], set[str]]]:
    """message type -> (required fields, optional fields), read from protocol.js's typedefs."""
    source = (root / "site/static/js/protocol.js").read_text()
    messages = {}
    for doc, _name, value in TYPEDEF.findall(source):
        fields = PROPERTY.findall(doc)
        messages[value] = ({f for opt, f in fields if not opt}, {f for opt, f in fields if opt})
    return messages


def recording_page(browser):
    context = browser.new_context(service_workers="block")  # so page.route sees every request
    page = context.new_page()
    page.console_lines = []
    page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
    page.messages = []
    page.expose_function("recordMessage", lambda *record: page.messages.append(record))
    page.add_init_script(RECORD_MESSAGES)
    return context, page


def load(page, site_url):
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.check(f".model-card[data-id='{MODEL}'] input")
    page.click("#load")
    page.wait_for_selector("body[data-ready='true'], body[data-error]", timeout=LOAD_TIMEOUT_MS)


def test_every_message_is_declared_in_protocol_js_and_replies_carry_their_request_id(browser, site_url, root):
    declared = declared_messages(root)
    assert {"load", "generate", "stop", "reset", "event", "done", "error"} <= set(declared)
    context, page = recording_page(browser)

    corrupt_registry(page, "protocol-corrupted")
    load(page, site_url)  # fails: an ERROR answers the LOAD
    assert "integrity check failed" in page.get_attribute("body", "data-error")
    page.unroute("**/models.json")
    load(page, site_url)
    assert page.get_attribute("body", "data-error") is None, page.console_lines
    page.fill("#prompt", "What is the capital of France?")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done]", timeout=ANSWER_TIMEOUT_MS)
    page.click("#new-chat")
    page.wait_for_function("document.getElementById('conversation').children.length === 0")
    page.wait_for_timeout(300)  # the probe's last calls land

    requests = {}  # (page load, id) -> type
    seen = set()
    for page_load, direction, message in page.messages:
        key = (page_load, message["id"])
        kind = message["type"]
        seen.add(kind)
        assert kind in declared, f"{direction} {kind!r} is not declared in protocol.js"
        required, optional = declared[kind]
        fields = set(message) - {"type"}
        assert required <= fields <= required | optional, (kind, sorted(fields), sorted(required), sorted(optional))
        if direction == "request":
            assert isinstance(message["id"], int) and key not in requests, message
            requests[key] = kind
        else:
            assert key in requests, f"{kind} answers no request: {message}"
            if kind in ANSWERS:
                assert requests[key] in ANSWERS[kind], (kind, requests[key])
        if kind == "event":
            assert message["event"]["kind"] in {"text", "thinking", "tool"}, message
    assert {"load", "generate", "reset", "progress", "ready", "event", "done", "error"} <= seen, [
        m for m in page.messages if m[2]["type"] != "progress"
    ]
    assert not {"token", "thinking", "tool"} & seen, "core events travel as EVENT, as the core wrote them"
    context.close()


# A stand-in worker: answers LOAD at once, and GENERATE with the events below (plus one reply under an
# id no request has); RESET fails, to show that an error no handler asked for still reaches the page.
FAKE_WORKER = """
import * as msg from "./protocol.js";
const post = (type, body) => self.postMessage({ type, ...body });
const EVENTS = [
  { kind: "text", text: "Here you go." },
  { kind: "tool", app: "movies", params: {} },
  { kind: "tool", app: "projects", params: {} },
  { kind: "tool", app: "books", params: {} },
];
self.onmessage = ({ data }) => {
  if (data.type === msg.LOAD) {
    post(msg.READY, { id: data.id, info: { tools: JSON.stringify(["books", "movies"]), context_length: 2048 },
                      simd128: true, cached: true, passages: null });
  } else if (data.type === msg.GENERATE) {
    post(msg.EVENT, { id: data.id + 1000, event: { kind: "text", text: "STRAY " } });
    for (const event of EVENTS) post(msg.EVENT, { id: data.id, event });
    post(msg.DONE, { id: data.id, reason: "end_of_turn", tokens: 7, seconds: 1.5, first_token_s: 0.5,
                     decode_tok_s: 6, sources: [], refused: false, unsupported: [] });
  } else if (data.type === msg.PREPARE) {
    post(msg.PREPARED, { id: data.id, tokens: 0 });
  } else if (data.type === msg.RESET) {
    post(msg.ERROR, { id: data.id, message: "reset refused by the stand-in" });
  }
};
"""


@pytest.fixture
def fake_worker_page(browser, site_url):
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    page.route(
        "**/static/js/worker.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=FAKE_WORKER),
    )
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.check(f".model-card[data-id='{MODEL}'] input")
    page.click("#load")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)
    yield page
    context.close()


def test_apps_the_twin_cannot_or_may_not_open_are_shown_as_notices(fake_worker_page):
    page = fake_worker_page
    page.fill("#prompt", "Anything to read?")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done='end_of_turn']")
    page.wait_for_selector(".app-card[data-app='books'][data-source='model']")
    assert "does not have" in page.inner_text(".app-notice[data-app='movies']")
    assert "may not open" in page.inner_text(".app-notice[data-app='projects']")
    assert page.locator(".app-card[data-app='projects'], .app-card[data-app='movies']").count() == 0
    assert page.locator(".app-card[data-source='router']").count() == 0, "the twin opened an app: no router"


def test_replies_are_matched_by_request_id_and_done_counts_the_cores_tokens(fake_worker_page):
    page = fake_worker_page
    page.fill("#prompt", "Hello?")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done]")
    assert page.text_content(".turn.assistant") == "Here you go.", "a reply under another id was shown"
    assert page.inner_text("#stats") == "7 tokens · 6.0 tok/s"
    done = json.loads(page.get_attribute("#stats", "data-done"))
    waited = done.pop("waited_s")  # the page's own clock, from Enter to the first event
    assert isinstance(waited, float) and 0 <= waited < 30, waited
    assert done == {"reason": "end_of_turn", "tokens": 7, "seconds": 1.5, "first_token_s": 0.5, "decode_tok_s": 6}


def test_an_error_no_request_waits_for_is_still_shown(fake_worker_page):
    page = fake_worker_page
    page.click("#new-chat")  # sends RESET, which the stand-in refuses
    page.wait_for_selector("body[data-error]")
    assert "reset refused" in page.inner_text("#status")


def test_a_worker_that_cannot_start_is_reported(browser, site_url):
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    page.route("**/static/js/worker.js", lambda route: route.fulfill(status=404, body="missing"))
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.check(f".model-card[data-id='{MODEL}'] input")
    page.click("#load")
    page.wait_for_selector("body[data-error]", timeout=30_000)
    assert "worker failed" in page.inner_text("#status")
    assert not page.is_disabled("#load"), "the visitor can try again"
    context.close()
