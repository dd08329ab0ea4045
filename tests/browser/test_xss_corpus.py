"""Model text, TOOL params and the site's content files never become HTML or script (#18). A corpus of
payloads goes through (a) answers as the page renders them (Markdown, thinking, sources), (b) TOOL lines
turned into app calls by the core's own reply parser, and (c) every kind of content file, built by
`python build.py` into pages and the apps' lists. Each payload would set `window.__xss` or open a
dialog if it ran; neither may happen, no element of the page may come from a payload, and the words
show as text.

The pages are opened with their CSP bypassed: the CSP would block inline script anyway, and what is
under test here is that the page and the build never make markup from these words in the first place."""

from __future__ import annotations

import json
import shutil
import threading

import pytest

# The payloads: each sets window.__xss (or opens a dialog) if it ever runs.
PAYLOADS = [
    "<script>window.__xss='script'</script>",
    "<img src=x onerror=\"window.__xss='img'\">",
    "<svg onload=\"window.__xss='svg'\"><circle r=1></svg>",
    "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
    "<a href=\"javascript:window.__xss='anchor'\">a raw anchor</a>",
    "[a javascript link](javascript:window.__xss='md-link')",
    "[a data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![an image](javascript:window.__xss='md-image')",
    "[an entity link](&#106;avascript:window.__xss='entity-link')",
    "[a tab link](java\tscript:window.__xss='tab-link')",
    "&lt;script&gt;window.__xss='entity'&lt;/script&gt; &#60;b&#62;bold?&#60;/b&#62;",
    "</textarea><script>window.__xss='textarea'</script>",
    "</script><script>window.__xss='json-break'</script>",
    "${window.__xss='template'} `${alert(1)}`",
    "[\u202egnp.evil](https://example.org/\u200bok) and \u200bjava\u200bscript:alert(1)",
    "<style>body{display:none}</style><link rel=stylesheet href=//evil.example/x.css>",
    "x" * 20_000 + "<img src=x onerror=\"window.__xss='long'\">",
]
# Payloads whose every character must show on the page as written (no Markdown construct in them).
LITERAL = [p for p in PAYLOADS if not p.startswith(("[", "!", "&", "$")) and "[" not in p]

# What a payload may not leave in the DOM: an element that runs or fetches, a handler, a script link.
PAGE_CHECK = """
(root) => {
  const bad = [];
  for (const node of root.querySelectorAll("*")) {
    const tag = node.tagName.toLowerCase();
    if (["iframe", "svg", "object", "embed", "style", "link", "img", "base"].includes(tag)) bad.push(tag);
    if (tag === "script" && !(node.type === "application/json" || node.type === "module")) bad.push("script");
    for (const attr of node.attributes) {
      if (attr.name.startsWith("on") || attr.name === "srcdoc") bad.push(`${tag}[${attr.name}]`);
    }
    const target = node.getAttribute("href") ?? node.getAttribute("src");
    // where the link really goes, as the browser reads it (tabs and newlines dropped, entities decoded)
    if (target !== null && !["http:", "https:", "mailto:"].includes(new URL(target, location.href).protocol)) {
      bad.push(`${tag} -> ${target}`);
    }
  }
  return bad;
}
"""


def watch_for_xss(page):
    """Dialogs are recorded (and dismissed); window.__xss is read at the end."""
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)


def assert_nothing_ran(page, where: str) -> None:
    assert page.dialogs == [], (where, page.dialogs)
    assert page.evaluate("window.__xss") is None, (where, page.evaluate("window.__xss"))
    bad = page.eval_on_selector("body", PAGE_CHECK)
    assert bad == [], (where, bad)


# (a) and (b): a stand-in worker (served in place of worker.js) posts, for each question, the events
# the core's own reply parser (tabtwin._core.parse_reply, the Rust code the wasm runs) makes of a reply
# full of payloads: its thinking, Markdown text and TOOL lines. Feeding the page protocol messages is
# what this part tests: how the page renders whatever a model says, not whether a model would say it.
STANDIN = """
import * as msg from "./protocol.js";
const REPLIES = __REPLIES__;
const post = (type, body) => self.postMessage({ type, ...body });
self.onmessage = ({ data }) => {
  if (data.type === msg.LOAD) {
    post(msg.READY, { id: data.id, info: { tools: null, context_length: 2048 }, simd128: true, cached: true,
                      passages: 1 });
  } else if (data.type === msg.GENERATE) {
    const { events, sources } = REPLIES[data.prompt];
    for (const event of events) post(msg.EVENT, { id: data.id, event });
    post(msg.DONE, { id: data.id, reason: "end_of_turn", tokens: events.length, seconds: 1, first_token_s: 0.1,
                     decode_tok_s: 10, sources, refused: false, unsupported: [] });
  } else if (data.type === msg.PREPARE) {
    post(msg.PREPARED, { id: data.id, tokens: 0 });
  }
};
"""


def reply_for(payload: str) -> str:
    """A reply carrying `payload` everywhere a model's words go: thinking, paragraphs, a list, code,
    a heading, and TOOL lines (an app the site has with payload params, and a payload as the app)."""
    tool = json.dumps({"app": "projects", "params": {"language": payload, "tag": payload, payload: payload}})
    odd_app = json.dumps({"app": payload, "params": {}})
    return (
        f"<think>{payload}</think>{payload}\n\n# {payload}\n\n- {payload}\n- **{payload}**\n\n"
        f"`{payload}`\n\n```\n{payload}\n```\nTOOL {tool}\nTOOL {odd_app}\n"
    )


@pytest.fixture
def page(browser):
    """This module's page, in place of conftest's: its own context (no service worker; the CSP bypassed,
    so that the rendering itself is what is tested), failing the test on any dialog a payload opens."""
    context = browser.new_context(service_workers="block", bypass_csp=True)
    page = context.new_page()
    watch_for_xss(page)
    yield page
    context.close()


@pytest.fixture(scope="module")
def replies():
    from tabtwin._core import parse_reply

    out = {}
    for i, payload in enumerate(PAYLOADS):
        events = parse_reply(reply_for(payload))
        assert any(e["kind"] == "tool" and e["app"] == "projects" for e in events), events
        source = {"id": f"p{i}", "source": "musings", "title": payload, "url": "javascript:window.__xss='src'"}
        out[f"question {i}: {payload}"] = {"events": events, "sources": [{**source, "score": 0.9}]}
    return out


def test_model_answers_thinking_sources_and_tool_params_stay_text(page, site_url, replies):
    code = STANDIN.replace("__REPLIES__", json.dumps(replies))
    page.route("**/static/js/worker.js", lambda r: r.fulfill(status=200, content_type="text/javascript", body=code))
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.check(".model-card input")
    page.click("#load")
    page.wait_for_selector("body[data-ready='true']")
    for question, payload in zip(replies, PAYLOADS):
        page.fill("#prompt", question)
        page.keyboard.press("Enter")
        page.wait_for_selector(f".turn-actions >> nth={PAYLOADS.index(payload)}")
        page.wait_for_selector(f".app-card[data-app='projects'] >> nth={PAYLOADS.index(payload)}")
        answer = page.locator(".turn.assistant").last
        card = page.locator(".app-card[data-app='projects']").last
        assert json.loads(card.get_attribute("data-params"))["language"] == payload
        if payload in LITERAL:
            assert payload in answer.inner_text(), payload
            assert payload in page.locator(".thinking").last.text_content(), payload
            assert f"language: {payload}" in card.locator("header").inner_text(), payload
            assert payload in page.locator(".sources").last.inner_text(), payload
    assert page.locator(".app-notice").count() == len(PAYLOADS), "a payload as the app's name: a notice"
    assert_nothing_ran(page, "answers")


# (c): content files full of payloads, built by `python build.py` into a site of their own.
def toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a TOML basic string


def write_content(content, payloads: list[str]) -> None:
    first = payloads[0]
    (content / "musings").mkdir(parents=True)
    (content / "site.toml").write_text(
        f"title = {toml_string(first)}\ntagline = {toml_string(payloads[1])}\npersona = {toml_string(payloads[2])}\n"
        f"short_bio = {toml_string(payloads[3])}\nemail = {toml_string(payloads[4])}\ndemo = false\n"
    )
    projects = books = talks = ""
    for i, p in enumerate(payloads):
        s = toml_string(p)
        projects += (
            f'[[project]]\nid = "p{i}"\nname = {s}\nyear = 2024\ndescription = {s}\nlanguages = [{s}]\n'
            f"tags = [{s}]\nurl = {toml_string(['javascript:window.__xss=1', 'data:text/html,x', p][i % 3])}\n"
            f"status = {s}\n\n"
        )
        books += f"[[book]]\ntitle = {s}\nauthor = {s}\nyear_read = 2024\ntags = [{s}]\nline = {s}\n\n"
        talks += (
            f'[[talk]]\ntitle = {s}\nevent = {s}\ndate = "2024-01-{i + 1:02d}"\ncity = {s}\nsummary = {s}\n'
            f"url = {toml_string(' javascript:window.__xss=1')}\ntags = [{s}]\n\n"
        )
        (content / "musings" / f"2024-01-{i + 1:02d}-m{i}.md").write_text(
            f'+++\ntitle = {s}\ndate = "2024-01-{i + 1:02d}"\ntags = [{s}]\nsummary = {s}\n+++\n\n{p}\n\n'
            f'A paragraph with {p} inside.\n\n[x](http://ok.example){{: onclick="window.__xss=1" }}\n'
        )
    (content / "projects.toml").write_text(projects)
    (content / "books.toml").write_text(books)
    (content / "talks.toml").write_text(talks)
    (content / "about.md").write_text("\n\n".join(payloads) + "\n")


@pytest.fixture(scope="module")
def hostile_site(root, tiny_gguf, tmp_path_factory):
    from tabtwin.site.build import build
    from tabtwin.site.serve import make_server

    work = tmp_path_factory.mktemp("hostile")
    shutil.copytree(root / "site", work / "site", ignore=shutil.ignore_patterns("content"))
    write_content(work / "site" / "content", PAYLOADS)
    (work / "models.toml").write_text(f'[[model]]\nid = "tiny"\nlabel = "Tiny"\npath = "{tiny_gguf}"\n')
    build(work, work / "_site", work / "models.toml", log=lambda *_: None)
    server = make_server(work / "_site", "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", work / "_site"
    server.shutdown()
    server.server_close()


PAGES = ["", "about/", "projects/", "books/", "talks/", "musings/", "musings/m1/", "musings/m3/", "chat/"]


@pytest.mark.parametrize("path", PAGES)
def test_content_files_become_text_on_every_page(page, hostile_site, path):
    url, _ = hostile_site
    page.goto(f"{url}{path}")
    page.wait_for_load_state("load")
    text = page.inner_text("body")
    if path in ("about/", "projects/", "books/", "talks/"):
        for payload in LITERAL:
            assert payload in text, (path, payload[:80])
    assert PAYLOADS[0] in page.inner_text(".brand"), "the site's title, as written"
    assert_nothing_ran(page, path)


@pytest.mark.parametrize("question", ["Show me your projects", "What books do you read?", "Any talks?", "Your blog?"])
def test_content_files_become_text_in_the_apps(page, hostile_site, question):
    url, _ = hostile_site
    page.goto(f"{url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.fill("#prompt", question)
    page.keyboard.press("Enter")
    card = page.wait_for_selector(".app-card .app-list")
    text = card.inner_text()
    for payload in LITERAL[:4]:
        assert payload in text, (question, payload)
    for button in page.query_selector_all(".app-card .musing-body"):
        button.evaluate("(body) => { body.hidden = false; }")
    assert_nothing_ran(page, question)


def test_who_are_you_in_scripted_mode_is_text(page, hostile_site):
    url, _ = hostile_site
    page.goto(f"{url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.fill("#prompt", "Who are you?")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done='scripted']")
    assert PAYLOADS[3] in page.inner_text(".turn.assistant")  # the short bio, as written
    assert_nothing_ran(page, "scripted")
