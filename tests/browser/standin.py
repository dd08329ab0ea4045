"""A stand-in for worker.js that answers at once, for tests of the page itself (layout, Markdown,
actions, keyboard): no model to load, a "Thinking" pause before the first words, and replies the test
chooses. A question starting "echo:" is answered with the rest of it, word for word (the tests write
Markdown that way); any other with which take of that question this is and how many exchanges the
stand-in remembers, so that "regenerate" can be seen forgetting the last one; "prepares?" with what the
page's read-aheads (PREPARE) asked so far."""

from __future__ import annotations

from typing import NamedTuple

MODEL = "smollm2-135m-instruct"

WORKER = """
import * as msg from "./protocol.js";
const post = (type, body) => self.postMessage({ type, ...body });
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const FIRST_TOKEN_MS = 400;
const PER_PIECE_MS = __PER_PIECE_MS__;
const DOWNLOAD_STEPS = __DOWNLOAD_STEPS__;  // progress reports a second apart before READY
const PREPARE_MS = 300;  // a read-ahead takes this long, so that typing outpaces it
let remembered = 0;
let stopping = false;
let generating = false;
const takes = new Map();
const prepares = { prompts: [], atOnce: 0, mostAtOnce: 0, duringAnswer: 0 };  // what PREPARE asked

async function prepare({ id, prompt }) {
  prepares.prompts.push(prompt);
  prepares.duringAnswer += generating ? 1 : 0;
  prepares.atOnce += 1;
  prepares.mostAtOnce = Math.max(prepares.mostAtOnce, prepares.atOnce);
  await wait(PREPARE_MS);
  prepares.atOnce -= 1;
  post(msg.PREPARED, { id, tokens: 0 });
}

async function load({ id, model }) {
  for (let step = 1; step <= DOWNLOAD_STEPS; step += 1) {
    const loaded = Math.round((model.bytes * step) / (DOWNLOAD_STEPS + 2));
    post(msg.PROGRESS, { id, phase: "download", loaded, total: model.bytes });
    await wait(1000);
  }
  post(msg.READY, { id, info: { tools: null, context_length: 2048 }, simd128: true, cached: false, passages: null });
}

async function generate({ id, prompt }) {
  stopping = false;
  generating = true;
  const take = (takes.get(prompt) || 0) + 1;
  takes.set(prompt, take);
  const reply = prompt.startsWith("echo:") ? prompt.slice(5)
    : prompt === "prepares?" ? JSON.stringify(prepares)
    : `Take ${take} of "${prompt}", after ${remembered} earlier exchanges.`;
  await wait(FIRST_TOKEN_MS);
  const pieces = reply.match(/[\\s\\S]{1,6}/g) || [];
  let sent = 0;
  for (const text of pieces) {
    if (stopping) break;
    post(msg.EVENT, { id, event: { kind: "text", text } });
    sent += 1;
    await wait(PER_PIECE_MS);
  }
  remembered += 1;
  generating = false;
  post(msg.DONE, { id, reason: stopping ? "stopped" : "end_of_turn", tokens: sent, seconds: 1, first_token_s: 0.4,
                   decode_tok_s: 20, sources: [], refused: false, unsupported: [] });
}

self.onmessage = ({ data }) => {
  if (data.type === msg.LOAD) load(data);
  else if (data.type === msg.GENERATE) generate(data);
  else if (data.type === msg.STOP) stopping = true;
  else if (data.type === msg.RESET) remembered = 0;
  else if (data.type === msg.REWIND) remembered = Math.max(remembered - 1, 0);
  else if (data.type === msg.PREPARE) prepare(data);
};
"""

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SIZES = {"phone": PHONE, "desktop": DESKTOP}


class Tab(NamedTuple):
    context: object
    page: object


def open_tab(browser, site_url, viewport, per_piece_ms=20, download_steps=0, prepare=None, **context_options) -> Tab:
    """/chat at `viewport` with the stand-in worker, initialized, no model started yet; `prepare(page)`
    runs before the page is opened."""
    context = browser.new_context(viewport=viewport, service_workers="block", **context_options)
    page = context.new_page()
    if prepare:
        prepare(page)
    page.console_lines = []
    page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.console_lines.append(f"pageerror: {e}"))
    code = WORKER.replace("__PER_PIECE_MS__", str(per_piece_ms)).replace("__DOWNLOAD_STEPS__", str(download_steps))
    page.route("**/static/js/worker.js", lambda r: r.fulfill(status=200, content_type="text/javascript", body=code))
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    return Tab(context, page)


def start_model(page) -> None:
    page.check(f".model-card[data-id='{MODEL}'] input")
    page.click("#load")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)


def ask(page, question: str) -> str:
    """Ask and wait for the whole answer (its actions row shows last); the answer's text."""
    rows = page.locator("#conversation .turn-actions").count()
    page.fill("#prompt", question)
    page.keyboard.press("Enter")
    page.wait_for_function("(rows) => document.querySelectorAll('#conversation .turn-actions').length > rows", arg=rows)
    return page.inner_text(".turn.assistant >> nth=-1")
