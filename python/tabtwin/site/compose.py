"""A models.toml twin given as `base` + `adapter`: composed once with `tabtwin merge`.

A repository commits the adapter (megabytes), never the twin (hundreds of MB);
the build merges it into the base GGUF with numpy and keeps the result in the
cache, keyed by the adapter's bytes and the base file's identity, so the next
build finds it and does no model work.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tabtwin.catalog import defaults as default_models
from tabtwin.catalog import hf
from tabtwin.errors import TabtwinError
from tabtwin.gguf.store import STORAGE_REVISION
from tabtwin.paths import cache_dir

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "tabtwin.json")


def base_file(spec: str, relative_to: Path, log=print) -> Path:
    """The base GGUF an adapter was trained on: a default model id (its original PyPI file,
    as training used it), a path relative to models.toml, or a GGUF from the hub
    (`hf:ORG/NAME@REVISION:FILE.gguf`, fetched once into the cache)."""
    if hf.is_hf(spec):
        return hf.fetch(spec, log)
    path = (relative_to / spec).resolve()
    if path.suffix == ".gguf" or "/" in spec:
        if not path.is_file():
            raise TabtwinError(f"base {spec!r}: no such file ({path})")
        return path
    try:
        return default_models.unpack_source(default_models.find(spec), log)
    except KeyError:
        known = ", ".join(m.id for m in default_models.DEFAULT_MODELS)
        raise TabtwinError(f"base {spec!r} is neither a .gguf path nor a default model id ({known})") from None


def composed_path(model_id: str, base: Path, adapter: Path, quantization: str, tie_embeddings: bool) -> Path:
    stat = base.stat()
    tied = "tied|" if tie_embeddings else ""
    quantization = f"{quantization}|r{STORAGE_REVISION}"
    digest = hashlib.sha256(f"{quantization}|{tied}{base.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    for name in ADAPTER_FILES:
        file = adapter / name
        if file.is_file():
            digest.update(name.encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return cache_dir() / "twins" / f"{model_id}-{digest.hexdigest()[:16]}.gguf"


def compose(
    model_id: str,
    base_spec: str,
    adapter: Path,
    quantization: str,
    relative_to: Path,
    log=print,
    tie_embeddings: bool = False,
) -> Path:
    """The twin GGUF for base + adapter, merged now or found in the cache."""
    from tabtwin.gguf.merge import merge

    if not (adapter / "adapter_model.safetensors").is_file():
        raise TabtwinError(
            f"adapter {adapter}: no adapter_model.safetensors (a folder from `tabtwin export` is expected)"
        )
    base = base_file(base_spec, relative_to, log)
    out = composed_path(model_id, base, adapter, quantization, tie_embeddings)
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    log(f"{model_id}: composing {adapter.name} + {base.name} (tabtwin merge, numpy)")
    merge(base, adapter, out, quantization=quantization, log=lambda m: log(f"  {m}"), tie_embeddings=tie_embeddings)
    return out
