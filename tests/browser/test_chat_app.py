"""The /chat app in real Chromium: picker, scripted mode, router, verified cached downloads, stop, reset."""

import json

import pytest
from browser_helpers import corrupt_registry
from test_chat_page import ask, load_model

MODEL = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def shared_context(playwright, tmp_path_factory):
    """One profile on disk for the module, so the Cache API persists between tests like a returning
    visitor's. A persistent profile, as a visitor's browser has: an incognito-like context's storage
    quota is too small for a 271 MB model (the page then runs it uncached and says so)."""
    from browser_helpers import CHROMIUM, CHROMIUM_FLAGS

    context = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, args=CHROMIUM_FLAGS
    )
    yield context
    context.close()


@pytest.fixture
def tab(shared_context):
    page = shared_context.new_page()
    page.console_lines = []
    page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
    page.requested = []
    page.on("request", lambda r: page.requested.append(r.url))
    yield page
    page.close()


def open_chat(page, site_url):
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")


def test_picker_lists_registry_models_with_facts(tab, site_url, built_site):
    open_chat(tab, site_url)
    registry = json.loads((built_site / "models.json").read_text())
    cards = tab.locator(".model-card")
    assert cards.count() == len(registry["models"])
    text = cards.first.inner_text()
    model = registry["models"][0]
    assert model["label"] in text and model["architecture"] in text and f"{model['bytes'] / 1e6:.0f} MB" in text
    assert "on this device" not in text


def test_banner_is_shown(tab, site_url):
    open_chat(tab, site_url)
    assert "wrong" in tab.inner_text(".banner") and "leaves this tab" in tab.inner_text(".banner")


def test_scripted_mode_opens_the_right_app_without_a_model(tab, site_url, built_site):
    open_chat(tab, site_url)
    tab.fill("#prompt", "Show me your Python projects")
    tab.keyboard.press("Enter")
    python_card = tab.wait_for_selector(".app-card[data-app='projects']")
    assert json.loads(python_card.get_attribute("data-params")) == {"language": "Python"}
    tab.screenshot(path=str(built_site.parent / "scripted-mode.png"), full_page=True)
    tab.click("#new-chat")
    tab.fill("#prompt", "Which projects have you written in Rust?")
    tab.keyboard.press("Enter")
    card = tab.wait_for_selector(".app-card[data-app='projects']")
    assert card.get_attribute("data-source") == "scripted"
    assert json.loads(card.get_attribute("data-params")) == {"language": "Rust"}
    projects = json.loads((built_site / "data/apps/projects.json").read_text())
    rust = [p for p in projects if "Rust" in p.get("languages", [])]
    assert tab.locator(".app-card[data-app='projects'] .app-list li").count() == len(rust) > 0
    assert "scripted" in tab.inner_text(".scripted-note").lower()
    assert not any("/models/" in url for url in tab.requested), "scripted mode downloads no model"


def test_download_verify_cache_and_reuse(tab, shared_context, site_url):
    load_model(tab, site_url, MODEL)
    shard_requests = [u for u in tab.requested if "/models/" in u]
    assert shard_requests, "the first visit downloads the shards"
    assert "on this device" in tab.inner_text(f".model-card[data-id='{MODEL}']")
    answer = ask(tab, "What is the capital of France?")
    assert "Paris" in answer
    # Model text is inserted as text: the answer node has no element children.
    assert tab.evaluate("document.querySelector('.turn.assistant').children.length") == 0

    second = shared_context.new_page()
    second.requested = []
    second.console_lines = []
    second.on("request", lambda r: second.requested.append(r.url))
    load_model(second, site_url, MODEL)
    assert "from this device" in second.inner_text("#status")
    assert not any("/models/" in u for u in second.requested), "a returning visitor loads from the cache"
    second.close()


def test_stop_ends_generation_at_once(tab, site_url):
    load_model(tab, site_url, MODEL)
    tab.fill("#prompt", "Write a very long story about a lighthouse keeper and a storm.")
    tab.keyboard.press("Enter")
    tab.wait_for_selector("body[data-busy='true']")
    tab.wait_for_timeout(1500)  # let a few tokens stream
    tab.click("#stop")
    tab.wait_for_selector(".turn.assistant[data-done]", timeout=30_000)
    assert tab.get_attribute(".turn.assistant", "data-done") == "stopped"
    assert not tab.is_disabled("#send")


def test_router_opens_app_when_the_model_does_not(tab, site_url):
    load_model(tab, site_url, MODEL)
    ask(tab, "Tell me about the books you have been reading.")
    card = tab.wait_for_selector(".app-card[data-app='books']")
    assert card.get_attribute("data-source") == "router"


def test_new_chat_clears_the_conversation(tab, site_url):
    load_model(tab, site_url, MODEL)
    ask(tab, "Say hi.")
    tab.click("#new-chat")
    assert tab.locator("#conversation > *").count() == 0


def test_integrity_mismatch_is_refused_and_not_cached(browser, site_url):
    # A context of its own without the service worker, so the tampered registry reaches the page.
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    page.console_lines = []

    corrupt_registry(page, "corrupted")
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.check(f".model-card[data-id='{MODEL}'] input")
    page.click("#load")
    page.wait_for_selector("body[data-error]", timeout=120_000)
    assert "integrity check failed" in page.inner_text("#status")
    assert page.is_visible("#retry")
    cached = page.evaluate("""async () => {
        const cache = await caches.open('tabtwin-models-v1');
        return Boolean(await cache.match(new URL('/__tabtwin_models__/corrupted.gguf', location.origin).href));
    }""")
    assert cached is False
    context.close()


def test_remove_from_device(tab, site_url):
    open_chat(tab, site_url)
    tab.check(f".model-card[data-id='{MODEL}'] input")
    tab.click("#remove")
    tab.wait_for_selector("#status:has-text('removed')")
    assert "on this device" not in tab.inner_text(f".model-card[data-id='{MODEL}']")


def test_site_opens_offline_after_a_visit(browser, site_url):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker
    page.wait_for_selector("body[data-initialized='true']")
    context.set_offline(True)
    page.goto(f"{site_url}about/")
    assert "About" in page.inner_text("main")
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    assert page.locator(".model-card").count() >= 1
    context.close()


def test_browser_answer_equals_the_native_core(tab, site_url, smollm_path):
    """The wasm core in Chromium and the native binding produce the same greedy reply.

    Known limit: the simd128 and x86 kernels sum in different orders, so on long open-ended
    replies a near-tie can flip and the texts part ways (seen after ~7 tokens on a rainbow
    question); a short factual answer has no such tie.
    """
    from tabtwin._core import Chat

    question = "What is the capital of France?"
    native = Chat.from_path(smollm_path).generate(question, max_tokens=256)
    load_model(tab, site_url, MODEL)
    assert ask(tab, question) == native


def test_markup_in_conversation_is_shown_as_text(tab, site_url):
    open_chat(tab, site_url)
    payload = '<img src=x onerror="window.__pwned = 1">'
    tab.fill("#prompt", payload)
    tab.keyboard.press("Enter")
    tab.wait_for_selector(".turn.assistant[data-done]")
    assert tab.inner_text(".turn.user") == payload
    assert tab.locator("#conversation img").count() == 0
    assert tab.evaluate("window.__pwned === undefined")


def test_every_request_stays_on_the_site(tab, site_url, tmp_path_factory):
    load_model(tab, site_url, MODEL)
    ask(tab, "Show me your projects.")
    tab.wait_for_selector(".app-card")
    shots = tmp_path_factory.getbasetemp() / "screenshots"
    shots.mkdir(exist_ok=True)
    tab.screenshot(path=str(shots / "chat-answer-with-app.png"), full_page=True)
    # the worker starts from a blob the page made (blob:<site origin>/...), which is the site too
    own = (site_url, "data:", f"blob:{site_url.rstrip('/')}/")
    foreign = [u for u in tab.requested if not u.startswith(own)]
    assert foreign == []
