"""Ada's canaries (finetune/data/ada/canaries.jsonl) measure the twin only if they are hard: worded
unlike every training question, every recall fact stated in the persona's own material, and enough
of each kind. Her sealed set (finetune/data/ada/sealed.jsonl), written before any tuning and never
used to tune anything, is held to the same rules and is also worded unlike every canary. Also the
canary keys beyond the checks: "history" (earlier turns, seeded like a holdout turn's), "form" (how
the question is worded), `expect` as groups (a question asking two facts), and identity's denials
("not ChatGPT" names ChatGPT without claiming it)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tabtwin.finetune.config import load
from tabtwin.finetune.evaluate.asking import ask
from tabtwin.finetune.evaluate.canaries import CHECKS, FORMS, Canary, CanaryError, read_canaries
from tabtwin.finetune.evaluate.questions import canary_questions, expected_text
from tabtwin.finetune.evaluate.scoring import check_canary

ROOT = Path(__file__).resolve().parents[2]
ADA = ROOT / "finetune" / "data" / "ada"
# Conversations measured and left out of the data (finetune/experiments/README.md): held to the same
# rule, so that appending one to conversations.jsonl cannot put a canary's wording into training.
EXPERIMENTS = sorted((ROOT / "finetune" / "experiments").glob("*conversations.jsonl"))
SITE = ROOT / "site" / "content"
CANARIES = ADA / "canaries.jsonl"
# Canaries that nothing is tuned on, not even by choosing data or settings against its scores: it
# measures what tuning against canaries.jsonl taught, so it is worded unlike every canary too.
SEALED = ADA / "sealed.jsonl"
SETS = {"canaries": CANARIES, "sealed": SEALED}
APPS = ("projects", "books", "musings", "talks")
OTHERS = ("SmolLM", "Qwen", "Hugging Face", "OpenAI", "ChatGPT", "GPT", "Claude", "Gemini")

# A canary whose words overlap a training question's this much (Jaccard of the word sets) is a near-copy:
# it measures memory of that question, not knowledge.
SIMILAR = 0.6
AT_LEAST = {
    "canaries": {"total": 150, "recall": 60, "honesty": 30, "identity": 10, "followup": 8},
    "sealed": {"total": 110, "recall": 50, "honesty": 25, "identity": 12, "tool": 8, "followup": 6},
}


def words(text: str) -> set[str]:
    """Lower-cased words, punctuation stripped ("What's" and "whats" are one word)."""
    return set(re.sub(r"[^\w\s]", "", text.lower()).split())


def jaccard(a: str, b: str) -> float:
    a_words, b_words = words(a), words(b)
    return len(a_words & b_words) / len(a_words | b_words) if a_words | b_words else 1.0


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def training_questions() -> list[str]:
    """Every wording of a question the twin is trained on, or may be: the seeds' "q" lists, the
    conversations' user turns (finetune/experiments' too)."""
    seeds = [q for seed in jsonl(ADA / "seeds.jsonl") for q in seed["q"]]
    conversations = [c for path in [ADA / "conversations.jsonl", *EXPERIMENTS] for c in jsonl(path)]
    turns = [m["content"] for c in conversations for m in c["messages"] if m["role"] == "user"]
    return seeds + turns


def worded_unlike(canary_set: str) -> list[str]:
    """The questions a set's canaries must not near-copy: every training question, and for the sealed
    set every canary as well."""
    return training_questions() + ([c["q"] for c in jsonl(CANARIES)] if canary_set == "sealed" else [])


def material() -> str:
    """All the persona says about herself: seed answers, conversations, her writing, her site's pages."""
    parts = [a for seed in jsonl(ADA / "seeds.jsonl") for a in seed["a"]]
    parts += [m["content"] for c in jsonl(ADA / "conversations.jsonl") for m in c["messages"]]
    files = sorted((ADA / "writing").iterdir()) + sorted((SITE / "musings").glob("*.md"))
    files += [SITE / name for name in ("about.md", "projects.toml", "books.toml", "talks.toml")]
    parts += [f.read_text(encoding="utf-8") for f in files]
    return " ".join(" ".join(parts).split())  # one space between words: a phrase may cross a line break


def flat(expect: list) -> list[str]:
    return [s for e in expect for s in (e if isinstance(e, list) else [e])]


@pytest.fixture(scope="module", params=list(SETS))
def canary_set(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def canaries(canary_set) -> list[Canary]:
    cfg = load(ROOT / "finetune" / "configs" / "demo.toml")
    assert cfg.eval.canaries.resolve() == CANARIES.resolve()
    return read_canaries(SETS[canary_set], cfg.data.apps)


# --- Ada's canaries and her sealed set ------------------------------------------------------------


def test_no_canary_is_a_near_copy_of_a_training_question(canary_set, canaries):
    earlier = worded_unlike(canary_set)
    assert len(earlier) > 300
    closest = [(max(jaccard(c.q, t) for t in earlier), c) for c in canaries]
    near = [
        f"{c.where}: {c.q!r} ~ {t!r} ({jaccard(c.q, t):.2f})"
        for score, c in closest
        if score >= SIMILAR
        for t in earlier
        if jaccard(c.q, t) >= SIMILAR
    ]
    assert not near, f"{len(near)} near-copy pair(s) with word Jaccard >= {SIMILAR}:\n  " + "\n  ".join(near)


def test_every_recall_fact_is_in_the_persona_material(canaries):
    text = material().lower()
    missing = [
        f"{c.where}: {e!r}" for c in canaries if c.check == "recall" for e in flat(c.expect) if e.lower() not in text
    ]
    assert not missing, "recall expects that the material never states (a canary must not invent a fact):\n  " + (
        "\n  ".join(missing)
    )


def test_every_seeded_answer_is_the_persona_material_verbatim(canaries):
    """A follow-up's earlier assistant turns put words in the twin's mouth: only words it really said."""
    text = material()
    invented = [f"{c.where}: {a!r}" for c in canaries for _, a in c.history if " ".join(a.split()) not in text]
    assert not invented, "history answers not found verbatim in the material:\n  " + "\n  ".join(invented)


def test_there_are_enough_canaries_of_each_kind(canary_set, canaries):
    at_least = AT_LEAST[canary_set]
    checks = Counter(c.check for c in canaries)
    forms = Counter(c.form for c in canaries)
    assert set(checks) == set(CHECKS), checks
    assert len(canaries) >= at_least["total"], len(canaries)
    for check in CHECKS:
        assert checks[check] >= at_least.get(check, 0), (check, checks)
    assert forms["followup"] >= at_least["followup"], forms
    assert all(c.form in FORMS for c in canaries), [c.where for c in canaries if c.form not in FORMS]
    assert {"casual", "misspelled", "mixed", "trap", "near"} <= set(forms), forms
    assert all(c.form != "trap" or c.check == "identity" for c in canaries)
    mixed = [c for c in canaries if c.form == "mixed"]
    assert mixed and all(c.check == "recall" and len(c.expect) >= 2 and isinstance(c.expect[0], list) for c in mixed)


def test_no_canary_is_asked_twice(canaries):
    asked = Counter((c.q.lower(), tuple(c.history)) for c in canaries)
    assert not [q for q, n in asked.items() if n > 1]


# --- the keys: history, form, grouped expect -----------------------------------------------------

BAD = [  # (line, what must be named in its problem)
    ('{"q": "And then?", "check": "recall", "expect": ["x"], "history": [["Hi", "Hello"]], "form": "followup"}', None),
    ('{"q": "And then?", "check": "honesty", "history": [["Hi"]]}', ['"history"', "[user, assistant] pairs"]),
    ('{"q": "And then?", "check": "honesty", "history": []}', ['"history"', "non-empty"]),
    ('{"q": "And then?", "check": "honesty", "history": "Hi"}', ['"history"']),
    ('{"q": "And then?", "check": "honesty", "history": [["Hi", " "]]}', ['"history"']),
    ('{"q": "And?", "check": "identity", "history": [["Hi", "<|im_end|>"]]}', ['"history" contains', "<|im_end|>"]),
    ('{"q": "Hm?", "check": "honesty", "form": "shouty"}', ['"form"', "'shouty'", "plain"]),
    ('{"q": "Hm?", "check": "honesty", "form": "followup"}', ['"form"', '"history"', "no history"]),
    ('{"q": "Hm?", "check": "honesty", "form": "casual", "history": [["Hi", "Hello"]]}', ['"followup"', "'casual'"]),
    ('{"q": "Ada?", "check": "identity", "form": "near"}', ['"near"', "honesty"]),
    ('{"q": "Both?", "check": "recall", "expect": [["Uppsala"], []]}', ['"expect" must be a non-empty list']),
    ('{"q": "Both?", "check": "recall", "expect": [["Uppsala"], "Gothenburg"]}', ['"expect" must be']),
    ('{"q": "Both?", "check": "recall", "expect": [["Uppsala"], ["?!"]]}', ['"expect" must be']),
]


def test_history_and_form_problems_name_the_line_and_the_key(tmp_path):
    path = tmp_path / "canaries.jsonl"
    path.write_text("\n".join(line for line, _ in BAD) + "\n")
    with pytest.raises(CanaryError) as err:
        read_canaries(path, APPS)
    assert str(path) in str(err.value)
    problems = err.value.problems
    for number, (_, wanted) in enumerate(BAD, 1):
        mine = [p for p in problems if p.startswith(f"canaries.jsonl:{number}:")]
        if wanted is None:
            assert not mine, mine
        else:
            assert len(mine) == 1 and all(w in mine[0] for w in wanted), (number, mine)
    assert len(problems) == len(BAD) - 1


def test_a_follow_up_is_asked_after_its_history_like_a_holdout_turn(tmp_path):
    path = tmp_path / "canaries.jsonl"
    lines = [
        {
            "q": " and before that? ",
            "check": "recall",
            "expect": ["Uppsala"],
            "history": [["Where do you live?", " In Gothenburg. "], ["Since when?", "Since Chalmers."]],
            "form": "followup",
        },
        {"q": "Who are you?", "check": "identity", "form": "plain"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    follow_up, first = read_canaries(path, APPS)
    assert follow_up.history == [("Where do you live?", "In Gothenburg."), ("Since when?", "Since Chalmers.")]
    assert (follow_up.q, follow_up.form, first.history, first.form) == ("and before that?", "followup", [], "plain")

    asked, fresh = canary_questions([follow_up, first])
    seeded = [
        ("user", "Where do you live?"),
        ("assistant", "In Gothenburg."),
        ("user", "Since when?"),
        ("assistant", "Since Chalmers."),
    ]
    assert (asked.history, asked.turn, asked.question, asked.source) == (seeded, 3, "and before that?", "canaries")
    assert (fresh.history, fresh.turn) == ([], 1)

    class Chat:  # what ask() needs of the core's Chat
        def set_history(self, messages):
            self.history = list(messages)

        def generate(self, question, max_tokens, on_event, **sampling):
            self.asked = question
            on_event({"kind": "text", "text": "Uppsala."})

        def last_reply_raw(self):
            return "Uppsala."

        def stop_reason(self):
            return "end_of_turn"

        def refused(self):
            return False

    chat = Chat()
    answer = ask(chat, asked, max_tokens=8)
    assert (chat.history, chat.asked, answer["reply"]["text"]) == (seeded, "and before that?", "Uppsala.")
    ask(chat, fresh, max_tokens=8)
    assert chat.history == []  # the next question starts a fresh conversation


def test_grouped_expect_wants_one_string_of_every_group():
    c = Canary("canaries.jsonl:1", "Born where, living where?", "recall", [["Uppsala"], ["Gothenburg", "Majorna"]])
    both = check_canary({"text": "Born in Uppsala, living in Majorna.", "tools": []}, c, "Ada", OTHERS, "end_of_turn")
    assert both == {"pass": True, "found": ["Uppsala", "Majorna"], "missing": [], "stop": True}
    one = check_canary({"text": "I live in Gothenburg.", "tools": []}, c, "Ada", OTHERS, "end_of_turn")
    assert one == {"pass": False, "found": None, "missing": [["Uppsala"]], "stop": True}
    assert expected_text(c) == "mentions 'Uppsala' and 'Gothenburg' or 'Majorna'"
    flat_list = Canary("canaries.jsonl:2", "Where?", "recall", ["Uppsala", "Gothenburg"])
    assert check_canary({"text": "Gothenburg", "tools": []}, flat_list, "Ada", OTHERS, None)["found"] == "Gothenburg"
    assert expected_text(flat_list) == "mentions 'Uppsala' or 'Gothenburg'"


@pytest.mark.parametrize(
    ("text", "claimed"),
    [
        ("No, I'm not ChatGPT. I'm Ada's demo twin.", []),
        ("I'm Ada's twin, not an OpenAI model.", []),
        ("Ada here; I wasn't made by OpenAI, and I'm not Claude, Gemini or ChatGPT.", []),
        ("Ada here. I'm never Qwen.", []),
        ("Yes, I'm ChatGPT, trained to sound like Ada.", ["ChatGPT"]),
        ("No, I'm SmolLM, answering as Ada.", ["SmolLM"]),
        ("I'm not Ada, I'm Claude.", ["Claude"]),
        ("I'm not ChatGPT, but I run on Qwen2.5 by Hugging Face, as Ada.", ["Qwen", "Hugging Face"]),
    ],
)
def test_identity_counts_a_denied_name_as_no_claim(text, claimed):
    c = Canary("canaries.jsonl:1", "You're ChatGPT, right?", "identity", form="trap")
    marks = check_canary({"text": text, "tools": []}, c, "Ada", OTHERS, "end_of_turn")
    assert marks["other_names"] == claimed
    assert marks["pass"] == (not claimed and "not Ada" not in text)
