"""/chat on a phone (390x844) and a desktop (1280x800): a header that fits, the composer in reach
however long the conversation, the picker folded to one line once a model runs, suggestion chips,
the visit's preferences, and honest downloads (size, storage, memory, data saver, ETA)."""

from __future__ import annotations

import json

import pytest
from standin import MODEL, PHONE, SIZES, ask, open_tab, start_model


@pytest.fixture(params=list(SIZES))
def tab(request, browser, site_url):
    opened = open_tab(browser, site_url, SIZES[request.param])
    yield opened.page
    opened.context.close()


def inside_viewport(page, selector: str) -> bool:
    """Whether the element is wholly on screen and the one a tap at its centre reaches (not covered)."""
    return page.evaluate(
        """(selector) => {
          const node = document.querySelector(selector);
          const box = node.getBoundingClientRect();
          if (box.top < 0 || box.left < 0 || box.bottom > innerHeight || box.right > innerWidth) return false;
          const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
          return node === hit || node.contains(hit);
        }""",
        selector,
    )


def test_the_header_fits_a_360_px_screen(browser, site_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, service_workers="block")
    page = context.new_page()
    for path in ("", "chat/", "projects/"):
        page.goto(f"{site_url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        for link in page.locator(".site-header a").all():
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360, (path, link.inner_text())
        assert page.locator(".site-header").bounding_box()["height"] < 140, path
    context.close()


def test_the_home_page_leads_to_the_chat_with_one_action(browser, site_url):
    context = browser.new_context(viewport=PHONE, service_workers="block")
    page = context.new_page()
    page.goto(site_url)
    action = page.locator("main a.button")
    assert action.count() == 1 and "Chat" in action.inner_text()
    assert inside_viewport(page, "main a.button"), "the action is on the first screen of a phone"
    action.click()
    page.wait_for_selector("body[data-initialized='true']")
    assert page.url.endswith("/chat/")
    context.close()


def test_the_composer_stays_in_reach_through_ten_turns(tab):
    assert inside_viewport(tab, "#prompt") and inside_viewport(tab, "#send"), "on the first screen"
    start_model(tab)
    for turn in range(10):
        ask(tab, f"Question number {turn + 1}, a fairly long one so that the answer wraps over some lines?")
    assert tab.locator(".turn.assistant").count() == 10
    assert inside_viewport(tab, "#prompt") and inside_viewport(tab, "#send")
    # the last answer is in view above the composer, not under it
    answer = tab.locator(".turn.assistant >> nth=-1").bounding_box()
    assert answer["y"] + answer["height"] <= tab.locator("#ask").bounding_box()["y"] + 1
    assert tab.evaluate("document.documentElement.scrollWidth <= innerWidth"), "nothing runs off the side"


def test_the_picker_folds_to_one_line_once_a_model_runs(tab):
    assert tab.is_visible("#models") and not tab.is_visible("#picker-line")
    start_model(tab)
    assert not tab.is_visible("#models") and not tab.is_visible("#load")
    line = tab.inner_text("#picker-line")
    assert "on this device" in line and "change" in line and MODEL in line
    assert tab.locator("#picker").bounding_box()["height"] < 80
    tab.click("#change-model")
    assert tab.is_visible("#models") and tab.get_attribute("#change-model", "aria-expanded") == "true"
    assert tab.evaluate("document.activeElement.name") == "model", "focus goes to the list it opened"
    tab.keyboard.press("Escape")
    assert not tab.is_visible("#models")
    assert tab.evaluate("document.activeElement.id") == "change-model"


def test_suggestion_chips_on_an_empty_conversation_never_the_same_twice(tab, built_site):
    data = json.loads(tab.text_content("#suggestions-data"))
    chips = tab.locator("#suggestions button")
    assert 3 <= chips.count() <= 4
    first = sorted(chips.all_inner_texts())
    assert set(first) <= {s["q"] for s in data}
    assert len({s["source"] for s in data if s["q"] in first}) > 1, "varied: from more than one source"
    chips.first.click()
    tab.wait_for_selector(".turn.assistant[data-done]")
    assert tab.inner_text(".turn.user") in first
    assert not tab.is_visible("#suggestions"), "chips are for an empty conversation"
    seen = [first]
    for _ in range(3):
        tab.click("#new-chat")
        assert tab.is_visible("#suggestions")
        seen.append(sorted(chips.all_inner_texts()))
        assert seen[-1] != seen[-2]
    tab.reload()
    tab.wait_for_selector("body[data-initialized='true']")
    assert sorted(chips.all_inner_texts()) != seen[-1], "nor after a reload"


def test_toggles_are_remembered_for_the_visit_only(browser, site_url, tab):
    tab.check("#speak")
    tab.check("#send-transcript")
    tab.reload()
    tab.wait_for_selector("body[data-initialized='true']")
    assert tab.is_checked("#speak") and tab.is_checked("#send-transcript")
    assert tab.locator("#conversation > *").count() == 0, "the conversation is not kept"
    other = open_tab(browser, site_url, PHONE)
    assert not other.page.is_checked("#speak"), "a new visit starts afresh"
    other.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_dark_mode_reduced_motion_and_the_browsers_text_size(browser, site_url, size):
    opened = open_tab(browser, site_url, SIZES[size], color_scheme="dark", reduced_motion="reduce")
    page = opened.page
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert sum(int(c) for c in background[4:-1].split(",")[:3]) < 150, background
    start_model(page)
    page.fill("#prompt", "Is this still moving?")
    page.keyboard.press("Enter")
    typing = page.wait_for_selector(".typing")
    assert typing.evaluate("(n) => getComputedStyle(n, '::after').animationName") == "none"
    cdp = opened.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 24}})
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "24px"
    assert page.evaluate("getComputedStyle(document.getElementById('prompt')).fontSize") == "24px"
    opened.context.close()


def test_no_content_security_policy_violation(tab):
    start_model(tab)
    ask(tab, "echo:Some **bold** text and a [link](https://example.org/).")
    assert not [line for line in tab.console_lines if "Content Security Policy" in line or "Refused" in line]
