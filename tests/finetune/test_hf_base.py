"""`base = "hf:ORG/NAME@REVISION[:FILE]"`: a base from a Hugging Face repository, pinned, fetched once with
huggingface_hub from a stand-in hub on loopback (tests/support/stand_in_hub.py), resumed after a cut, and
refused before training when the core does not run its architecture."""

from __future__ import annotations

import json
import re

import pytest
from finetune_helpers import write_config, write_persona
from stand_in_hub import stand_in_hub

from tabtwin.catalog import hf
from tabtwin.errors import TabtwinError
from tabtwin.finetune.base import MODEL_TYPES, resolve_base
from tabtwin.finetune.config import ConfigError, load
from tabtwin.paths import sha256_file


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def model_directory(model_type: str = "llama") -> dict[str, bytes]:
    """What a transformers model repository holds (the weights' bytes do not matter to the fetch)."""
    return {
        "config.json": json.dumps({"model_type": model_type, "architectures": ["LlamaForCausalLM"]}).encode(),
        "tokenizer_config.json": b"{}",
        # 24 MiB: huggingface_hub writes 10 MiB chunks, so a transfer cut halfway has kept one to resume from
        "model.safetensors": bytes(range(256)) * (96 * 1024),
        "pytorch_model.bin": b"a pickle: never fetched",
        "README.md": b"# not needed for training",
    }


def test_a_spec_without_a_pinned_revision_is_refused_with_the_form_to_use():
    for spec in ("hf:google/gemma-3-270m", "hf:google/gemma-3-270m:model.gguf"):
        with pytest.raises(TabtwinError, match=r"names no revision: pin one, hf:ORG/NAME@REVISION"):
            hf.parse(spec)
    with pytest.raises(TabtwinError, match="is not a Hugging Face model"):
        hf.parse("hf:gemma")
    assert hf.parse("hf:google/gemma-3-270m@abc123:weights/m.gguf") == hf.HfSpec(
        "google/gemma-3-270m", "abc123", "weights/m.gguf"
    )


def test_a_run_config_refuses_an_unpinned_hub_base_at_its_line(tmp_path):
    config = write_config(tmp_path, "hf:google/gemma-3-270m", write_persona(tmp_path / "persona"))
    line = config.read_text().splitlines().index('base = "hf:google/gemma-3-270m"') + 1
    with pytest.raises(ConfigError, match=rf"twin\.toml:{line}: \[train\] base: .*names no revision"):
        load(config)


def test_a_model_directory_is_fetched_once_resuming_a_cut_transfer(cache, monkeypatch):
    with stand_in_hub(monkeypatch) as hub:
        files = model_directory()
        commit = hub.add("ada/tiny-llama", files)
        hub.cut_once.add("model.safetensors")  # the first transfer stops halfway
        base = resolve_base(f"hf:ada/tiny-llama@{commit}")
        assert base.gguf is None and base.hf_dir.is_dir()
        assert str(base.hf_dir).startswith(str(cache / "hf"))
        assert {p.name for p in base.hf_dir.iterdir()} == {"config.json", "tokenizer_config.json", "model.safetensors"}
        assert (base.hf_dir / "model.safetensors").read_bytes() == files["model.safetensors"]
        transfers = hub.file_requests("model.safetensors")
        assert len(transfers) == 2 and transfers[0][2] is None, transfers
        resumed_at = int(re.fullmatch(r"bytes=(\d+)-", transfers[1][2])[1])  # a range request, not a restart
        assert 0 < resumed_at <= len(files["model.safetensors"]) // 2
        asked = len(hub.requests)
        again = resolve_base(f"hf:ada/tiny-llama@{commit}")
        assert again.hf_dir == base.hf_dir and again.sha256 == base.sha256
        assert len(hub.requests) == asked, "the second resolve asked the hub again"


def test_a_fetch_cut_short_fetches_only_what_is_missing_next_time(cache, monkeypatch):
    with stand_in_hub(monkeypatch) as hub:
        commit = hub.add("ada/tiny-llama", model_directory(), tag="v1")
        hub.fail["model.safetensors"] = 99  # the hub fails this file until told otherwise
        with pytest.raises(TabtwinError, match=r"hf:ada/tiny-llama@v1: cannot fetch it"):
            resolve_base("hf:ada/tiny-llama@v1")
        hub.fail.clear()
        hub.requests.clear()
        base = resolve_base("hf:ada/tiny-llama@v1")
        assert base.hf_dir.name == commit  # the tag was resolved to its commit
        fetched = [r[1].rsplit("/", 1)[1] for r in hub.requests if r[0] == "GET" and "/resolve/" in r[1]]
        assert fetched == ["model.safetensors"], hub.requests


def test_a_gguf_file_from_the_hub_is_a_gguf_base(cache, monkeypatch, tiny_gguf):
    with stand_in_hub(monkeypatch) as hub:
        commit = hub.add("ada/tiny-gguf", {"tiny.gguf": tiny_gguf.read_bytes(), "other.gguf": b"not fetched"})
        base = resolve_base(f"hf:ada/tiny-gguf@{commit}:tiny.gguf")
        assert base.hf_dir is None and base.gguf.name == "tiny.gguf"
        assert base.sha256 == sha256_file(tiny_gguf)
        assert not any("other.gguf" in r[1] for r in hub.requests)


def test_a_missing_revision_or_file_is_one_clear_error(cache, monkeypatch):
    with stand_in_hub(monkeypatch) as hub:
        hub.add("ada/tiny-llama", model_directory())
        with pytest.raises(TabtwinError, match=r"hf:ada/tiny-llama@0{40}: cannot fetch it"):
            resolve_base("hf:ada/tiny-llama@" + "0" * 40)
        with pytest.raises(TabtwinError, match=r"hf:ada/tiny-llama@v9: cannot fetch it \(Revision"):
            resolve_base("hf:ada/tiny-llama@v9")


def test_an_architecture_the_core_does_not_run_is_refused_before_training(cache, monkeypatch):
    with stand_in_hub(monkeypatch) as hub:
        commit = hub.add("ada/tiny-gpt2", model_directory("gpt2"))
        with pytest.raises(TabtwinError, match=r"model_type 'gpt2' .* is not an architecture the core runs \(llama"):
            resolve_base(f"hf:ada/tiny-gpt2@{commit}")


def test_the_model_type_table_names_only_architectures_the_core_runs(root):
    listed = re.search(r"pub const SUPPORTED: &\[&str\] = &\[([^\]]*)\]", (root / "wasm/core/src/arch.rs").read_text())
    assert set(MODEL_TYPES.values()) == set(re.findall(r'"([^"]+)"', listed[1]))
