"""Grounded training data (tabtwin/finetune/data/grounded.py) on the demo twin's own persona and site:
the user turn is what the core renders for the page, an unanswerable question carries no passage that
holds its answer, and the evaluation never sees the training's grounded copies. Words-only retrieval
(no embedder) keeps this in the fast tier; the rendering is the core's either way."""

from __future__ import annotations

import random
import re

import pytest

from tabtwin._core import Grounding, render_grounded_turn
from tabtwin.finetune.config import ConfigError, load
from tabtwin.finetune.data.build import Example, conversation, split
from tabtwin.finetune.data.grounded import (
    DONT_KNOW,
    GROUNDED,
    UNANSWERABLE,
    Grounder,
    answer_terms,
    ground_split,
    holders,
    rare_words,
)
from tabtwin.finetune.evaluate.questions import holdout_questions
from tabtwin.site import content, grounding

PERSONA = "Ada Okonkwo-Lindqvist"
PERSONA_WORDS = {"Ada", "Okonkwo-Lindqvist", "Okonkwo", "Lindqvist"}


@pytest.fixture(scope="module")
def demo(root):
    return load(root / "finetune/configs/demo.toml")


@pytest.fixture(scope="module")
def words_only(root):
    from tabtwin.site.registry import load_grounding

    config = load_grounding(root / "models.toml")
    return Grounding(grounding.encode(grounding.passages(content.load(root / "site/content"), config)))


@pytest.fixture(scope="module")
def built(demo, words_only):
    data = split(demo)
    grounder = Grounder(
        words_only, demo.data.grounded, demo.data.unanswerable, demo.data.dont_know, "Ada Okonkwo-Lindqvist"
    )
    return data, ground_split(list(data.train), list(data.holdout), grounder, demo.data.seed)


def test_answer_terms_are_names_numbers_and_rare_words():
    terms = answer_terms(
        "In Majorna, Gothenburg, since 2015. My cat Mercator naps. I'm Ada Okonkwo-Lindqvist.", PERSONA_WORDS
    )
    assert terms == {"Majorna", "Gothenburg", "2015", "Mercator"}
    assert answer_terms("Swedish and English. It overlays charts.", PERSONA_WORDS, {"overlays"}) == {
        "Swedish",
        "English",
        "overlays",
    }


def is_copy(ex, plain) -> bool:
    """`ex` is `plain` grounded: the same item, answers and wording, with notes in front of the question."""
    return (
        ex.grounding == GROUNDED
        and ex.where == plain.where
        and len(ex.messages) == len(plain.messages)
        and all(
            m == p if p["role"] != "user" else m["content"].endswith(p["content"])
            for m, p in zip(ex.messages, plain.messages)
        )
    )


def formed_in_order(examples, train):
    """(example, its forms) for each example in order: train is the examples formed one by one, an
    unanswerable one followed by its answered partner, an identity item's plain one by its grounded copy."""
    formed = iter(train)
    out = []
    for plain in examples:
        ex = next(formed)
        forms = [ex]
        if ex.grounding == UNANSWERABLE or (ex.grounding is None and ex.to_json() == plain.to_json()):
            partner = next(formed, None)
            if ex.grounding == UNANSWERABLE or (partner is not None and is_copy(partner, plain)):
                forms.append(partner)
            elif partner is not None:
                formed = iter([partner, *formed])
        out.append((plain, forms))
    assert next(formed, None) is None
    return out


def one_per_example(train, examples):
    """The form drawn for each example: without the answered partner that follows each unanswerable one
    or the grounded copy that follows an identity item's plain one."""
    return [forms[0] for _, forms in formed_in_order(examples, train)]


def test_every_form_is_drawn_in_the_configured_shares(demo, built):
    data, (train, _) = built
    refused = sum(ex.grounding == UNANSWERABLE for ex in train)
    both = sum(len(forms) == 2 and forms[0].grounding is None for _, forms in formed_in_order(data.train, train))
    assert both > 20  # identity items: plain and grounded
    assert len(train) == len(data.train) + refused + both  # one form per example, plus the partners
    forms = [ex.grounding or "plain" for ex in one_per_example(train, data.train)]
    share = {f: forms.count(f) / len(forms) for f in ("plain", GROUNDED, UNANSWERABLE)}
    assert abs(share[GROUNDED] - demo.data.grounded) < 0.1 + demo.data.unanswerable, share
    assert 0.03 < share[UNANSWERABLE] <= demo.data.unanswerable + 0.05, share


def test_a_grounded_turn_is_the_cores_rendering_of_the_plain_question(built, words_only):
    data, (train, _) = built
    formed = one_per_example(train, data.train)
    pairs = [(plain, ex) for plain, ex in zip(data.train, formed, strict=True) if ex.grounding == GROUNDED]
    assert pairs
    for plain, ex in pairs[:40]:
        assert [m["role"] for m in ex.messages] == [m["role"] for m in plain.messages]
        previous = None  # a follow-up is retrieved with the question before it, as the page does
        for asked, sent in zip(plain.messages, ex.messages, strict=True):
            if asked["role"] != "user":
                assert sent == asked  # the answers stay
                continue
            grounded = words_only.ground(asked["content"], previous=previous)
            previous = asked["content"]
            assert sent["content"] == grounded["text"]
            used = [p for s in grounded["sources"] for p in words_only.passages() if p["id"] == s["id"]]
            assert grounded["text"] == render_grounded_turn(asked["content"], used)


def test_an_unanswerable_question_carries_no_passage_that_answers_it(demo, built, words_only):
    data, (train, _) = built
    refused = [ex for ex in train if ex.grounding == UNANSWERABLE]
    assert refused
    originals = {}
    for ex in data.train:
        originals.setdefault(ex.where, []).append(ex)
    passages = {p["id"]: p for p in words_only.passages()}
    for ex in refused:
        assert ex.messages[2]["content"] in demo.data.dont_know and ex.kind == "fact"
        # never a question about who the twin is, nor one whose own answer is a refusal already
        assert not any(
            "Ada" in o.messages[2]["content"] or "know" in o.messages[2]["content"] for o in originals[ex.where]
        )
        user = ex.messages[1]["content"]
        answers = {o.messages[2]["content"] for o in originals[ex.where]}
        rare = rare_words(list(passages.values()))
        terms = set().union(*(answer_terms(a, PERSONA_WORDS, rare) for a in answers))
        shown = [p for p in passages.values() if f"[{p['title']}] " + " ".join(p["text"].split()) in user]
        assert shown, user
        assert not holders(shown, terms), (user, terms)


def test_each_refusal_has_a_partner_that_answers_the_same_wording_from_its_notes(built, words_only):
    data, (train, _) = built
    pairs = [
        (plain, *forms) for plain, forms in formed_in_order(data.train, train) if forms[0].grounding == UNANSWERABLE
    ]
    assert pairs
    for plain, refused, partner in pairs:
        question = plain.messages[1]["content"]
        assert partner.grounding == GROUNDED and partner.where == refused.where == plain.where
        assert refused.messages[1]["content"].endswith("\n\n" + question)  # the wording refused...
        grounded = words_only.ground(question)
        assert partner.messages[1:] == [{**plain.messages[1], "content": grounded["text"]}, plain.messages[2]]


def assert_trained_plain_and_grounded(examples: list[Example], examples_in: list[Example], formed: list[Example]):
    """Each of `examples` (taken from `examples_in`) is formed as itself, then its grounded copy."""
    by_example = {id(plain): forms for plain, forms in formed_in_order(examples_in, formed)}
    for plain in examples:
        forms = by_example[id(plain)]
        assert [f.grounding for f in forms] == [None, GROUNDED], plain.where
        assert forms[0] is plain and is_copy(forms[1], plain)


def test_who_the_twin_is_is_trained_with_notes_and_without(demo, built):
    """Every example whose answer names the persona trains in both forms, plain and grounded: a single
    draw left identity wordings seen one way only (the 135M twin, grounded, refused "which company built
    you?")."""
    data, (train, _) = built
    names_persona = [ex for ex in data.train if ex.source != "writing" and "Ada" in ex.messages[-1]["content"]]
    assert len(names_persona) > 20
    about_who = [ex for ex in names_persona if "know" not in ex.messages[-1]["content"]]  # not a refusal
    assert_trained_plain_and_grounded(about_who, data.train, train)


def test_an_answer_that_admits_not_knowing_is_trained_with_notes_and_without(demo, built):
    """A seed's own refusal and a conversation that asks after a known fact for a detail never written
    train in both forms: grounded, the topic's passage is in the notes without the detail (a
    near-miss), which a single draw mostly left plain (the twin retrained from the base, grounded,
    answered "What colour is Tärnan's hull?" with what Tärnan is)."""
    data, (train, _) = built
    admits = [
        ex
        for ex in data.train
        if ex.source != "writing"
        and any(m["role"] == "assistant" and DONT_KNOW.search(m["content"]) for m in ex.messages)
    ]
    assert len(admits) > 30 and {ex.source for ex in admits} >= {"seeds", "conversations"}
    assert_trained_plain_and_grounded(admits, data.train, train)
    # the near-miss conversations (a known fact, then a detail never written) are among them
    near_miss = [ex for ex in admits if ex.source == "conversations" and len(ex.messages) > 3]
    assert len(near_miss) >= 8


def test_the_wordings_that_can_be_refused_mostly_retrieve_their_answer(demo, built, words_only):
    """The contrast is in the notes: a refusal's partner, the same wording retrieved as the page would,
    mostly brings the passage the refusal lacked. Counted over every example that the draw could make
    unanswerable, not the ~25 it did (the draw is per example: a sample says more about the draw than
    about the retrieval). Words only, as this tier runs, it is 137 of 178 (77%); with the embedder the
    site ships, 169 of 178 (95%)."""
    data, _ = built
    passages = {p["id"]: p for p in words_only.passages()}
    rare = rare_words(list(passages.values()))
    grounder = Grounder(words_only, demo.data.grounded, demo.data.unanswerable, demo.data.dont_know, PERSONA)
    grounder.learn_answers(data.train + data.holdout)
    holding = []
    for ex in data.train:
        if grounder.answer_holders(ex) is None:
            continue
        sources = words_only.ground(ex.messages[1]["content"])["sources"]
        terms = answer_terms(ex.messages[2]["content"], PERSONA_WORDS, rare)  # ...answered from the notes
        holding.append(bool(holders([passages[s["id"]] for s in sources], terms)))
    assert len(holding) > 100 and sum(holding) >= 0.75 * len(holding), (sum(holding), len(holding))


def test_the_evaluation_asks_only_the_plain_held_out_questions(built):
    data, (_, holdout) = built
    assert len(holdout) > len(data.holdout) and holdout[: len(data.holdout)] == data.holdout
    assert all(ex.grounding in (GROUNDED, UNANSWERABLE) for ex in holdout[len(data.holdout) :])
    assert len(holdout_questions(holdout)) == len(holdout_questions(data.holdout))


def test_the_same_inputs_give_the_same_data(demo, words_only, built):
    data, (train, holdout) = built
    again = ground_split(
        list(data.train),
        list(data.holdout),
        Grounder(words_only, demo.data.grounded, demo.data.unanswerable, demo.data.dont_know, PERSONA),
        demo.data.seed,
    )
    assert [e.to_json() for e in again[0]] == [e.to_json() for e in train]
    assert random.Random(1).random() == random.Random(1).random()


def test_an_added_example_redraws_no_other_examples_form(demo, words_only, built):
    """Forms are drawn per example (from its own messages), so a new seed changes its own examples only
    (at most one other sits at the edge of the refusal share, which grows with the data)."""
    data, (train, _) = built
    extra = Example(
        conversation(demo.system_prompt, "What's your favourite knot?", "The bowline."), "fact", "seeds", "new:1"
    )
    grounder = Grounder(words_only, demo.data.grounded, demo.data.unanswerable, demo.data.dont_know, PERSONA)
    again, _ = ground_split([extra] + list(data.train), list(data.holdout), grounder, demo.data.seed)
    forms = [(e.messages[1]["content"], e.grounding) for e in one_per_example(train, data.train)]
    forms_again = [
        (e.messages[1]["content"], e.grounding)
        for e in one_per_example(again, [extra] + list(data.train))
        if e.where != "new:1"
    ]
    assert len(forms_again) == len(forms)
    assert sum(a != b for a, b in zip(forms, forms_again)) <= 1


def test_grounded_data_without_a_site_or_refusals_is_refused(root, tmp_path):
    persona = root / "finetune/data/ada"
    text = (root / "finetune/configs/demo.toml").read_text()
    text = text.replace('persona = "../data/ada"', f'persona = "{persona}"')
    text = text.replace('canaries = "../data/ada/', f'canaries = "{persona}/')
    text = text.replace('site = "../../models.toml"', f'site = "{root}/models.toml"')
    no_site = tmp_path / "no-site.toml"
    no_site.write_text(text.split("\n[grounding]")[0])
    with pytest.raises(ConfigError, match=r"\[data\] grounded/unanswerable need \[grounding\] site"):
        load(no_site)
    no_refusals = tmp_path / "no-refusals.toml"
    no_refusals.write_text(re.sub(r"dont_know = \[[^\]]*\]", "dont_know = []", text))
    with pytest.raises(ConfigError, match=r"\[data\] unanswerable needs dont_know"):
        load(no_refusals)
