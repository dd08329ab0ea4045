"""Reading ahead (PREPARE) from the page's side, with the stand-in worker (a read-ahead takes 300 ms
there, so typing outpaces it): one at a time, the newest words sent when the one before ends, none
while an answer streams, and what was typed meanwhile sent when it ends. The core's side (only what
changed is read after Enter, the same answer) is tests/core/test_prepare.py and test_twin.py."""

from __future__ import annotations

import json

import pytest
from standin import DESKTOP, ask, open_tab, start_model

QUESTION = "Where were you born and where do you live now?"


@pytest.fixture
def page(browser, site_url):
    tab = open_tab(browser, site_url, DESKTOP, per_piece_ms=150)
    start_model(tab.page)
    yield tab.page
    tab.context.close()


def prepares(page) -> dict:
    """What the stand-in's PREPAREs asked so far (its answer to "prepares?", which is not counted)."""
    asked = json.loads(ask(page, "prepares?"))
    assert asked["prompts"][-1] == "prepares?"  # the fill of the probe question itself
    asked["prompts"] = asked["prompts"][:-1]
    return asked


def test_typing_reads_ahead_one_request_at_a_time_ending_with_the_whole_question(page):
    page.type("#prompt", QUESTION, delay=25)  # about 47 keys in 1.2 s: four times the read-ahead's pace
    page.wait_for_timeout(1000)  # the last read-ahead ends; the one for the newest words follows it
    asked = prepares(page)
    sent = asked["prompts"]
    assert asked["mostAtOnce"] == 1, asked
    assert 2 <= len(sent) < len(QUESTION) // 2, sent  # far fewer than keystrokes: typing while one runs waits
    assert all(QUESTION.startswith(p) for p in sent) and sent == sorted(sent, key=len), sent
    assert sent[-1] == QUESTION, sent


def test_nothing_is_read_ahead_while_an_answer_streams_and_what_was_typed_follows_it(page):
    page.fill("#prompt", "Tell me a long story")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-busy='true']")
    page.type("#prompt", "and then?", delay=20)  # typed while the answer streams
    page.wait_for_selector("body[data-busy='false']", timeout=30_000)
    page.wait_for_timeout(700)
    page.fill("#prompt", "")
    asked = prepares(page)
    assert asked["duringAnswer"] == 0, asked
    assert asked["prompts"][-1] == "and then?", asked  # sent when the answer ended
