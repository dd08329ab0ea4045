"""Reading ahead (PREPARE) from the page's side, with the stand-in worker (a read-ahead takes 300 ms
there, so typing outpaces it): every word of the question goes to the worker as it is finished, the
newest last (the worker drops an older read-ahead), none while an answer streams, and what was typed
meanwhile goes when it ends. The worker's side (it stops a superseded read-ahead, only what changed is read after
Enter, the same answer) is tests/core/test_prepare.py and test_twin.py."""

from __future__ import annotations

import json

import pytest
from standin import DESKTOP, ask, open_tab, start_model

QUESTION = "Where were you born and where do you live now?"


@pytest.fixture
def page(browser, site_url):
    tab = open_tab(browser, site_url, DESKTOP, per_piece_ms=20)
    start_model(tab.page)
    yield tab.page
    tab.context.close()


def prepares(page) -> dict:
    """What the stand-in's PREPAREs asked so far (its answer to "prepares?", which is not counted)."""
    asked = json.loads(ask(page, "prepares?"))
    assert asked["prompts"][-1] == "prepares?"  # the fill of the probe question itself
    asked["prompts"] = asked["prompts"][:-1]
    return asked


def test_every_word_of_the_question_is_read_ahead_the_newest_last(page):
    page.type("#prompt", QUESTION, delay=25)  # about 47 keys in 1.2 s: four times the read-ahead's pace
    page.wait_for_selector("body[data-reading-ahead='false']")  # every read-ahead answered
    asked = prepares(page)
    sent = asked["prompts"]
    words = QUESTION.split()
    assert sent == [" ".join(words[:n]) for n in range(1, len(words) + 1)], sent  # a word at a time, in order
    assert asked["mostAtOnce"] > 1, asked  # the worker is told of the newest words without waiting


def test_nothing_is_read_ahead_while_an_answer_streams_and_what_was_typed_follows_it(page):
    page.fill("#prompt", "Tell me a long story")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-busy='true']")
    page.type("#prompt", "and then?", delay=10)  # typed while the answer streams (~0.6 s)
    page.wait_for_selector("body[data-busy='false']", timeout=30_000)
    page.wait_for_timeout(700)
    page.fill("#prompt", "")
    asked = prepares(page)
    assert asked["duringAnswer"] == 0, asked
    assert asked["prompts"][-1] == "and then?", asked  # sent when the answer ended (it ends a word: "?")
