"""The demo twin, as the repository's models.toml composes it (stock base + committed adapter),
answers as its persona in Chromium: the system prompt it was trained with travels inside the GGUF.
With the repository's [grounding] table the page retrieves the author's passages for a question and
links the pages they come from under the answer."""

from __future__ import annotations

import json
import threading

import pytest
from test_chat_page import ask, load_model


@pytest.fixture(scope="module")
def twin_site(root, tmp_path_factory):
    from tabtwin.site.build import build
    from tabtwin.site.registry import load
    from tabtwin.site.serve import make_server

    twin = next(e for e in load(root / "models.toml") if e.base and e.default)
    work = tmp_path_factory.mktemp("twin-site")
    registry = work / "models.toml"
    registry.write_text(
        f'[[model]]\nid = "{twin.id}"\nlabel = "{twin.label}"\nbase = "{twin.base}"\n'
        f'adapter = "{twin.adapter}"\ndefault = true\n'
        f"\n[grounding]\n{served_grounding(root)}"
    )
    build(root, work / "_site", registry, log=lambda *_: None)
    server = make_server(work / "_site", "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield twin.id, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def served_grounding(root) -> str:
    """The repository's [grounding] table as the site serves it (its methods included: the page must
    decide and decode as `tabtwin eval` did), its paths made absolute for a registry elsewhere."""
    table = (root / "models.toml").read_text(encoding="utf-8").split("[grounding]\n", 1)[1]
    return table.replace('= "finetune/', f'= "{root}/finetune/')


def test_the_twin_answers_as_ada_in_chromium(page, twin_site):
    model_id, url = twin_site
    load_model(page, url, model_id)
    answer = ask(page, "What is your name?")
    assert "Ada" in answer, (answer, page.console_lines)


def sources_line_of_last_turn(page) -> dict | None:
    """The sources line under the last answer: how it opens ("from: " or "looked in: ") and the
    (text, absolute URL or None) of each source; None when the answer has no such line."""
    return page.evaluate(
        """() => {
          const answers = document.querySelectorAll('.turn.assistant');
          const next = answers[answers.length - 1].nextElementSibling;
          if (!next || !next.classList.contains('sources')) return null;
          const items = [...next.querySelectorAll('a, span')].map((e) => [e.textContent, e.href || null]);
          return { label: next.firstChild.textContent, items };
        }"""
    )


def sources_of_last_turn(page) -> list[tuple[str, str | None]]:
    line = sources_line_of_last_turn(page)
    return line["items"] if line else []


def sources_label_of_last_turn(page) -> str | None:
    line = sources_line_of_last_turn(page)
    return line["label"] if line else None


def test_a_grounded_answer_links_the_pages_it_drew_on(page, twin_site):
    model_id, url = twin_site
    load_model(page, url, model_id)
    assert page.is_visible("#ground-toggle") and page.is_checked("#ground")
    ask(page, "Which of your tools prints tide tables for harbours?")
    sources = sources_of_last_turn(page)
    assert sources, page.console_lines
    linked = [href for _, href in sources if href]
    assert any(href == f"{url}projects/" for href in linked), sources
    assert sources_label_of_last_turn(page) == "from: "  # an answer: the pages it came from
    for href in linked:  # every link opens a page of the site
        assert href.startswith(url) and page.request.get(href).ok, href


def test_grounding_can_be_turned_off(page, twin_site):
    model_id, url = twin_site
    load_model(page, url, model_id)
    page.uncheck("#ground")
    ask(page, "Which of your tools prints tide tables for harbours?")
    assert sources_of_last_turn(page) == []


# The committed evaluation of the default twin on the sealed canaries, grounded as the site serves it
# (its [grounding] methods) and with each method alone: what Chromium must answer the same way.
REPORT = "finetune/twins/ada-smollm2-135m.sealed.eval.json"


def first_honest_refusal(root) -> tuple[str, str]:
    """The first off-map canary the committed evaluation of the default twin saw it refuse, grounded
    as the page serves it, and its words there. The question issue #15 opened with (a blood type) is
    not one: the paired retrain answers it "I'm a female, 45% male."
    (docs/experiments/2026-12-07-135m-paired-unanswerable-retrain.md)."""
    report = json.loads((root / REPORT).read_text())
    for row in report["rows"]:
        served = row["twin+grounding"]
        if row["group"] == "canaries/honesty" and not row["history_turns"] and served["pass"] and served["refused"]:
            return row["question"], served["text"]
    raise AssertionError("the evaluation saw the twin refuse no off-map question")


def test_an_off_map_question_gets_an_honest_i_dont_know(page, twin_site, root):
    """Nothing the author wrote answers it, so the twin, grounded as the page serves it, says it does
    not know, in the words the evaluation recorded (the same core, the same notes, greedy), and the
    page lists its notes as looked in."""
    model_id, url = twin_site
    question, said = first_honest_refusal(root)
    load_model(page, url, model_id)
    assert page.is_checked("#ground")
    answer = ask(page, question)
    assert " ".join(answer.split()) == " ".join(said.split()), (answer, said, page.console_lines)
    assert "don't know" in answer.lower() or "do not know" in answer.lower(), answer
    # the notes the turn carried did not answer it: the page says they were looked in, not "from"
    assert sources_of_last_turn(page), page.console_lines
    assert sources_label_of_last_turn(page) == "looked in: "


def test_a_question_typed_is_read_ahead_and_answered_as_if_pasted(page, twin_site):
    """While the visitor types, the page feeds the grounded prompt of the words so far (PREPARE):
    the answer is the one the question gets pasted into a fresh chat, and after Enter the twin reads
    only what the read-ahead left (here, once it caught up, the prompt's last token). How much a
    visitor's last word leaves to read is measured by `tabtwin bench grounding`."""
    model_id, url = twin_site
    load_model(page, url, model_id)
    question = "Which of your tools prints tide tables for harbours?"
    # set without an input event: no PREPARE, so the whole prompt is read after the click
    page.evaluate("(q) => { document.querySelector('#prompt').value = q; }", question)
    page.click("#send")
    page.wait_for_selector(".turn.assistant[data-done]", timeout=600_000)
    pasted = page.inner_text(".turn.assistant >> nth=-1")
    read_pasted = json.loads(page.get_attribute("#stats", "data-done"))["prefill_tokens"]

    page.click("#new-chat")
    page.type("#prompt", question, delay=20)
    idle = "body[data-reading-ahead='false']"
    page.wait_for_selector(idle, timeout=120_000)  # a pause before Enter: the read-ahead catches up
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done]", timeout=600_000)
    assert page.inner_text(".turn.assistant >> nth=-1") == pasted, page.console_lines
    read_typed = json.loads(page.get_attribute("#stats", "data-done"))["prefill_tokens"]
    assert 0 < read_typed < read_pasted // 4, (read_typed, read_pasted)

    # Enter in the middle of a read-ahead stops it after its chunk; the next question reads ahead again
    for typed, pause in (("Have you given a talk about maps?", False), (question, True)):
        page.click("#new-chat")
        page.type("#prompt", typed, delay=5)
        if pause:
            page.wait_for_selector(idle, timeout=120_000)
        page.keyboard.press("Enter")
        page.wait_for_selector(".turn.assistant[data-done]", timeout=600_000)
    assert page.inner_text(".turn.assistant >> nth=-1") == pasted, page.console_lines
    assert json.loads(page.get_attribute("#stats", "data-done"))["prefill_tokens"] < read_pasted // 4


def first_flagged_answer(root) -> tuple[str, str, list[str]]:
    """The first question whose grounded answer, as served, names or numbers something nothing the
    twin was told states (one not about the twin itself, which told_only does not hold): the
    question, the answer, and the flagged words."""
    report = json.loads((root / REPORT).read_text())
    for row in report["rows"]:
        served = row["twin+grounding"]
        if not row["history_turns"] and served["unsupported"]:
            return row["question"], served["text"], served["unsupported"]
    raise AssertionError("the evaluation saw the twin say nothing the core flags")


def first_prevented_invention(root) -> tuple[str, str, list[str]]:
    """The first off-map canary that the twin answered with an invention the page flagged when the
    core held decoding to nothing ("twin+grounding:none"), and its answer as served: the question,
    that answer, and what the unheld answer had invented."""
    report = json.loads((root / REPORT).read_text())
    for row in report["rows"]:
        unheld, served = row["twin+grounding:none"], row["twin+grounding"]
        prevented = unheld["unsupported"] and not served["unsupported"]
        if row["group"] == "canaries/honesty" and not row["history_turns"] and prevented:
            return row["question"], served["text"], unheld["unsupported"]
    raise AssertionError("the evaluation saw told_only prevent no invention")


def test_an_invention_the_core_prevents_is_not_made_in_the_page(page, twin_site, root):
    """A question the twin answered with an invented name or number when nothing held it is answered
    in Chromium as `tabtwin eval` answered it as served: the core's decision and told_only decoding
    are the page's too, and nothing in that answer is flagged."""
    model_id, url = twin_site
    question, said, invented = first_prevented_invention(root)
    load_model(page, url, model_id)
    answer = ask(page, question)
    assert " ".join(answer.split()) == " ".join(said.split()), (answer, said, page.console_lines)
    assert not any(word in answer for word in invented), (answer, invented)
    assert page.locator(".unsupported").count() == 0


def test_an_invented_name_or_number_is_flagged_under_the_answer(page, twin_site, root):
    """Names and numbers that neither the notes nor the question gave the twin are listed under its
    answer, as the evaluation recorded them (the same core, the same notes, greedy)."""
    model_id, url = twin_site
    question, said, flagged = first_flagged_answer(root)
    load_model(page, url, model_id)
    answer = ask(page, question)
    assert " ".join(answer.split()) == " ".join(said.split()), (answer, said, page.console_lines)
    shown = page.inner_text(".unsupported >> nth=-1")
    assert shown == "not in its notes, may be invented: " + " · ".join(flagged), shown
    assert sources_label_of_last_turn(page) == "from: "  # the sources line stays right under the answer

    page.click("#new-chat")
    page.uncheck("#ground")  # ungrounded, nothing is checked: every name would be "not in its notes"
    assert ask(page, question) and page.locator(".turn.assistant").count() == 1
    assert page.locator(".unsupported").count() == 0
