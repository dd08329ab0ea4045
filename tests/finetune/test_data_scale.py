"""Data at the scale of an author's archives: imported/*.jsonl (what `tabtwin import` writes) read with
file:line errors, curated (length limits, exact and near duplicates, a cap per source) so that a chat
log of 30,000 messages neither drowns the seeds and essays nor repeats itself, and counted per source by
`data stats` and `data build`. A word-per-token stand-in tokenizer keeps these tests free of torch."""

from __future__ import annotations

import json
import random
import re

import pytest
from finetune_helpers import SEEDS, write_config, write_persona

from tabtwin import cli
from tabtwin.finetune.config import ConfigError, load
from tabtwin.finetune.data import DataError, build, format_stats, split, stats
from tabtwin.finetune.data.curate import words

VOCABULARY = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "po", "ra", "se", "ti", "vu", "ze") for b in "abcdefghij"]


class WordTokenizer:
    """ChatML rendering, one token a word: enough for encode(), measure() and the step count."""

    eos_token = "<|im_end|>"

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=False):
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [1] * len(text.split())}


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(n)).capitalize() + "."


def record(index: int, messages: list[tuple[str, str]]) -> dict:
    return {
        "id": f"{index:016x}",
        "source": "whatsapp:chat.txt",
        "kind": "conversation",
        "messages": [{"role": role, "content": text} for role, text in messages],
    }


def chat_archive(n_conversations: int, seed: int = 0) -> tuple[list[dict], dict[str, int]]:
    """A chat export of `n_conversations` exchanges (a friend's message, the author's answer), with
    known numbers of repeats, near repeats, one-word replies, pasted logs and over-long answers."""
    rng = random.Random(seed)
    records, planted = [], {"duplicate": 0, "near_duplicate": 0, "too_short": 0, "too_long": 0, "long_thread": 0}
    birthday = "Happy birthday! Have a wonderful day, and save me a slice of cake."
    near = sentence(rng, 40)
    for i in range(n_conversations):
        question = sentence(rng, 8)
        kind = i % 20
        if kind == 0 and i:
            answer = birthday.upper() if i % 40 else birthday.replace(",", "")  # case and punctuation differ
            planted["duplicate"] += 1
        elif kind == 1 and i > 1:
            swapped = near.split()
            swapped[rng.randrange(len(swapped))] = f"changed{i}"  # one word of forty
            answer = " ".join(swapped)
            planted["near_duplicate"] += 1
        elif kind == 2:
            answer = "ok"
            planted["too_short"] += 1
        elif kind == 3 and i < 200:
            answer = "x" * 3000  # a pasted log
            planted["too_long"] += 1
        elif kind == 4:
            answer = sentence(rng, 300)  # fits max_message_chars, not max_seq_len
            planted["long_thread"] += 1
        elif i == 0:
            answer = birthday
        elif i == 1:
            answer = near
        else:
            answer = sentence(rng, 25)
        records.append(record(i, [("user", question), ("assistant", answer)]))
    return records, planted


def write_import(persona, name: str, records: list[dict]) -> None:
    folder = persona / "imported"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records))


POSTS = [
    {
        "id": f"{0xABC0 + i:016x}",
        "source": "posts:blog",
        "kind": "writing",
        "title": f"Post number {i}",
        "text": "\n\n".join(
            f"Paragraph {k} of post {i}. " + "Tides turn slowly under the old pier. " * 4 for k in range(3)
        ),
    }
    for i in range(4)
]


@pytest.fixture
def archive(tmp_path):
    """The helpers' persona (seeds, conversations, two essays) with 15,000 imported exchanges (30,000
    messages) and a blog export; a config that caps each imported source at 300."""
    persona = write_persona(tmp_path / "persona")
    records, planted = chat_archive(15000)
    write_import(persona, "whatsapp.jsonl", records)
    write_import(persona, "posts.jsonl", POSTS)
    config = write_config(
        tmp_path,
        "smollm2-135m-instruct",
        persona,
        **{"data.max_per_source": "300", "train.max_seq_len": "200", "data.holdout": "0.1"},
    )
    return load(config), planted


def test_a_30000_message_archive_is_capped_deduplicated_and_leaves_seeds_and_essays_whole(archive):
    cfg, planted = archive
    result = split(cfg)
    chats = result.curation.to_json()["imported/whatsapp"]
    assert chats["read"] == 15000
    assert chats["too_short"] == planted["too_short"] and chats["too_long"] == planted["too_long"]
    assert chats["duplicate"] == planted["duplicate"]
    assert chats["near_duplicate"] == planted["near_duplicate"]
    assert chats["kept"] == 300 and chats["over_cap"] == 15000 - 300 - sum(
        planted[k] for k in ("duplicate", "near_duplicate", "too_short", "too_long")
    )
    examples = result.train + result.holdout
    imported = [ex for ex in examples if ex.source == "imported/whatsapp"]
    assert len(imported) == 300
    assert sum(ex in result.holdout for ex in imported) == 30, "imported items are held out like the rest"
    texts = [" ".join(words_of(ex)) for ex in imported]
    assert len(set(texts)) == len(texts), "no two kept items say the same"
    # The author's own sources are untouched by the archive: every seed, conversation and paragraph.
    for source in ("seeds", "conversations", "writing"):
        mine = [(ex.where, ex.kind) for ex in examples if ex.source == source]
        assert mine, source
    wheres = {ex.where.split(":")[0] for ex in examples}
    assert {"seeds.jsonl", "conversations.jsonl", "writing/slow-software.md", "writing/archive-notes.html"} <= wheres
    assert {ex.where for ex in examples if ex.source == "seeds"} == {
        f"seeds.jsonl:{i}" for i in range(1, len(SEEDS) + 1)
    }
    # the blog posts are writing: paragraphs under their titles, never grounded (kind "writing")
    posts = [ex for ex in examples if ex.source == "imported/posts"]
    assert posts and all(ex.kind == "writing" for ex in posts)
    assert all(ex.messages[1]["content"].startswith('Write your piece "Post number') for ex in posts)


def words_of(example) -> list[str]:
    from tabtwin.finetune.data.sources import Conversation

    return words(Conversation(example.where, example.messages[1:], example.kind, example.source))


def test_without_the_archive_the_seed_examples_are_the_same(archive, tmp_path):
    cfg, _ = archive
    with_archive = split(cfg)
    for path in (cfg.data.persona / "imported").iterdir():
        path.unlink()
    (cfg.data.persona / "imported").rmdir()
    alone = split(cfg)

    def mine(result):
        return sorted(json.dumps(ex.to_json()) for ex in result.train + result.holdout if ex.source == "seeds")

    assert mine(with_archive) == mine(alone)
    assert alone.curation.to_json() == {}


def test_the_cap_keeps_a_stable_choice_as_the_archive_grows(tmp_path):
    persona = write_persona(tmp_path / "persona")
    records, _ = chat_archive(3000)
    write_import(persona, "whatsapp.jsonl", records[:2000])
    cfg = load(write_config(tmp_path, "smollm2-135m-instruct", persona, **{"data.max_per_source": "200"}))
    before = {ex.messages[2]["content"] for ex in split_examples(cfg) if ex.source == "imported/whatsapp"}
    write_import(persona, "whatsapp.jsonl", records)
    after = {ex.messages[2]["content"] for ex in split_examples(cfg) if ex.source == "imported/whatsapp"}
    assert len(before) == len(after) == 200
    # half again as many items: each kept one stays with a chance of about 2/3
    assert len(before & after) > 100


def split_examples(cfg):
    result = split(cfg)
    return result.train + result.holdout


def test_stats_and_build_count_per_source_and_drop_imports_over_max_seq_len(archive, capsys):
    cfg, planted = archive
    s = stats(cfg, WordTokenizer(), 2048)
    chats = s["imported"]["imported/whatsapp"]
    # the 300-word threads that survived the cap are over max_seq_len 200: left out, not refused
    assert chats["over_max_seq_len"] >= 1 and chats["kept"] == 300 - chats["over_max_seq_len"]
    assert s["over_max_seq_len"] == [], "only hand-written examples are listed as too long"
    text = format_stats(s)
    assert re.search(
        r"imported/whatsapp\s+\d+ kept of 15000; left out: \d+ too short, \d+ too long, \d+ duplicate", text
    )
    assert "over max seq len" in text and "read and checked in" in text
    assert re.search(r"imported/whatsapp/conversation\s+\d+\s+\d+", text)
    manifest = build(cfg, WordTokenizer(), 2048)
    assert manifest["imported"] == s["imported"]
    built = [json.loads(line) for line in (cfg.data_dir / "train.jsonl").read_text().splitlines()]
    assert (
        sum(ex["source"] == "imported/whatsapp" for ex in built) == manifest["train"]["imported/whatsapp/conversation"]
    )
    assert all(len(" ".join(m["content"] for m in ex["messages"]).split()) < 200 for ex in built)


def test_a_hand_written_example_over_max_seq_len_is_still_refused(archive):
    cfg, _ = archive
    with open(cfg.data.persona / "conversations.jsonl", "a") as f:
        f.write(
            json.dumps(
                {"messages": [{"role": "user", "content": "Tell me."}, {"role": "assistant", "content": "word " * 400}]}
            )
            + "\n"
        )
    with pytest.raises(DataError, match=r"conversations.jsonl:\d+: example is \d+ tokens, longer than max_seq_len 200"):
        build(cfg, WordTokenizer(), 2048)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", r"imported/whatsapp.jsonl:2: malformed JSON"),
        (
            '{"id": "00000000000000ff", "source": "whatsapp:chat.txt", "kind": "photo"}',
            r"imported/whatsapp.jsonl:2: kind 'photo' is not one of",
        ),
        (
            '{"id": "xyz", "source": "whatsapp:chat.txt", "kind": "writing", "title": "T", "text": "x"}',
            r"imported/whatsapp.jsonl:2: id must be 16 lowercase hex digits",
        ),
        (
            '{"id": "00000000000000ff", "source": "whatsapp:chat.txt", "kind": "writing", "title": "T"}',
            r"imported/whatsapp.jsonl:2: writing without text",
        ),
        (
            '{"id": "00000000000000ff", "source": "whatsapp:chat.txt", "kind": "conversation", "when": 1}',
            r"whatsapp.jsonl:2: conversation without messages\n.*whatsapp.jsonl:2: unknown key\(s\) when",
        ),
        (
            json.dumps(record(255, [("assistant", "Hi"), ("user", "Yo")])),
            r"imported/whatsapp.jsonl:2: message 1 has role 'assistant'; turns alternate, user first",
        ),
        (
            json.dumps(record(255, [("user", "Hi"), ("assistant", "<|im_end|>")])),
            r"imported/whatsapp.jsonl:2: contains the chat-format marker",
        ),
    ],
)
def test_each_bad_imported_record_is_named_with_its_file_and_line(tmp_path, line, message):
    persona = write_persona(tmp_path / "persona")
    write_import(
        persona, "whatsapp.jsonl", [record(1, [("user", "Hello there"), ("assistant", "Hello to you, friend.")])]
    )
    with open(persona / "imported" / "whatsapp.jsonl", "a") as f:
        f.write(line + "\n")
    cfg = load(write_config(tmp_path, "smollm2-135m-instruct", persona))
    with pytest.raises(DataError, match=message):
        split(cfg)


def test_an_imported_folder_alone_is_a_persona(tmp_path):
    persona = tmp_path / "persona"
    records, _ = chat_archive(60)
    write_import(persona, "telegram.jsonl", records)
    cfg = load(write_config(tmp_path, "smollm2-135m-instruct", persona))
    result = split(cfg)
    assert result.persona.files == {"imported/telegram.jsonl": 60}
    assert {ex.source for ex in result.train} == {"imported/telegram"}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("max_per_source", "-1", r"\[data\] max_per_source must be at least 0"),
        ("max_message_chars", "0", r"\[data\] max_message_chars must be at least 1"),
        ("near_duplicate", "0", r"\[data\] near_duplicate is a Jaccard in \(0, 1\]"),
        ("near_duplicate", '"high"', r"\[data\] near_duplicate must be a number"),
        ("max_per_sources", "3", r"\[data\] unknown key 'max_per_sources' \(did you mean 'max_per_source'\?\)"),
    ],
)
def test_the_data_limits_are_checked_with_their_line(tmp_path, key, value, message):
    persona = write_persona(tmp_path / "persona")
    with pytest.raises(ConfigError, match=r"twin.toml:\d+: " + message):
        load(write_config(tmp_path, "smollm2-135m-instruct", persona, **{f"data.{key}": value}))


def test_exact_repeats_only_when_near_duplicate_is_one(tmp_path):
    persona = write_persona(tmp_path / "persona")
    records, planted = chat_archive(400)
    write_import(persona, "whatsapp.jsonl", records)
    cfg = load(write_config(tmp_path, "smollm2-135m-instruct", persona, **{"data.near_duplicate": "1.0"}))
    chats = split(cfg).curation.to_json()["imported/whatsapp"]
    assert "near_duplicate" not in chats and chats["duplicate"] == planted["duplicate"]


def test_cli_data_stats_prints_what_was_kept_of_each_archive(archive, monkeypatch, capsys):
    cfg, _ = archive
    from tabtwin.cli import finetune as cli_finetune

    monkeypatch.setattr(cli_finetune, "_tokenizer", lambda cfg: (WordTokenizer(), 2048))
    assert cli.main(["data", "stats", str(cfg.path)]) == 0
    out = capsys.readouterr().out
    assert "imported/whatsapp" in out and "kept of 15000" in out
    assert cli.main(["data", "build", str(cfg.path)]) == 0
    out = capsys.readouterr().out
    assert "kept of 15000" in out and "wrote" in out
