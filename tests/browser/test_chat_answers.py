"""Answers people can read, at both sizes: Markdown (paragraphs, emphasis, lists, code, links to this
site or http(s)) built as DOM nodes and inert, "Thinking" until the first words, a copy button,
"regenerate" for the last answer, and one announcement per answer for screen readers."""

from __future__ import annotations

import pytest
from standin import SIZES, ask, open_tab, start_model

# What an answer may hold once rendered: the Markdown subset's elements and attributes, nothing else.
ELEMENTS = {"P", "UL", "OL", "LI", "STRONG", "EM", "CODE", "PRE", "A"}
ATTRIBUTES = {"href", "target", "rel", "class", "start"}

MARKDOWN = """echo:Here is **a list**, with *emphasis* and `inline <b>code</b>`:

- one item
- a [page of this site](/about/) and [an outside page](https://example.org/x)

1. first
2. second

```
if (a < b && c) { alert("not run"); }
```

A [bad link](javascript:window.__pwned=1) and [data](data:text/html,<script>x</script>), an image \
![a picture](https://example.org/track.png) and raw <img src=x onerror="window.__pwned=1"> markup."""


@pytest.fixture(params=list(SIZES))
def tab(request, browser, site_url):
    opened = open_tab(browser, site_url, SIZES[request.param], permissions=["clipboard-read", "clipboard-write"])
    start_model(opened.page)
    yield opened.page
    opened.context.close()


def rendered(page) -> dict:
    return page.evaluate(
        """() => {
          const answer = document.querySelectorAll('.turn.assistant')[0];
          const nodes = [...answer.querySelectorAll('*')];
          return {
            tags: [...new Set(nodes.map((n) => n.tagName))],
            attributes: [...new Set(nodes.flatMap((n) => [...n.attributes].map((a) => a.name)))],
            links: [...answer.querySelectorAll('a')].map((a) => [a.textContent, a.href, a.rel, a.target]),
            text: answer.textContent,
          };
        }"""
    )


def test_markdown_is_rendered_as_dom_nodes_and_is_inert(tab, site_url):
    ask(tab, MARKDOWN)
    shown = rendered(tab)
    assert set(shown["tags"]) <= ELEMENTS, shown["tags"]
    assert set(shown["attributes"]) <= ATTRIBUTES, shown["attributes"]
    assert tab.inner_text(".turn.assistant strong >> nth=0") == "a list"
    assert tab.inner_text(".turn.assistant em") == "emphasis"
    assert tab.inner_text(".turn.assistant p code") == "inline <b>code</b>", "markup in code is text"
    assert tab.locator(".turn.assistant ul > li").count() == 2
    assert tab.locator(".turn.assistant ol > li").all_inner_texts() == ["first", "second"]
    assert tab.inner_text(".turn.assistant pre code") == 'if (a < b && c) { alert("not run"); }'
    links = {text: (href, rel, target) for text, href, rel, target in shown["links"]}
    assert links["page of this site"][0] == f"{site_url}about/"
    assert links["an outside page"][0] == "https://example.org/x"
    assert links["image: a picture"][0] == "https://example.org/track.png", "an image is only a link"
    for href, rel, target in links.values():
        assert href.startswith(("http://", "https://")) and "noopener" in rel and target == "_blank"
    assert "bad link" in shown["text"] and "bad link" not in links, "an unsafe target keeps its words only"
    assert "data" not in links
    assert '<img src=x onerror="window.__pwned=1">' in shown["text"]
    assert tab.locator("#conversation img, #conversation script, #conversation b").count() == 0
    tab.click(".turn.assistant pre")  # nothing in it runs when touched
    assert tab.evaluate("window.__pwned === undefined")


def test_a_plain_answer_stays_the_models_words(tab):
    answer = ask(tab, "echo:The capital of France is Paris.")
    assert answer == "The capital of France is Paris."
    assert tab.evaluate("document.querySelector('.turn.assistant').children.length") == 0


def test_thinking_shows_until_the_first_words(tab):
    tab.fill("#prompt", "Anyone there?")
    tab.keyboard.press("Enter")
    thinking = tab.wait_for_selector(".turn.assistant[data-state='thinking'] .typing")
    assert thinking.is_visible() and "Thinking" in thinking.inner_text()
    assert tab.get_attribute(".turn.assistant", "aria-busy") == "true"
    tab.wait_for_selector(".turn.assistant[data-done]")
    assert tab.locator(".typing").count() == 0 and tab.get_attribute(".turn.assistant", "aria-busy") is None


def test_copy_puts_the_answer_as_written_on_the_clipboard(tab):
    ask(tab, "echo:Use `pip install tabtwin`, **then** run it.")
    tab.click(".turn-actions button:has-text('Copy')")
    assert tab.evaluate("navigator.clipboard.readText()") == "Use `pip install tabtwin`, **then** run it."
    tab.wait_for_selector(".turn-actions button:has-text('Copied')")


def test_regenerate_answers_the_last_question_again_in_place(tab):
    ask(tab, "first question")
    assert ask(tab, "second question") == 'Take 1 of "second question", after 1 earlier exchanges.'
    assert tab.locator("[data-regenerate]").count() == 1, "only the last answer can be regenerated"
    tab.click(".turn-actions >> nth=-1 >> [data-regenerate]")
    tab.wait_for_selector(".turn.assistant >> nth=1 >> text=Take 2")
    tab.wait_for_selector("[data-regenerate]")
    # the worker forgot the last exchange first: the new answer follows the same one earlier exchange
    assert tab.inner_text(".turn.assistant >> nth=-1") == 'Take 2 of "second question", after 1 earlier exchanges.'
    assert tab.locator(".turn.user").all_inner_texts() == ["first question", "second question"]
    assert tab.locator(".turn.assistant").count() == 2


def test_an_answer_is_announced_once_when_it_ends(tab):
    assert tab.get_attribute("#conversation", "aria-live") is None, "tokens are not read out one by one"
    tab.evaluate(
        """() => {
          window.__announcements = [];
          new MutationObserver(() => window.__announcements.push(document.getElementById('announcer').textContent))
            .observe(document.getElementById('announcer'), { childList: true, characterData: true, subtree: true });
        }"""
    )
    answer = ask(tab, "echo:A reply long enough to arrive in many pieces, one after another.")
    tab.wait_for_timeout(100)
    assert tab.evaluate("window.__announcements") == [answer]
    assert tab.get_attribute("#announcer", "aria-live") == "polite"


def test_escape_stops_an_answer(browser, site_url):
    opened = open_tab(browser, site_url, SIZES["phone"], per_piece_ms=300)
    page = opened.page
    start_model(page)
    page.fill("#prompt", "echo:" + "a slow and long reply " * 20)
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-state='streaming']")
    assert page.is_visible("#stop") and not page.is_visible("#send"), "Stop takes Send's place"
    page.keyboard.press("Escape")
    page.wait_for_selector(".turn.assistant[data-done='stopped']", timeout=10_000)
    assert page.is_visible("#send") and not page.is_visible("#stop")
    opened.context.close()


def test_underscores_inside_words_are_not_emphasis(tab):
    ask(tab, "echo:Set my_var_name to _this_ and a * b * c stays.")
    assert tab.locator(".turn.assistant em").all_inner_texts() == ["this"]
    assert "my_var_name" in tab.inner_text(".turn.assistant") and "a * b * c" in tab.inner_text(".turn.assistant")
