"""A failed step leaves the previous output byte for byte as it was and no temporary file behind:
`tabtwin data build`'s folder, every GGUF written through gguf.store's writer (`tabtwin merge`,
`export`, re-quantized copies), `tabtwin merge` refused before it writes (issue #18). Fast tier."""

import importlib
import json

import pytest
from gguf import GGUFWriter
from test_bad_inputs import GOOD

from tabtwin.cli import main
from tabtwin.finetune.config import load
from tabtwin.finetune.data.build import Lengths, split, write
from tabtwin.gguf.store import with_metadata


def files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def siblings(path):
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}."))


def test_a_data_build_that_fails_while_writing_keeps_the_last_data(tmp_path, monkeypatch):
    from finetune_helpers import write_persona

    write_persona(tmp_path / "persona")
    (tmp_path / "twin.toml").write_text(GOOD)
    cfg = load(tmp_path / "twin.toml")
    result = split(cfg)
    lengths = Lengths([1] * len(result.train + result.holdout), [1] * len(result.train + result.holdout), [])
    write(cfg, result, lengths)
    before = files(cfg.data_dir)
    result.train = result.train[:3]  # a build that would change the data, failing after the JSONL is written

    def broken(_folder):
        raise OSError("disk full")

    monkeypatch.setattr(importlib.import_module("tabtwin.finetune.data.build"), "dataset_hash", broken)
    with pytest.raises(OSError, match="disk full"):
        write(cfg, result, lengths)
    assert files(cfg.data_dir) == before and siblings(cfg.data_dir) == []


def test_a_gguf_write_that_fails_midway_keeps_the_last_file(tiny_gguf, tmp_path, monkeypatch):
    out = tmp_path / "twin.gguf"
    with_metadata(tiny_gguf, out, {"tabtwin.persona": "First"})
    before = out.read_bytes()

    def cut(self, *args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(GGUFWriter, "write_tensors_to_file", cut)
    with pytest.raises(OSError, match="no space"):
        with_metadata(tiny_gguf, out, {"tabtwin.persona": "Second"})
    assert out.read_bytes() == before and siblings(out) == []


@pytest.mark.parametrize("adapter", ["missing", "empty", "config without lora_alpha", "weights not safetensors"])
def test_merge_refused_keeps_the_twin_beside_it(tiny_gguf, tmp_path, capsys, adapter):
    out = tmp_path / "twin.gguf"
    with_metadata(tiny_gguf, out, {"tabtwin.persona": "First"})
    before = out.read_bytes()
    folder = tmp_path / "adapter"
    if adapter != "missing":
        folder.mkdir()
    if adapter.startswith(("config", "weights")):
        config = {"r": 8} if adapter.startswith("config") else {"r": 8, "lora_alpha": 16}
        (folder / "adapter_config.json").write_text(json.dumps(config))
        (folder / "adapter_model.safetensors").write_bytes(b"not safetensors")
    assert main(["merge", str(tiny_gguf), str(folder), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tabtwin: error: ") and "Traceback" not in err, err
    assert out.read_bytes() == before and siblings(out) == []
