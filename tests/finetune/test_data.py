"""Data: seed expansion, the stratified holdout, writing clean-up, validation with file:line,
label masking, and stats/build refusing (never truncating) examples over max_seq_len."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
from finetune_helpers import SYSTEM_PROMPT, write_config, write_persona

from tabtwin import cli
from tabtwin.finetune.config import load
from tabtwin.finetune.data import DataError, build, format_stats, split, stats
from tabtwin.finetune.data.build import expand_seed, seed_pairs
from tabtwin.finetune.data.encode import IGNORE, encode
from tabtwin.finetune.data.sources import Seed


@pytest.fixture(scope="module")
def tokenizer(tiny_base):
    from tabtwin.finetune.base import load_tokenizer, resolve_base

    return load_tokenizer(resolve_base(str(tiny_base)), log=lambda *_: None)


def test_seed_pairs_cover_every_variant_before_repeating_and_respect_the_cap():
    pairs = seed_pairs(3, 2, cap=100)
    assert len(pairs) == len(set(pairs)) == 6
    first_round = pairs[:3]
    assert {q for q, _ in first_round} == {0, 1, 2} and {a for _, a in first_round} == {0, 1}
    assert seed_pairs(3, 2, cap=4) == pairs[:4]


def test_seed_with_thought_and_tool_expands_to_the_exact_assistant_text():
    seed = Seed(
        "seeds.jsonl:1",
        ["Q1?", "Q2?"],
        ["A."],
        "tool",
        think="Look it up.",
        tool={"app": "books", "params": {"tag": "sf"}},
    )
    examples = expand_seed(seed, "SYS", cap=10)
    assert [ex.messages[1]["content"] for ex in examples] == ["Q1?", "Q2?"]
    assert examples[0].messages[0] == {"role": "system", "content": "SYS"}
    assert (
        examples[0].messages[2]["content"]
        == '<think>Look it up.</think>\nA.\nTOOL {"app":"books","params":{"tag":"sf"}}'
    )
    assert expand_seed(seed, "SYS", cap=10, skip_question=0)[0].messages[1]["content"] == "Q2?"


def test_split_is_deterministic_stratified_and_holds_out_paraphrases(tmp_path, tiny_base, persona):
    cfg = load(write_config(tmp_path, tiny_base, persona))
    first, again = split(cfg), split(cfg)
    assert [e.to_json() for e in first.train] == [e.to_json() for e in again.train]
    assert [e.to_json() for e in first.holdout] == [e.to_json() for e in again.holdout]
    assert {(e.source, e.kind) for e in first.holdout} == {
        ("seeds", "fact"),
        ("seeds", "tool"),
        ("seeds", "contrast"),
        ("conversations", "conversation"),
        ("writing", "writing"),
    }
    for held in (e for e in first.holdout if e.source == "seeds"):
        question = held.messages[1]["content"]
        same_seed = [e for e in first.train if e.where == held.where]
        assert same_seed, "the held-out question's seed still teaches its answer"
        assert question not in {e.messages[1]["content"] for e in same_seed}
        assert set(held.accept) >= {e.messages[2]["content"] for e in same_seed}
    for ex in first.train + first.holdout:
        assert ex.messages[0] == {"role": "system", "content": SYSTEM_PROMPT}


def held_wordings(result) -> set[tuple[str, str, str]]:
    """The held-out items by what they say (file lines move when a seed is added)."""
    return {(e.source, e.kind, e.messages[1]["content"]) for e in result.holdout}


def test_adding_a_seed_leaves_the_rest_of_the_holdout_where_it_was(root, tmp_path):
    """The demo persona with one more seed written first (every other line moves down): the items held
    out before are held out still, and at most one that trained before is held out now (the stratum's
    share grew by one). Otherwise a twin continued from its last adapter is scored on what it learned."""
    cfg = load(root / "finetune/configs/demo.toml")
    persona = tmp_path / "ada"
    shutil.copytree(cfg.data.persona, persona)
    seeds = persona / "seeds.jsonl"
    extra = {"q": ["What's your favourite knot?", "Which knot do you tie most?"], "a": ["The bowline."], "kind": "fact"}
    seeds.write_text(json.dumps(extra) + "\n" + seeds.read_text())
    before = split(cfg)
    after = split(dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, persona=persona)))
    old, new = held_wordings(before), held_wordings(after)
    trained_before = {(e.source, e.kind, e.messages[1]["content"]) for e in before.train}
    assert len(old - new) <= 1, old - new
    assert len(new & trained_before) <= 1, new & trained_before
    assert len(new) >= len(old) and old, (len(old), len(new))


def test_writing_is_cleaned_and_cut_into_titled_paragraphs(tmp_path, tiny_base, persona):
    cfg = load(write_config(tmp_path, tiny_base, persona, **{"data.holdout": "0.0"}))
    writing = [e for e in split(cfg).train if e.source == "writing"]
    by_where = {e.where: (e.messages[1]["content"], e.messages[2]["content"]) for e in writing}
    assert by_where["writing/slow-software.md:8"] == (
        'Write your piece "On Slow Software".',
        "Software gets slow one reasonable decision at a time. Every dependency is small, every abstraction "
        "is kind, and together they weigh a ton.",
    )
    prompt, text = by_where["writing/slow-software.md:13"]
    assert prompt == 'Write your piece "On Slow Software", the section "Why it matters".'
    assert text.endswith("they stop noticing when it is wrong. See my notes.")  # [1], **, link syntax gone
    prompt, text = by_where["writing/archive-notes.html:5"]
    assert prompt == 'Write your piece "Archive Notes".'
    assert text == (
        "Archives are letters to strangers. We write them for people we will never meet, and the "
        "kindest thing we can do is to label things plainly."
    )
    everything = json.dumps(by_where)
    assert len(by_where) == 3
    for artefact in (
        "Subscribe",
        "newsletter",
        "footnote",
        "Copyright",
        "Home | About",
        "<",
        "[^",
        "**",
        "liked this",
        "exported",
        "min read",
        "Mastodon",
        "Comments",
        "Great post",
    ):
        assert artefact not in everything


BAD_SEEDS = [
    ('{"q": ["a?"], "a": ["b"]', "seeds.jsonl:2: malformed JSON"),
    (
        '{"q": ["a?"], "a": ["b"], "kind": "fact", "tool": {"app": "photos", "params": {}}}',
        "seeds.jsonl:2: TOOL names app 'photos', which is not in the allowed apps",
    ),
    ('{"q": ["a?"], "a": ["b"], "kind": "gossip"}', "seeds.jsonl:2: kind 'gossip' is not one of"),
    ('{"q": [], "a": ["b"]}', 'seeds.jsonl:2: "q" must be a non-empty list'),
    ('{"q": ["a?"], "a": ["b"], "answer": "c"}', "seeds.jsonl:2: unknown key(s) ['answer']"),
    ('{"q": ["a?"], "a": ["b<|im_end|>"]}', "seeds.jsonl:2: contains the chat-format marker '<|im_end|>'"),
]
BAD_CONVERSATIONS = [
    (
        '{"messages": [{"role": "user", "content": "hi"}]}',
        "conversations.jsonl:2: conversation without an assistant turn",
    ),
    (
        '{"messages": [{"role": "user", "content": "x"}, '
        '{"role": "assistant", "content": "ok\\nTOOL {\\"app\\": \\"shop\\"}"}]}',
        "conversations.jsonl:2: TOOL names app 'shop'",
    ),
    (
        '{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "ok\\nTOOL {app}"}]}',
        "conversations.jsonl:2: TOOL line is not valid JSON",
    ),
    (
        '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "x"}]}',
        "conversations.jsonl:2: message 1 has role 'system'",
    ),
    ('{"messages": [{"role": "assistant", "content": "x"}]}', "conversations.jsonl:2: message 1 is from the assistant"),
    ("not json", "conversations.jsonl:2: malformed JSON"),
]


@pytest.mark.parametrize("line, message", BAD_SEEDS + BAD_CONVERSATIONS)
def test_each_validation_error_names_file_and_line(tmp_path, tiny_base, line, message):
    persona = write_persona(tmp_path / "persona")
    target = persona / ("seeds.jsonl" if message.startswith("seeds") else "conversations.jsonl")
    lines = target.read_text().splitlines()
    target.write_text("\n".join([lines[0], line] + lines[1:]) + "\n")
    cfg = load(write_config(tmp_path, tiny_base, persona))
    with pytest.raises(DataError) as err:
        split(cfg)
    assert any(p.startswith(message) for p in err.value.problems), err.value.problems


def test_all_problems_are_reported_at_once(tmp_path, tiny_base):
    persona = write_persona(tmp_path / "persona")
    with open(persona / "seeds.jsonl", "a") as f:
        f.write("{broken\n")
        f.write('{"q": ["x?"], "a": ["y"], "tool": {"app": "photos", "params": {}}}\n')
    with pytest.raises(DataError) as err:
        split(load(write_config(tmp_path, tiny_base, persona)))
    n = len((persona / "seeds.jsonl").read_text().splitlines())
    assert [p.split(":")[1] for p in err.value.problems] == [str(n - 1), str(n)]


def test_labels_supervise_only_the_answers_and_their_end_of_turn(tokenizer, tiny_base):
    from tabtwin._core import Chat

    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "Where do you live?"},
        {"role": "assistant", "content": "I live in Lisbon."},
        {"role": "user", "content": "Books?"},
        {"role": "assistant", "content": 'Mine:\nTOOL {"app":"books","params":{}}'},
    ]
    enc = encode(tokenizer, messages)
    assert len(enc.input_ids) == len(enc.labels)
    supervised = [(i, t) for i, t in enumerate(enc.labels) if t != IGNORE]
    assert tokenizer.decode([t for _, t in supervised], skip_special_tokens=False) == (
        'I live in Lisbon.<|im_end|>Mine:\nTOOL {"app":"books","params":{}}<|im_end|>'
    )
    assert all(enc.input_ids[i] == t for i, t in supervised)
    # Everything before the first answer is exactly what the core feeds the model at run time.
    chat = Chat.from_path(tiny_base)
    chat.set_system_prompt(SYSTEM_PROMPT)
    prompt = chat.encode(chat.render([("user", "Where do you live?")]))
    assert enc.input_ids[: len(prompt)] == prompt
    assert enc.labels[: len(prompt)] == [IGNORE] * len(prompt)
    assert enc.labels[len(prompt)] != IGNORE


def test_too_long_examples_are_refused_by_build_and_reported_by_stats(tmp_path, tiny_base, persona, tokenizer):
    cfg = load(write_config(tmp_path, tiny_base, persona, **{"train.max_seq_len": "60"}))
    report = stats(cfg, tokenizer, 512)
    assert report["over_max_seq_len"] and all("longer than max_seq_len 60" in p for p in report["over_max_seq_len"])
    text = format_stats(report)
    assert "would be truncated" in text and "seeds/fact" in text
    with pytest.raises(DataError) as err:
        build(cfg, tokenizer, 512)
    assert err.value.problems[0].split(":")[0] in (
        "seeds.jsonl",
        "conversations.jsonl",
        "writing/slow-software.md",
        "writing/archive-notes.html",
    )
    assert not cfg.data_dir.exists(), "nothing is written when the data has problems"


def test_build_writes_all_or_nothing_and_stats_counts(tmp_path, tiny_base, persona, tokenizer):
    cfg = load(write_config(tmp_path, tiny_base, persona))
    manifest = build(cfg, tokenizer, 512)
    train_lines = (cfg.data_dir / "train.jsonl").read_text().splitlines()
    holdout_lines = (cfg.data_dir / "holdout.jsonl").read_text().splitlines()
    assert sum(manifest["train"].values()) == len(train_lines)
    assert sum(manifest["holdout"].values()) == len(holdout_lines)
    assert json.loads(train_lines[0])["messages"][0]["role"] == "system"
    s = stats(cfg, tokenizer, 512)
    assert (s["train"], s["holdout"]) == (len(train_lines), len(holdout_lines))
    assert s["over_max_seq_len"] == [] and "truncation  none" in format_stats(s)
    # a broken source afterwards: build fails and the previous build stays intact
    with open(persona / "seeds.jsonl", "a") as f:
        f.write("{oops\n")
    with pytest.raises(DataError):
        build(cfg, tokenizer, 512)
    assert (cfg.data_dir / "train.jsonl").read_text().splitlines() == train_lines


def test_cli_data_build_and_its_errors(tmp_path, tiny_base, persona, tokenizer, capsys):
    config = write_config(tmp_path, tiny_base, persona)
    assert cli.main(["data", "build", str(config)]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "train.jsonl" in out and "holdout" in out
    assert cli.main(["data", "stats", str(config)]) == 0
    assert "tokens per example" in capsys.readouterr().out
    with open(persona / "conversations.jsonl", "a") as f:
        f.write('{"messages": [{"role": "user", "content": "alone"}]}\n')
    assert cli.main(["data", "build", str(config)]) == 2
    err = capsys.readouterr().err
    line = len((persona / "conversations.jsonl").read_text().splitlines())
    assert f"conversations.jsonl:{line}: conversation without an assistant turn" in err


def test_config_errors_name_the_file_and_key(tmp_path, tiny_base, persona):
    from tabtwin.finetune.config import ConfigError

    with pytest.raises(ConfigError, match=r"twin.toml:\d+: \[train\] unknown key 'epoch' \(did you mean 'epochs'\?\)"):
        load(write_config(tmp_path, tiny_base, persona, **{"train.epoch": "3"}))
    with pytest.raises(ConfigError, match=r"\[export\] quantization must be one of"):
        load(write_config(tmp_path, tiny_base, persona, **{"export.quantization": '"q5_k"'}))
