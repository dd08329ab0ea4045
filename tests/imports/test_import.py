"""`tabtwin import` and `tabtwin import-sample` end to end on every fixture export: counts printed,
only the author's words as the author's, privacy on by default, a second import adding nothing,
--dry-run writing nothing."""

from __future__ import annotations

import pytest
from conftest import ADA, EXPORTS, authored, records

from tabtwin.imports import record
from tabtwin.imports.detect import detect

FIXTURES = {
    "whatsapp": EXPORTS / "WhatsApp Chat with Bob Smith.txt",
    "telegram": EXPORTS / "result.json",
    "x": EXPORTS / "tweets.js",
    "mbox": EXPORTS / "mail.mbox",
    "posts": EXPORTS / "blog",
}
# Sentences only other people wrote in the fixtures: none may ever be the author's words.
OTHERS_WORDS = [
    "are you coming to the party",
    "Send me your new email",
    "Sounds like a plan",
    "Who's in for Saturday",
    "bring the rope",
    "Did you see the new release",
    "Are you speaking at the meetup",
    "not Ada's tweet",
    "Also not mine",
    "Would you give a talk",
    "Carol's text",
    "Rust 2.0 announced",
    "Any sufficiently advanced technology",
    "someone else's words",
]


@pytest.mark.parametrize("fmt", FIXTURES)
def test_the_format_is_told_from_the_file(fmt):
    assert detect(FIXTURES[fmt]) == fmt
    assert detect(EXPORTS / "WhatsApp Chat - Climbing crew.txt") == "whatsapp"


def test_every_format_imports_only_the_authors_words_as_the_authors(tabtwin, persona):
    for fmt, export in [*FIXTURES.items(), ("whatsapp", EXPORTS / "WhatsApp Chat - Climbing crew.txt")]:
        code, out, err = tabtwin("import", export, "--me", ADA, "--into", persona, "--no-mask")
        assert (code, err) == (0, ""), err
        assert out.startswith(f"{fmt}:{export.name} ({fmt}) -> ")
    everything = []
    for fmt in FIXTURES:
        items = records(persona, fmt)
        assert items and all(record.problems(i) == [] for i in items), fmt
        assert {i["source"].split(":")[0] for i in items} == {fmt}
        everything += items
    words = "\n".join(authored(everything))
    assert [s for s in OTHERS_WORDS if s in words] == []
    assert "borrow checker" in words and "tiny models in the browser" in words and "static files" in words


def test_counts_per_kind_and_what_was_left_out_are_printed(tabtwin, persona):
    code, out, _ = tabtwin("import", FIXTURES["x"], "--me", ADA, "--into", persona)
    assert code == 0
    assert out.splitlines()[1:] == [
        "  read: 4 tweets kept",
        "  imported: conversations 0, writing 3",
        "  left out: retweets 2, media-only tweets 1",
        "  masked: names 1",
        "  added 3 new, 0 already imported",
        f"next: tabtwin import-sample {persona} (read what the twin will learn from)",
    ]


def test_a_second_import_of_the_same_export_adds_nothing(tabtwin, persona):
    tabtwin("import", FIXTURES["whatsapp"], "--me", ADA, "--into", persona)
    first = (persona / "imported" / "whatsapp.jsonl").read_text()
    code, out, _ = tabtwin("import", FIXTURES["whatsapp"], "--me", ADA, "--into", persona)
    assert code == 0 and "added 0 new, 3 already imported" in out
    assert (persona / "imported" / "whatsapp.jsonl").read_text() == first
    # another chat is merged into the same file, after what was there
    tabtwin("import", EXPORTS / "WhatsApp Chat - Climbing crew.txt", "--me", ADA, "--into", persona)
    merged = (persona / "imported" / "whatsapp.jsonl").read_text()
    assert merged.startswith(first) and len(merged.splitlines()) == 5


def test_dry_run_counts_and_writes_nothing(tabtwin, persona):
    code, out, _ = tabtwin("import", FIXTURES["mbox"], "--me", ADA, "--into", persona, "--dry-run")
    assert code == 0 and "  dry run: nothing written (2 new, 0 already imported)" in out
    assert not (persona / "imported").exists()


def test_privacy_is_on_by_default_and_off_with_no_mask(tabtwin, tmp_path):
    masked, plain = tmp_path / "masked", tmp_path / "plain"
    masked.mkdir(), plain.mkdir()
    tabtwin("import", FIXTURES["whatsapp"], "--me", ADA, "--into", masked)
    tabtwin("import", FIXTURES["whatsapp"], "--me", ADA, "--into", plain, "--no-mask")
    conversation = records(masked, "whatsapp")[0]["messages"]
    assert conversation[0]["content"] == (
        "Hey Ada, are you coming to the party tonight?\nIt's at Carol's place, call me on [phone]"
    )
    assert conversation[3]["content"] == "It's [email]"
    assert (
        records(masked, "whatsapp")[2]["messages"][1]["content"] == "Thanks [name], see you at [name]'s Bakery on 1/13."
    )
    assert "+1 555 010 0199" in records(plain, "whatsapp")[0]["messages"][0]["content"]
    assert [r["id"] for r in records(masked, "whatsapp")] == [r["id"] for r in records(plain, "whatsapp")]


def test_import_sample_prints_n_items_drawn_with_a_seed(tabtwin, persona):
    for export in FIXTURES.values():
        tabtwin("import", export, "--me", ADA, "--into", persona)
    code, out, _ = tabtwin("import-sample", persona, "-n", "3", "--seed", "7")
    assert code == 0 and out.count("\n--- ") + out.startswith("--- ") == 3
    assert tabtwin("import-sample", persona, "-n", "3", "--seed", "7")[1] == out
    _, everything, _ = tabtwin("import-sample", persona, "-n", "100", "--format", "telegram")
    assert everything.startswith("--- telegram:result.json · conversation · ")
    assert "them:\n  Did you see the new release of the parser?\nyou:\n  Yes! The changelog" in everything


def test_import_sample_before_any_import_says_what_to_run(tabtwin, persona):
    code, _, err = tabtwin("import-sample", persona)
    assert code == 2 and "nothing imported yet; run tabtwin import PATH --me NAME --into" in err


def test_a_damaged_imported_file_is_named_with_its_line(tabtwin, persona):
    (persona / "imported").mkdir()
    (persona / "imported" / "x.jsonl").write_text('{"id": "0123456789abcdef"}\n{not json\n')
    code, _, err = tabtwin("import", FIXTURES["x"], "--me", ADA, "--into", persona)
    assert code == 2
    assert err.startswith(f"tabtwin: error: {persona / 'imported' / 'x.jsonl'}:2: not valid JSON")


def test_the_persona_folder_must_exist(tabtwin, tmp_path):
    code, _, err = tabtwin("import", FIXTURES["x"], "--me", ADA, "--into", tmp_path / "nobody")
    assert code == 2 and "no such persona folder" in err
