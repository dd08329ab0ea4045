"""Accessible: axe-core (npm, injected by the test only) finds no violation on any page, phone and
desktop, light and dark, the chat empty, in scripted mode and with a model's answer; and the chat
works with the keyboard alone, with a focus that can be seen."""

from __future__ import annotations

import pytest
from axe_core import violations
from standin import DESKTOP, PHONE, ask, open_tab, start_model

LOOKS = {"phone-light": (PHONE, "light"), "desktop-light": (DESKTOP, "light"), "desktop-dark": (DESKTOP, "dark")}


def site_pages(built_site) -> list[str]:
    pages = sorted(p.relative_to(built_site).as_posix() for p in built_site.rglob("index.html"))
    return [p.removesuffix("index.html") for p in pages] + ["404.html"]


@pytest.mark.parametrize("look", list(LOOKS))
def test_axe_finds_no_violation_on_any_page(browser, site_url, built_site, look):
    viewport, scheme = LOOKS[look]
    context = browser.new_context(viewport=viewport, color_scheme=scheme, bypass_csp=True, service_workers="block")
    page = context.new_page()
    found = {}
    for path in site_pages(built_site):
        page.goto(f"{site_url}{path}")
        if path == "chat/":
            page.wait_for_selector("body[data-initialized='true']")
        found[path] = violations(page)
    context.close()
    assert not any(found.values()), {path: v for path, v in found.items() if v}


@pytest.mark.parametrize("look", list(LOOKS))
def test_axe_finds_no_violation_in_a_conversation(browser, site_url, look):
    viewport, scheme = LOOKS[look]
    opened = open_tab(browser, site_url, viewport, color_scheme=scheme, bypass_csp=True)
    page = opened.page
    ask(page, "Show me your Python projects")  # scripted, with an app card
    found = {"scripted": violations(page)}
    start_model(page)
    ask(page, "echo:A **list**:\n\n- with `code`\n- and [a link](https://example.org/)\n\n```\nlet x = 1;\n```")
    found["model"] = violations(page)
    page.click("#change-model")
    found["picker open"] = violations(page)
    opened.context.close()
    assert not any(found.values()), found


def focused(page) -> dict:
    return page.evaluate(
        """() => {
          const node = document.activeElement;
          const style = getComputedStyle(node);
          return { id: node.id, name: node.name || '', text: (node.textContent || '').trim().slice(0, 40),
                   outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
        }"""
    )


def tab_to(page, matches, key="Tab", limit=40) -> list[dict]:
    """Press Tab (or `key`) until the focused element matches; every element on the way shows its focus."""
    passed = []
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        assert now["outline"], f"no visible focus on {now}"
        passed.append(now)
        if matches(now):
            return passed
    raise AssertionError(f"never reached: {passed}")


def test_the_chat_works_with_the_keyboard_alone(browser, site_url):
    opened = open_tab(browser, site_url, PHONE)
    page = opened.page
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to content" and page.is_visible(".skip-link")
    page.keyboard.press("Enter")
    tab_to(page, lambda f: f["name"] == "model")
    tab_to(page, lambda f: f["id"] == "load")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-ready='true']")
    assert focused(page)["id"] == "prompt", "once the model runs, the focus is where the question goes"
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn-actions [data-regenerate]")
    assert focused(page)["id"] == "prompt"
    page.keyboard.press("Shift+Tab")
    assert focused(page)["text"] == "Regenerate"
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant >> text=Take 2")
    assert focused(page)["id"] == "prompt", "the pressed button went with its answer: focus is not lost"
    tab_to(page, lambda f: f["id"] == "change-model", key="Shift+Tab")
    page.keyboard.press("Enter")
    assert page.is_visible("#models") and focused(page)["name"] == "model"
    page.keyboard.press("Escape")
    assert not page.is_visible("#models") and focused(page)["id"] == "change-model"
    tab_to(page, lambda f: f["text"].startswith("What") or f["id"] == "new-chat")
    opened.context.close()
