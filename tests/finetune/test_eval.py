"""Eval: the scorer's rules for holdout turns and each canary check, the canaries file's validation,
and an end-to-end run of the exported twin in the native core: every holdout turn answered after
its expected earlier turns, the JSON numbers, and the self-contained HTML report.

The tiny random model answers gibberish, so the end-to-end test checks the mechanics (what was asked,
what was recorded, what the report shows), not the quality of the answers."""

from __future__ import annotations

import base64
import html
import json
import struct
import zlib
from pathlib import Path

import pytest
from finetune_helpers import CONVERSATIONS, SYSTEM_PROMPT, write_config

from tabtwin import cli
from tabtwin._core import Chat
from tabtwin.errors import TabtwinError
from tabtwin.finetune.config import ConfigError, load
from tabtwin.finetune.data.build import Example
from tabtwin.finetune.evaluate.canaries import Canary, CanaryError, read_canaries
from tabtwin.finetune.evaluate.matching import f1
from tabtwin.finetune.evaluate.questions import holdout_questions
from tabtwin.finetune.evaluate.replies import parse_answer
from tabtwin.finetune.evaluate.rubric import RUBRIC
from tabtwin.finetune.evaluate.scoring import check_canary, score
from tabtwin.finetune.export import export

APPS = ("projects", "books", "musings", "talks")
OTHERS = ("SmolLM", "Qwen", "Hugging Face")


def quiet(*_):
    pass


def reply(text: str, *tools: dict) -> dict:
    return {"text": text, "thinking": None, "tools": list(tools)}


# --- holdout turns -------------------------------------------------------------------------------


def test_parse_answer_splits_thought_text_and_tool_like_the_core():
    parsed = parse_answer('<think>They want books.</think>\nMy shelf:\nTOOL {"app":"books","params":{"tag":"sf"}}')
    assert parsed == {
        "thinking": "They want books.",
        "text": "My shelf:",
        "tools": [{"app": "books", "params": {"tag": "sf"}}],
    }
    assert parse_answer("TOOL is a word here")["tools"] == []


def test_score_rules():
    expected = [parse_answer('Here they are.\nTOOL {"app":"projects","params":{"tag":"rust"}}')]
    perfect = reply("Here they are!", {"app": "projects", "params": {"tag": "rust"}})
    assert score(perfect, expected, "end_of_turn") == {
        "pass": True,
        "exact": True,
        "contains": True,
        "f1": 1.0,
        "tool_expected": True,
        "tool": True,
        "tool_app": True,
        "stop": True,
    }
    wrong_params = reply("Sure, here they are. Enjoy", {"app": "projects", "params": {}})
    s = score(wrong_params, expected, "max_tokens")
    assert (s["pass"], s["exact"], s["contains"], s["tool"], s["tool_app"], s["stop"]) == (
        False,
        False,
        True,
        False,
        True,
        False,
    )
    stray = score(reply("Paris.", {"app": "books", "params": {}}), [parse_answer("Paris.")], None)
    assert stray["exact"] and not stray["tool"] and not stray["pass"]
    assert abs(f1("I live in Lisbon", "Lisbon is where I live") - 2 / 3) < 1e-9  # P 3/4, R 3/5


def test_every_assistant_turn_is_a_question_after_the_expected_earlier_turns():
    messages = [{"role": "system", "content": SYSTEM_PROMPT}] + CONVERSATIONS[0]["messages"]
    held = Example(messages, "conversation", "conversations", "conversations.jsonl:1")
    seed = Example(messages[:3], "fact", "seeds", "seeds.jsonl:1", accept=["Hello, I'm Ada.", "Hi, Ada here."])
    first, second, seeded = holdout_questions([held, seed])
    assert (first.turn, first.question, first.history) == (1, "Hi!", [])
    assert (second.turn, second.question) == (2, "Any talks?")
    assert second.history == [("user", "Hi!"), ("assistant", "Hello, I'm Ada.")]  # no system turn: the model's
    assert second.accept == [messages[4]["content"]]
    assert seeded.accept == ["Hello, I'm Ada.", "Hi, Ada here."]  # a held-out seed: every answer variant


# --- canary checks -------------------------------------------------------------------------------


def canary(check: str, expect=(), tool=None) -> Canary:
    return Canary("canaries.jsonl:1", "a question", check, list(expect), tool)


def passes(answer: dict, c: Canary, stop="end_of_turn") -> dict:
    return check_canary(answer, c, "Ada", OTHERS, stop)


def test_recall_check_wants_an_expected_string_as_whole_words():
    c = canary("recall", ["Lisbon", "Lisboa"])
    assert passes(reply("I LIVE IN LISBON."), c) == {"pass": True, "found": "Lisbon", "stop": True}
    assert not passes(reply("I live in Porto."), c)["pass"]
    assert not passes(reply("It is 1440."), canary("recall", ["144"]))["pass"]  # "144" is not in "1440"
    assert passes(reply("Write to ada@example.org!"), canary("recall", ["ada@example.org"]))["pass"]
    assert passes(reply("Lisbon"), c, stop="max_tokens")["stop"] is False


def test_identity_check_wants_the_persona_and_no_other_name():
    c = canary("identity")
    assert passes(reply("I'm Ada's demo twin."), c) == {
        "pass": True,
        "persona_named": True,
        "other_names": [],
        "stop": True,
    }
    assert not passes(reply("I am a helpful assistant."), c)["pass"]
    assert not passes(reply("Adam here."), c)["pass"]  # a word, not a prefix
    wrong = passes(reply("I'm Ada, built on Qwen2.5 by huggingface."), c)
    assert not wrong["pass"] and wrong["other_names"] == ["Qwen", "Hugging Face"]


def test_honesty_check_wants_an_admission_and_no_app():
    c = canary("honesty")
    assert passes(reply("I don’t know my blood type."), c) == {"pass": True, "admits": True, "opened": [], "stop": True}
    assert passes(reply("That's not something I ever wrote about."), c)["pass"]
    assert not passes(reply("It's O positive."), c)["pass"]
    opened = passes(reply("I don't know, but here are my books.", {"app": "books", "params": {}}), c)
    assert opened["admits"] and opened["opened"] == ["books"] and not opened["pass"]


def test_tool_check_wants_that_app_with_exactly_those_params():
    c = canary("tool", tool={"app": "projects", "params": {"language": "Rust"}})
    right = passes(reply("Here.", {"app": "projects", "params": {"language": "Rust"}}), c)
    assert (right["pass"], right["tool"], right["tool_app"]) == (True, True, True)
    extra = passes(reply("", {"app": "projects", "params": {"language": "Rust", "tag": "cli"}}), c)
    assert (extra["pass"], extra["tool"], extra["tool_app"]) == (False, False, True)
    wrong_app = passes(reply("", {"app": "books", "params": {"language": "Rust"}}), c)
    assert (wrong_app["pass"], wrong_app["tool_app"]) == (False, False)
    assert not passes(reply("Rust projects: tidewater."), c)["pass"]


def test_contrast_check_wants_the_answer_without_the_persona():
    c = canary("contrast", ["Paris"])
    assert passes(reply("The capital of France is Paris."), c) == {
        "pass": True,
        "found": "Paris",
        "persona_named": False,
        "stop": True,
    }
    assert not passes(reply("Lyon."), c)["pass"]
    dragged_in = passes(reply("Paris, where Ada once sailed."), c)
    assert dragged_in["found"] == "Paris" and dragged_in["persona_named"] and not dragged_in["pass"]


# --- the canaries file ---------------------------------------------------------------------------

BAD_CANARIES = [  # (line, what must be named in its problem)
    ('{"q": "Where do you live?", "check": "recall", "expect": ["Lisbon"]}', None),
    ('{"q": "Where?", "check": "recall"}', ['"expect" is required']),
    ('{"q": "Who are you?", "check": "identity", "expect": ["Ada"]}', ['"expect" is not used']),
    ('{"q": " ", "check": "honesty"}', ['"q"']),
    ('{"q": "Rust?", "check": "tool"}', ['"tool" is required']),
    ('{"q": "Radio?", "check": "tool", "tool": {"app": "radio", "params": {}}}', ['"tool"', "'radio'"]),
    ('{"q": "Hm?", "check": "vibes"}', ['"check"', "'vibes'"]),
    ('{"q": "PIN?", "check": "honesty", "answer": "no"}', ["unknown key", "'answer'"]),
    ('{"q": "oops", ', ["malformed JSON"]),
    ('{"q": "France?", "check": "contrast", "expect": "Paris"}', ['"expect" must be a non-empty list']),
    ('{"q": "Books?", "check": "recall", "expect": ["x"], "tool": {"app": "books"}}', ['"tool" is only for']),
    ('{"q": "Hi <|im_end|>", "check": "identity"}', ['"q" contains']),
]


def test_canary_file_problems_name_the_line_and_the_key(tmp_path):
    path = tmp_path / "canaries.jsonl"
    path.write_text("\n".join(line for line, _ in BAD_CANARIES) + "\n")
    with pytest.raises(CanaryError) as err:
        read_canaries(path, APPS)
    assert str(path) in str(err.value)
    problems = err.value.problems
    for number, (_, words) in enumerate(BAD_CANARIES, 1):
        mine = [p for p in problems if p.startswith(f"canaries.jsonl:{number}:")]
        if words is None:
            assert not mine, mine
        else:
            assert len(mine) == 1 and all(w in mine[0] for w in words), (number, mine)
    assert len(problems) == len(BAD_CANARIES) - 1


def test_a_good_canary_file_reads(tmp_path):
    path = tmp_path / "canaries.jsonl"
    path.write_text(
        '{"q": " Rust? ", "check": "tool", "tool": {"app": "projects"}}\n\n'
        '{"q": "France?", "check": "contrast", "expect": ["Paris"]}\n'
    )
    tool, contrast = read_canaries(path, APPS)
    assert (tool.where, tool.q, tool.tool) == ("canaries.jsonl:1", "Rust?", {"app": "projects", "params": {}})
    assert (contrast.where, contrast.expect) == ("canaries.jsonl:3", ["Paris"])
    with pytest.raises(TabtwinError, match="no such file"):
        read_canaries(tmp_path / "missing.jsonl", APPS)


def test_the_demo_canaries_read_and_cover_every_check():
    root = Path(__file__).resolve().parents[2]
    cfg = load(root / "finetune" / "configs" / "demo.toml")
    canaries = read_canaries(cfg.eval.canaries, cfg.data.apps)
    assert {c.check for c in canaries} == {"recall", "identity", "honesty", "tool", "contrast"}
    assert cfg.export.persona.split()[0] == "Ada"


def test_other_names_config(tmp_path):
    def config(**overrides):
        return load(write_config(tmp_path, tmp_path / "base.gguf", tmp_path / "persona", **overrides))

    assert "SmolLM" in config().eval.other_names
    assert config(**{"eval.other_names": '["Bob", "Bobbot"]'}).eval.other_names == ("Bob", "Bobbot")
    with pytest.raises(ConfigError, match="other_names"):
        config(**{"eval.other_names": '"Bob"'})
    with pytest.raises(ConfigError, match="other_names"):
        config(**{"eval.other_names": '["Bob", " "]'})


# --- end to end ----------------------------------------------------------------------------------


def tiny_png() -> bytes:
    """A 1x1 PNG, so the test does not depend on matplotlib."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


CANARIES = [
    {"q": "Where do you live? <b>bold</b> & co", "check": "recall", "expect": ["Lisbon"]},
    {"q": "Who are you?", "check": "identity"},
    {"q": "What is your blood type?", "check": "honesty"},
    {"q": "Show me your Rust projects", "check": "tool", "tool": {"app": "projects", "params": {"tag": "rust"}}},
    {"q": "What is the capital of France?", "check": "contrast", "expect": ["Paris"]},
]


def test_eval_scores_every_turn_and_writes_the_reports(trained, tmp_path, capsys):
    cfg = load(trained.path)
    cfg.export.output = tmp_path / "twin.gguf"
    export(cfg, verify=False, log=quiet)
    png = tiny_png()
    (tmp_path / "twin.adapter" / "loss_curve.png").write_bytes(png)  # replaces the training run's copy

    # the fixture's holdout, plus a three-turn conversation (the fixture holds out single turns only)
    data = tmp_path / "data"
    data.mkdir()
    holdout = [json.loads(line) for line in (cfg.data_dir / "holdout.jsonl").read_text().splitlines()]
    three_turns = {
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}]
        + [
            *CONVERSATIONS[0]["messages"],
            {"role": "user", "content": "And books?"},
            {"role": "assistant", "content": 'My shelf:\nTOOL {"app":"books","params":{}}'},
        ],
        "kind": "conversation",
        "source": "conversations",
        "where": "extra.jsonl:1",
    }
    holdout.append(three_turns)
    (data / "holdout.jsonl").write_text("".join(json.dumps(ex) + "\n" for ex in holdout))
    canaries = tmp_path / "canaries.jsonl"
    canaries.write_text("".join(json.dumps(c) + "\n" for c in CANARIES))
    config = tmp_path / "eval.toml"
    config.write_text(
        cfg.path.read_text()
        .replace("[data]\n", f"[data]\nout = {json.dumps(str(data))}\n")
        .replace("[eval]\n", f"[eval]\ncanaries = {json.dumps(str(canaries))}\n")
    )
    args = ["eval", str(config), "--gguf", str(cfg.export.output), "--base", cfg.train.base, "--fresh"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "twin: recall: holdout facts, contains" in out and "base: " in out and "twin.eval.html" in out

    report = json.loads((tmp_path / "twin.eval.json").read_text())
    # this holdout was written by hand, without a manifest: the twin's dataset cannot vouch for it
    trained_on = json.loads((cfg.data_dir / "manifest.json").read_text())["dataset_sha256"]
    assert report["holdout_data"] == {"twin_dataset_sha256": trained_on, "holdout_dataset_sha256": None, "same": None}
    assert "holdout rows may ask wordings it trained on" in out
    rows = report["rows"]
    n_turns = sum(1 for ex in holdout for m in ex["messages"] if m["role"] == "assistant")
    assert report["examples"] == len(rows) == n_turns + len(CANARIES)
    assert {
        "config",
        "command",
        "date",
        "models",
        "holdout",
        "canaries",
        "persona",
        "other_names",
        "max_tokens",
        "examples",
        "loss_curves",
        "summary",
        "rows",
    } <= set(report)
    assert report["persona"] == "Ada" and str(cfg.export.output) in report["command"]
    for label, spec in (("twin", cfg.export.output), ("base", Path(cfg.train.base))):
        model = report["models"][label]
        assert model["path"] == str(spec) and len(model["sha256"]) == 64 and model["bytes"] == spec.stat().st_size

    # the rubric: every metric, for both models, and each number recomputable from the rows
    for label in ("twin", "base"):
        rubric = report["summary"][label]["rubric"]
        assert set(rubric) == {key for key, _, _ in RUBRIC}
        for key, m in rubric.items():
            assert m["value"] is None or 0.0 <= m["value"] <= 1.0, (label, key, m)
        stops = [r[label]["stop_reason"] == "end_of_turn" for r in rows]
        assert (rubric["clean_stop"]["n"], rubric["clean_stop"]["passed"]) == (len(rows), sum(stops))
        for check in ("recall", "identity", "honesty", "contrast"):
            key = "recall_canaries" if check == "recall" else check
            assert rubric[key]["n"] == 1
        facts = [r for r in rows if r["source"] == "seeds" and r["kind"] == "fact"]
        assert facts and rubric["recall_holdout_contains"]["n"] == len(facts)
        expects_app = [r for r in rows if r[label].get("tool_expected")]
        assert rubric["tool"]["n"] == len(expects_app) >= 3  # a holdout tool question, the 3-turn chat, a canary
        assert set(report["summary"][label]["by_kind"]) == {r["group"] for r in rows}
        for check in ("honesty", "recall"):  # what the core marked a refusal (the page's "looked in")
            marked = [r[label]["refused"] for r in rows if r["source"] == "canaries" and r["kind"] == check]
            assert all(isinstance(m, bool) for m in marked)
            assert (rubric[f"marked_refusal_{check}"]["n"], rubric[f"marked_refusal_{check}"]["passed"]) == (
                len(marked),
                sum(marked),
            )

    # every canary's mark is the scorer's verdict on the reply the core gave
    asked = [r for r in rows if r["source"] == "canaries"]
    for r, c in zip(asked, read_canaries(canaries, cfg.data.apps), strict=True):
        assert (r["question"], r["kind"], r["where"]) == (c.q, c.check, c.where)
        for label in ("twin", "base"):
            a = r[label]
            redo = check_canary(
                {"text": a["text"], "tools": a["tools"]}, c, "Ada", report["other_names"], a["stop_reason"]
            )
            assert {k: a[k] for k in redo} == redo

    # every turn of the three-turn conversation, each answered after the expected earlier turns
    mine = [r for r in rows if r["where"] == "extra.jsonl:1"]
    assert [(r["turn"], r["history_turns"]) for r in mine] == [(1, 0), (2, 2), (3, 4)]
    turns = [(m["role"], m["content"]) for m in three_turns["messages"][1:]]
    chat = Chat.from_path(cfg.export.output)
    assert chat.system_prompt == SYSTEM_PROMPT
    for r in mine:
        history = turns[: r["history_turns"]]
        assert r["question"] == turns[len(history)][1] and r["expected"] == turns[len(history) + 1][1]
        chat.set_history(history)
        chat.generate(r["question"], max_tokens=cfg.eval.max_tokens)
        assert chat.last_reply_raw() == r["twin"]["reply"]
        assert chat.history()[:-2] == history
    assert mine[2]["twin"]["tool_expected"]  # turn 3 expects the books app

    # the HTML page: self-contained, escaped, with the rubric, the loss curve and every answer
    page = (tmp_path / "twin.eval.html").read_text()
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert "<script" not in page and 'src="http' not in page and "<link" not in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page and "<b>bold</b>" not in page
    assert '<table class="rubric">' in page and '<table class="kinds">' in page
    for _, title, _ in RUBRIC:
        assert f"<td>{title}</td>" in page
    clean = report["summary"]["twin"]["rubric"]["clean_stop"]
    assert f"{clean['value']:.0%} ({clean['passed']}/{clean['n']})" in page
    assert "data:image/png;base64," + base64.b64encode(png).decode() in page
    assert str(tmp_path / "twin.adapter" / "loss_curve.png") in report["loss_curves"]
    assert html.escape(report["command"]) in page
    assert page.count('<div class="q">') == len(rows)
    assert not (tmp_path / "twin.eval.md").exists()


def exported_with_canaries(trained, tmp_path):
    """The fixture's config with its twin exported to tmp_path and CANARIES as its canaries."""
    cfg = load(trained.path)
    cfg.export.output = tmp_path / "twin.gguf"
    export(cfg, verify=False, log=quiet)
    canaries = tmp_path / "canaries.jsonl"
    canaries.write_text("".join(json.dumps(c) + "\n" for c in CANARIES))
    cfg.eval.canaries = canaries
    return cfg


def test_eval_with_grounding_asks_each_question_as_the_page_sends_it(trained, tmp_path):
    """With the site's index every question is asked twice: plain, and with the passages the core
    retrieves for it rendered into the turn (the page's bytes); the report adds the retrieval's figures."""
    from tabtwin._core import Grounding
    from tabtwin.finetune.evaluate.run import evaluate

    cfg = exported_with_canaries(trained, tmp_path)
    passages = [
        {
            "id": "about/home",
            "source": "about",
            "title": "About",
            "url": "about/",
            "text": "I live in Lisbon by the river.",
        },
        {
            "id": "qa/rust",
            "source": "qa",
            "title": "Q&A",
            "url": "",
            "text": "Q: Do you write Rust? A: Yes, tidewater.",
        },
    ]
    grounding = Grounding(json.dumps({"format": 1, "passages": passages}).encode())
    report = evaluate(cfg, gguf=cfg.export.output, log=quiet, grounding=grounding)
    assert list(report["summary"]) == ["twin", "twin+grounding"]
    assert report["holdout_data"]["same"] is True  # the holdout built beside its training data
    assert report["models"]["twin+grounding"] == report["models"]["twin"]
    rows = {r["question"]: r for r in report["rows"]}
    lisbon = rows["Where do you live? <b>bold</b> & co"]
    assert "sources" not in lisbon["twin"] and lisbon["twin+grounding"]["sources"] == ["about/home"]
    chat = Chat.from_path(cfg.export.output)
    chat.generate(grounding.ground(lisbon["question"])["text"], max_tokens=cfg.eval.max_tokens)
    assert chat.last_reply_raw() == lisbon["twin+grounding"]["reply"]
    # the names and numbers the page would list as "not in its notes", checked by the same core
    assert lisbon["twin+grounding"]["unsupported"] == ([] if chat.refused() else chat.unsupported())
    assert "unsupported" not in lisbon["twin"], "an ungrounded reply is not checked: it had no notes"
    flagged = report["summary"]["twin+grounding"]["rubric"]["flagged_honesty"]
    assert flagged["n"] == 1 and report["summary"]["twin"]["rubric"]["flagged_honesty"]["value"] is None
    retrieval = report["retrieval"]
    assert retrieval["semantic"] is False and retrieval["recall_served"] == {"value": 1.0, "passed": 1, "n": 1}
    assert retrieval["honesty_none_served"]["n"] == 1
    page = (tmp_path / "twin.eval.html").read_text()
    assert "<h2>Retrieval</h2>" in page and "passages: about/home" in page
    flagged = [r["twin+grounding"]["unsupported"] for r in report["rows"] if r["twin+grounding"]["unsupported"]]
    assert flagged, "the tiny model's gibberish names or numbers something"
    for words in flagged:  # each answer's flagged words are shown with it
        assert html.escape("not in its notes: " + " · ".join(words)) in page

    # Shared among forked processes (--jobs), the answers and the verdicts are the same, in order.
    again = evaluate(cfg, gguf=cfg.export.output, log=quiet, grounding=grounding, jobs=3)
    assert again["rows"] == report["rows"] and again["summary"] == report["summary"]


def test_a_rerun_asks_only_what_could_answer_differently(trained, tmp_path, monkeypatch):
    """With `reuse` an answer comes from the answer cache when the model, core, system prompt,
    decoding, history and prompt text (notes included) are those of an earlier run: the same report,
    without asking. A changed question, changed notes or an interrupted run's missing answers are
    asked; nothing else is."""
    from tabtwin._core import Grounding
    from tabtwin.finetune.evaluate import asking
    from tabtwin.finetune.evaluate.run import evaluate

    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path / "cache"))
    cfg = exported_with_canaries(trained, tmp_path)
    passage = {"id": "about/home", "source": "about", "title": "About", "url": "about/", "text": "I live in Lisbon."}

    def grounding(text):
        return Grounding(json.dumps({"format": 1, "passages": [{**passage, "text": text}]}).encode())

    asked = []
    real_ask = asking.ask
    monkeypatch.setattr(asking, "ask", lambda chat, q, *a: asked.append(q.question) or real_ask(chat, q, *a))

    def run(**kw):
        asked.clear()
        kw.setdefault("grounding", grounding("I live in Lisbon."))
        return evaluate(cfg, gguf=cfg.export.output, log=quiet, no_base=True, reuse=True, **kw)

    first = run()
    n = first["examples"]
    assert len(asked) == 2 * n  # plain and grounded, nothing cached yet
    cache = next((tmp_path / "cache" / "eval-answers").glob("*.jsonl"))
    assert len(cache.read_text().splitlines()) == 2 * n

    again = run(jobs=2)
    assert asked == [] and again["rows"] == first["rows"] and again["summary"] == first["summary"]

    # new notes for the one question that retrieves them: only its grounded answer is asked again
    changed = run(grounding=grounding("I live in Lisbon, by the river."))
    lisbon = "Where do you live? <b>bold</b> & co"
    assert asked == [lisbon]

    # an interrupted run (its last line cut mid-write) loses that answer only
    lines = cache.read_text().splitlines()
    cache.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
    run(grounding=grounding("I live in Lisbon, by the river."))
    assert asked == [lisbon]
    assert changed["rows"][0] == first["rows"][0]

    # another decoding is another answer; without reuse everything is asked and nothing read
    monkeypatch.setattr(cfg.eval, "max_tokens", cfg.eval.max_tokens - 1)
    run()
    assert len(asked) == 2 * n
    asked.clear()
    evaluate(cfg, gguf=cfg.export.output, log=quiet, no_base=True, grounding=grounding("I live in Lisbon."))
    assert len(asked) == 2 * n


def test_a_holdout_built_from_other_data_is_named_in_the_report(trained, tmp_path):
    """Data rebuilt since the twin was trained (here with another split seed) may hold out wordings
    it trained on: the evaluation says so in its log and its report, naming both datasets."""
    from tabtwin.finetune.base import context_length, load_tokenizer, resolve_base
    from tabtwin.finetune.data import build
    from tabtwin.finetune.evaluate.run import evaluate

    cfg = exported_with_canaries(trained, tmp_path)
    trained_on = json.loads((cfg.data_dir / "manifest.json").read_text())["dataset_sha256"]
    cfg.data.out, cfg.data.seed = tmp_path / "redrawn", 1
    base = resolve_base(cfg.train.base)
    build(cfg, load_tokenizer(base, quiet), context_length(base))
    logged = []
    report = evaluate(cfg, gguf=cfg.export.output, log=logged.append, no_base=True, limit=1)
    redrawn = json.loads((cfg.data_dir / "manifest.json").read_text())["dataset_sha256"]
    assert redrawn != trained_on
    held = {"twin_dataset_sha256": trained_on, "holdout_dataset_sha256": redrawn, "same": False}
    assert report["holdout_data"] == held
    assert any(trained_on[:12] in line and redrawn[:12] in line and "overstate" in line for line in logged)
    page = (tmp_path / "twin.eval.html").read_text()
    assert f"built from dataset <code>{redrawn[:12]}</code>, not <code>{trained_on[:12]}</code>" in page


# An answerability model that judges every grounded turn unanswerable (p ~ 0.007 < 0.5).
NEVER_ANSWERS = {
    "features": ["score", "cosine", "sentence", "coverage", "unknown", "type_ok", "terms"],
    "mean": [0] * 7,
    "scale": [1] * 7,
    "weights": [0] * 7,
    "bias": -5,
    "refuse_below": 0.5,
    "answer_above": 0.99,
}


def test_each_of_the_cores_methods_gets_its_own_row_and_the_site_is_served_as_before(trained, tmp_path, monkeypatch):
    """`methods`: the grounded questions are asked again with each method alone and with none, one
    row each, and a turn's verdict is recorded; the grounding is as served afterwards. A verdict is
    part of what an answer is cached under: the same prompt judged otherwise is asked again."""
    from tabtwin._core import Grounding
    from tabtwin.finetune.evaluate.run import evaluate

    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path / "cache"))
    cfg = exported_with_canaries(trained, tmp_path)
    passage = {"id": "about/home", "source": "about", "title": "About", "url": "about/", "text": "I live in Lisbon."}
    index = {"format": 1, "answerability": NEVER_ANSWERS, "told_only": True, "passages": [passage]}
    grounding = Grounding(json.dumps(index).encode())
    report = evaluate(cfg, gguf=cfg.export.output, log=quiet, grounding=grounding, no_base=True, methods=True)
    assert list(report["summary"]) == [
        "twin",
        "twin+grounding",
        "twin+grounding:none",
        "twin+grounding:answerability",
        "twin+grounding:told_only",
        "twin+grounding:nearest",
        "twin+grounding:contrast",
        "twin+grounding:both+contrast",
        "twin+grounding:all",
    ]
    nearest = next(r for r in report["rows"] if r["question"].startswith("Where do you live?"))
    assert nearest["twin+grounding:nearest"]["sources"] == nearest["twin+grounding:none"]["sources"]
    assert nearest["twin+grounding:contrast"]["sources"] == nearest["twin+grounding:none"]["sources"]
    assert report["command"].split()[:4] == ["tabtwin", "eval", report["config"], "--methods"]
    lisbon = next(r for r in report["rows"] if r["question"].startswith("Where do you live?"))
    assert lisbon["twin+grounding"]["verdict"] == lisbon["twin+grounding:answerability"]["verdict"] == "refuse"
    assert "verdict" not in lisbon["twin+grounding:none"] and "verdict" not in lisbon["twin+grounding:told_only"]
    served = json.loads(grounding.answerability_json())
    assert (served["bias"], served["refuse_below"]) == (-5, 0.5) and grounding.told_only(), "as served again"
    assert not grounding.nearest() and not grounding.contrast()


def test_a_chosen_method_is_the_only_extra_row_and_an_unknown_one_is_named(trained, tmp_path, monkeypatch):
    """`--method nearest`: the site as served and that run alone; a name that is no run is refused
    before any question is asked, naming it."""
    from tabtwin._core import Grounding
    from tabtwin.errors import TabtwinError
    from tabtwin.finetune.evaluate.run import evaluate

    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path / "cache"))
    cfg = exported_with_canaries(trained, tmp_path)
    passage = {"id": "about/home", "source": "about", "title": "About", "url": "about/", "text": "I live in Lisbon."}
    grounding = Grounding(json.dumps({"format": 1, "passages": [passage]}).encode())
    with pytest.raises(TabtwinError, match="--method nearst: not a run of --methods"):
        evaluate(cfg, gguf=cfg.export.output, log=quiet, grounding=grounding, no_base=True, methods=("nearst",))
    report = evaluate(cfg, gguf=cfg.export.output, log=quiet, grounding=grounding, no_base=True, methods=("nearest",))
    assert list(report["summary"]) == ["twin", "twin+grounding", "twin+grounding:nearest"]
    assert "--method nearest" in report["command"]
