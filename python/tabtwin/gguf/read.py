"""Reading GGUF files: what a header says, through the core; tensors, with gguf-py.

The core is the one reader of model files (`tabtwin.host` runs it with wasmtime, so the site build
still loads no native code): `describe` is the core's facts of a file and `open_gguf` lets only
a file the core accepts reach gguf-py, whose reader the writers (`merge`, `store`, `export`) use
for the tensors. Nothing here re-checks a header or re-states a rule of the core.
"""

from __future__ import annotations

from pathlib import Path

from gguf import GGUFReader, LlamaFileType

from tabtwin import host
from tabtwin.errors import TabtwinError


class GgufError(TabtwinError):
    """A GGUF file that cannot be used, with the file named in the message."""


def __getattr__(name: str):
    # The chat architectures the core runs (wasm/core/src/arch.rs), asked of the core when first used.
    if name == "SUPPORTED_ARCHITECTURES":
        return tuple(host.architectures()["chat"])
    raise AttributeError(name)


def open_gguf(path: Path | str) -> GGUFReader:
    """gguf-py's reader of a file the core accepts (its header checked by the core first)."""
    path = Path(path)
    facts(path)
    return GGUFReader(path)


def facts(path: Path | str) -> dict:
    """The core's facts of a file (`tabtwin.host.facts`); a file it refuses is a GgufError."""
    try:
        return host.facts(path)
    except host.HostError as exc:
        raise GgufError(str(exc)) from None


def field(reader: GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def describe(path: Path | str) -> dict:
    """The facts `tabtwin inspect` prints and `models.json` carries: the core's (`facts`), with the
    file's name and size, `supported` (a chat model the core runs) and the names gguf-py gives."""
    path = Path(path)
    info = facts(path)
    return {
        "file": str(path),
        "bytes": path.stat().st_size,
        **info,
        "supported": info["kind"] == "chat",
        "quantization": dict(info["quantization"]),
        "file_type": _file_type_name(info["file_type"]),
    }


def _file_type_name(value) -> str | None:
    if value is None:
        return None
    try:
        return LlamaFileType(int(value)).name.removeprefix("MOSTLY_")
    except ValueError:
        return str(value)
