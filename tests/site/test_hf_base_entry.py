"""A models.toml twin whose base comes from the hub, `base = "hf:ORG/NAME@REVISION:FILE.gguf"`: checked
where models.toml is read, and fetched once by the build from a stand-in hub on loopback."""

from __future__ import annotations

import pytest
from stand_in_hub import stand_in_hub

from tabtwin.site import registry
from tabtwin.site.compose import base_file


def write_models(folder, base: str):
    adapter = folder / "twin.adapter"
    adapter.mkdir(exist_ok=True)
    (adapter / "adapter_model.safetensors").write_bytes(b"")
    path = folder / "models.toml"
    path.write_text(f'[[model]]\nid = "twin"\nlabel = "Twin"\nbase = "{base}"\nadapter = "twin.adapter"\n')
    return path


@pytest.mark.parametrize(
    "base, message",
    [
        ("hf:ada/base", "names no revision: pin one"),
        ("hf:ada/base@v1", "a base from the hub names its GGUF file: hf:ORG/NAME@REVISION:FILE"),
        ("hf:ada/base@v1:model.safetensors", "names its GGUF file"),
    ],
)
def test_a_hub_base_must_pin_a_revision_and_name_a_gguf(tmp_path, base, message):
    with pytest.raises(registry.RegistryError, match=rf"models\.toml:4: .*{message}"):
        registry.load(write_models(tmp_path, base))


def test_the_build_fetches_a_hub_base_once(tmp_path, monkeypatch, tiny_gguf):
    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path / "cache"))
    with stand_in_hub(monkeypatch) as hub:
        commit = hub.add("ada/base-gguf", {"base.gguf": tiny_gguf.read_bytes()})
        spec = f"hf:ada/base-gguf@{commit}:base.gguf"
        (entry,) = registry.load(write_models(tmp_path, spec))
        assert entry.base == spec
        path = base_file(entry.base, tmp_path, log=lambda *_: None)
        assert path.read_bytes() == tiny_gguf.read_bytes()
        asked = len(hub.requests)
        assert base_file(entry.base, tmp_path, log=lambda *_: None) == path
        assert len(hub.requests) == asked
