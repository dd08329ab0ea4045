"""`tabtwin new DIR`: a persona laid out like the demo, a run config, a models.toml entry that leaves the
build as it was, site pages; valid stubs (stats and build run on them), a checklist, and a second run
that writes over nothing."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from test_data_scale import WordTokenizer, chat_archive, write_import

from tabtwin import cli
from tabtwin.errors import TabtwinError
from tabtwin.finetune.config import load
from tabtwin.finetune.data import build, split, stats
from tabtwin.finetune.evaluate.canaries import read_canaries
from tabtwin.finetune.new import checklist, new_persona
from tabtwin.site import content, registry

MODELS_TOML = """\
# A site with one stock model.
[site]
target = "github-pages"

[[model]]
id = "stock"
label = "Stock SmolLM2"
pypi = "smollm2-135m-instruct"
"""


@pytest.fixture
def root(tmp_path) -> Path:
    (tmp_path / "models.toml").write_text(MODELS_TOML)
    return tmp_path


def test_new_writes_a_persona_laid_out_like_the_demo_and_every_stub_is_valid(root):
    created = new_persona(root / "finetune" / "data" / "ada-lovelace", name="Ada Lovelace", base="smollm2-135m")
    persona = root / "finetune" / "data" / "ada-lovelace"
    assert created.root == root and created.twin_id == "ada-lovelace-smollm2-135m"
    for name in ("README.md", "seeds.jsonl", "conversations.jsonl", "canaries.jsonl", "sealed.jsonl"):
        assert (persona / name).is_file(), name
    assert (persona / "writing").is_dir()
    cfg = load(root / "finetune" / "configs" / "ada-lovelace.toml")
    assert cfg.data.persona == persona and cfg.train.base == "smollm2-135m-instruct"
    assert cfg.export.persona == "Ada Lovelace" and "Ada Lovelace" in cfg.system_prompt
    assert cfg.export_path == root / "finetune" / "twins" / "ada-lovelace-smollm2-135m.gguf"
    assert cfg.train.output == root / "finetune" / "runs" / "ada-lovelace"
    assert len(read_canaries(cfg.eval.canaries, cfg.data.apps)) >= 3
    assert len(read_canaries(cfg.eval.sealed, cfg.data.apps)) >= 2
    result = split(cfg)
    assert {ex.source for ex in result.train} == {"seeds", "conversations"}
    assert any("Ada Lovelace" in ex.messages[-1]["content"] for ex in result.train)
    assert stats(cfg, WordTokenizer(), 2048)["over_max_seq_len"] == []
    manifest = build(cfg, WordTokenizer(), 2048)
    assert sum(manifest["train"].values()) == len(result.train)
    site = content.load(root / "site" / "content")
    assert site.site["persona"] == "Ada Lovelace" and site.projects == [] and "Ada Lovelace" in site.about_html


def test_the_models_toml_entry_leaves_the_build_as_it_was_until_the_adapter_exists(root):
    before = tomllib.loads((root / "models.toml").read_text())
    created = new_persona(root / "finetune" / "data" / "ada-lovelace", name="Ada Lovelace")
    text = (root / "models.toml").read_text()
    assert text.startswith(MODELS_TOML), "the author's entries are untouched"
    assert tomllib.loads(text) == before and [m.id for m in registry.load(root / "models.toml")] == ["stock"]
    # Uncommented once `tabtwin export` has written the adapter: a valid twin entry.
    (root / "models.toml").write_text(MODELS_TOML + uncomment(text[len(MODELS_TOML) :]))
    adapter = root / "finetune" / "twins" / f"{created.twin_id}.adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_model.safetensors").write_bytes(b"")
    entries = {m.id: m for m in registry.load(root / "models.toml")}
    assert entries[created.twin_id].base == "smollm2-135m-instruct" and entries[created.twin_id].adapter == adapter


def uncomment(block: str) -> str:
    """The entry's TOML lines ("# key = value", "# [table]") without their "# ", as an author would."""
    return "\n".join(
        line[2:] if line.startswith("# [") or (line.startswith("# ") and " = " in line) else line
        for line in block.splitlines()
    )


def test_a_second_run_writes_over_nothing_and_names_what_it_kept(root, capsys):
    folder = root / "finetune" / "data" / "ada-lovelace"
    new_persona(folder, name="Ada Lovelace")
    (folder / "seeds.jsonl").write_text('{"q": "Where do you live?", "a": "London.", "kind": "fact"}\n')
    (root / "site" / "content" / "about.md").unlink()  # an author who removed a stub gets it back
    models = (root / "models.toml").read_text()
    created = new_persona(folder, name="Ada Lovelace")
    assert (folder / "seeds.jsonl").read_text() == '{"q": "Where do you live?", "a": "London.", "kind": "fact"}\n'
    assert (root / "models.toml").read_text() == models, "the entry is added once"
    actions = {path.relative_to(root).as_posix(): what for what, path in created.actions}
    assert actions["finetune/data/ada-lovelace/seeds.jsonl"] == "kept"
    assert actions["site/content/about.md"] == "wrote"
    assert actions["models.toml"] == "kept"
    text = checklist(created)
    assert "ada-lovelace-smollm2-135m is named there already" in text and "never writes over a file" in text


def test_without_a_models_toml_the_entry_is_printed_not_written(tmp_path):
    created = new_persona(tmp_path / "me", name="Grace Hopper", root=tmp_path)
    assert not (tmp_path / "models.toml").exists()
    text = checklist(created)
    assert "printed" in text and '# id = "me-smollm2-135m"' in text and "none found" in text


def test_a_site_that_still_holds_the_demo_is_kept_and_the_checklist_says_how_to_start_yours(root):
    site = root / "site" / "content"
    site.mkdir(parents=True)
    (site / "site.toml").write_text('title = "Ada (demo twin)"\ndemo = true\n')
    created = new_persona(root / "finetune" / "data" / "me", name="Me Myself")
    assert (site / "site.toml").read_text() == 'title = "Ada (demo twin)"\ndemo = true\n'
    assert created.demo_site and "still holds the demo persona's pages" in checklist(created)


def test_a_name_with_quotes_and_accents_stays_valid_json_and_toml(root):
    name = 'Zoë "Zed" Ó\\Brien'
    created = new_persona(root / "finetune" / "data" / "zoe", name=name)
    cfg = load(created.config)
    assert cfg.export.persona == name
    seeds = [json.loads(line) for line in (cfg.data.persona / "seeds.jsonl").read_text().splitlines()]
    assert name in seeds[0]["a"][0]
    assert content.load(root / "site" / "content").site["title"] == name


@pytest.mark.parametrize(
    ("base", "config_base", "twin_id"),
    [
        ("qwen2.5-0.5b", "qwen2.5-coder-0.5b-instruct", "me-qwen2.5-0.5b"),
        ("smollm2-135m-instruct", "smollm2-135m-instruct", "me-smollm2-135m"),
        ("hf:google/gemma-3-270m-it@abc123", "hf:google/gemma-3-270m-it@abc123", "me-gemma-3-270m-it"),
    ],
)
def test_the_base_names_the_config_and_the_twin(root, base, config_base, twin_id):
    created = new_persona(root / "finetune" / "data" / "me", name="Me", base=base)
    assert created.twin_id == twin_id
    assert f'base = "{config_base}"' in created.config.read_text()


def test_a_local_gguf_base_is_written_relative_to_the_config_and_models_toml(root):
    (root / "bases").mkdir()
    (root / "bases" / "Tiny-Base.gguf").write_bytes(b"GGUF")
    created = new_persona(root / "finetune" / "data" / "me", name="Me", base=str(root / "bases" / "Tiny-Base.gguf"))
    assert created.twin_id == "me-tiny-base"
    assert 'base = "../../bases/Tiny-Base.gguf"' in created.config.read_text()
    assert '# base = "bases/Tiny-Base.gguf"' in (root / "models.toml").read_text()
    assert load(created.config).train.base == str(root / "bases" / "Tiny-Base.gguf")


def test_an_unknown_base_or_a_file_in_place_of_the_folder_is_one_clear_error(root, capsys):
    with pytest.raises(TabtwinError, match=r"--base 'llama-9000': not a default model \(.*smollm2-135m"):
        new_persona(root / "me", base="llama-9000")
    assert not (root / "me").exists(), "nothing is written before the base is known"
    (root / "file").write_text("x")
    assert cli.main(["new", str(root / "file")]) == 2
    assert "is a file; `tabtwin new` makes a persona folder" in capsys.readouterr().err


def test_cli_new_prints_the_checklist_and_imports_join_the_stubs(root, capsys, monkeypatch):
    monkeypatch.chdir(root)
    assert cli.main(["new", "finetune/data/ada-lovelace", "--name", "Ada Lovelace", "--base", "smollm2-135m"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tabtwin new: Ada Lovelace's twin ada-lovelace-smollm2-135m on smollm2-135m-instruct")
    assert "  wrote   finetune/data/ada-lovelace/seeds.jsonl" in out
    assert "tabtwin import PATH --me 'Ada Lovelace' --into finetune/data/ada-lovelace" in out
    assert "tabtwin data stats finetune/configs/ada-lovelace.toml" in out
    records, _ = chat_archive(200)
    write_import(root / "finetune" / "data" / "ada-lovelace", "whatsapp.jsonl", records)
    result = split(load("finetune/configs/ada-lovelace.toml"))
    assert {ex.source for ex in result.train + result.holdout} == {"seeds", "conversations", "imported/whatsapp"}
