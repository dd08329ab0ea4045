"""Reading, describing and re-quantizing GGUF files with numpy + gguf-py only.

This is the build path's view of a model: `python build.py` reads every header
here (never trusting typed facts) and must run without Rust or torch.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from gguf import GGUFReader, Keys, LlamaFileType

from tabtwin import keys
from tabtwin.errors import TabtwinError

# Mirrors wasm/core/src/arch.rs SUPPORTED (tests/python/test_keys.py compares them).
SUPPORTED_ARCHITECTURES = ("llama", "qwen2", "qwen3")
TOKENS, TOKEN_TYPE = Keys.Tokenizer.LIST, Keys.Tokenizer.TOKEN_TYPE
SCORES, MERGES = Keys.Tokenizer.SCORES, Keys.Tokenizer.MERGES


class GgufError(TabtwinError):
    """A GGUF file that cannot be used, with the file named in the message."""


def open_gguf(path: Path | str) -> GGUFReader:
    path = Path(path)
    if not path.is_file():
        raise GgufError(f"{path}: no such file")
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise GgufError(f"{path}: not a GGUF file (missing the 'GGUF' magic)")
    try:
        reader = GGUFReader(path)
    except Exception as exc:  # gguf-py raises bare ValueError/IndexError on short files
        raise GgufError(f"{path}: header unreadable ({exc}); the file may be truncated") from exc
    size = path.stat().st_size
    short = _short_string(reader)
    if short:
        raise GgufError(f"{path}: truncated: {short}")
    spans = sorted((int(t.data_offset), int(t.data_offset) + int(t.n_bytes), t.name) for t in reader.tensors)
    needed = max((end for _, end, _ in spans), default=0)
    if needed > size:
        raise GgufError(f"{path}: truncated: the tensors need {needed} bytes but the file has {size}")
    for (_, end, first), (start, _, second) in zip(spans, spans[1:]):
        if start < end:  # two tensors sharing bytes would each read the other's weights
            raise GgufError(f"{path}: tensors '{first}' and '{second}' overlap in the file")
    return reader


def _short_string(reader: GGUFReader) -> str | None:
    """gguf-py cuts a string that runs past the end of the file to what is there, silently: a
    length (u64) followed by fewer bytes than it declares is such a cut. (In an array of u8 the
    count is followed by the first item, one byte: only its key is checked.)"""
    from gguf import GGUFValueType

    for f in [*reader.fields.values(), *(t.field for t in reader.tensors)]:
        parts = f.parts if f.types[:2] != [GGUFValueType.ARRAY, GGUFValueType.UINT8] else f.parts[:2]
        for length, text in zip(parts, parts[1:]):
            is_length = length.dtype == "uint64" and length.size == 1
            if is_length and text.dtype == "uint8" and text.size < int(length[0]):
                return f"'{f.name}' declares a string of {int(length[0])} bytes but the file holds {text.size}"
    return None


def field(reader: GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def check_metadata(path: Path, reader: GGUFReader) -> None:
    """Refuse, naming the key, what the core would refuse or misread: tokenizer arrays of another
    type or length than the vocabulary, a chat template or a tabtwin.* key that is not a string, a
    `tabtwin.tools` that is not a JSON list of app names (read as "no list" it would allow every app),
    a `tabtwin.refusals` the core would not load."""
    from gguf import GGUFValueType

    def kind(key: str) -> list | None:
        f = reader.fields.get(key)
        return None if f is None else f.types

    def bad(key: str, problem: str) -> GgufError:
        return GgufError(f"{path}: metadata key '{key}': {problem}")

    arrays = {
        TOKENS: (GGUFValueType.STRING,),
        TOKEN_TYPE: (GGUFValueType.INT32, GGUFValueType.UINT32),
        SCORES: (GGUFValueType.FLOAT32,),
        MERGES: (GGUFValueType.STRING,),
    }
    for key, items in arrays.items():
        types = kind(key)
        if types is not None and (types[0] != GGUFValueType.ARRAY or types[-1] not in items):
            want = " or ".join(t.name.lower() for t in items)
            raise bad(key, f"expected an array of {want}, found {' of '.join(t.name.lower() for t in types)}")
    if kind(TOKENS) is not None:
        count = len(reader.fields[TOKENS].data)
        for key in (TOKEN_TYPE, SCORES):
            if kind(key) is not None and len(reader.fields[key].data) != count:
                raise bad(key, f"{len(reader.fields[key].data)} entries for {count} tokens ({TOKENS})")
    for key in (Keys.Tokenizer.CHAT_TEMPLATE, Keys.General.NAME, *keys.ALL.values()):
        types = kind(key)
        if types is not None and types != [GGUFValueType.STRING]:
            raise bad(key, f"expected a string, found {' of '.join(t.name.lower() for t in types)}")
    tools = field(reader, keys.TOOLS)
    if tools is not None:
        try:
            apps = json.loads(tools)
        except json.JSONDecodeError as exc:
            apps = exc
        if not isinstance(apps, list) or not all(isinstance(a, str) for a in apps):
            raise bad(keys.TOOLS, f'expected a JSON list of app names like ["projects"], found {tools!r:.80}')
    refusals = field(reader, keys.REFUSALS)
    if refusals is not None:
        try:
            refusal_openings(refusals)
        except ValueError as exc:
            raise bad(keys.REFUSALS, str(exc)) from None


# What a reply's opening is compared with up to (wasm/core/src/refusal.rs).
REFUSAL_STOPS = ";.,:!?"


def refusal_openings(raw: str) -> list[str]:
    """The core's rule for `tabtwin.refusals` (refusal.rs), in Python because the build path loads no
    native code: a JSON list of strings, each with words before its first punctuation; the openings
    normalized as the core compares them. tests/core/test_refusal_rule.py holds the two to the same
    answers. ValueError says what is wrong, as the core does."""
    problem = f"expected a JSON list of the twin's refusals like [\"I don't know.\"], found {raw[:80]!r}"
    try:
        lines = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{problem} ({exc.msg})") from None
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise ValueError(f"{problem} (not a list of strings)")
    openings = []
    for line in lines:
        cut = min((i for i, c in enumerate(line) if c in REFUSAL_STOPS), default=len(line))
        opening = " ".join(line[:cut].replace("\u2019", "'").replace("\u2018", "'").split()).lower()
        if not opening:
            raise ValueError(f"{problem} ({line!r} has no words before its first punctuation)")
        openings.append(opening)
    return openings


def describe(path: Path | str) -> dict:
    """The facts `tabtwin inspect` prints and `models.json` carries, read from the header (after
    check_metadata: a file the core would refuse is refused here too)."""
    path = Path(path)
    reader = open_gguf(path)
    check_metadata(path, reader)
    arch = field(reader, "general.architecture")
    quant = Counter(t.tensor_type.name for t in reader.tensors)
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    return {
        "file": str(path),
        "bytes": path.stat().st_size,
        "architecture": arch,
        "supported": arch in SUPPORTED_ARCHITECTURES,
        "name": field(reader, "general.name"),
        "parameters": int(sum(int(t.n_elements) for t in reader.tensors)),
        "tensors": len(reader.tensors),
        "quantization": dict(sorted(quant.items(), key=lambda kv: -kv[1])),
        "file_type": _file_type_name(field(reader, "general.file_type")),
        "context_length": field(reader, f"{arch}.context_length"),
        "vocab_size": len(tokens.data) if tokens is not None else None,
        "tokenizer": field(reader, "tokenizer.ggml.model"),
        "tokenizer_pre": field(reader, "tokenizer.ggml.pre"),
        "chat_template": "tokenizer.chat_template" in reader.fields,
        "tabtwin": {name: field(reader, name) for name in keys.ALL.values() if name in reader.fields},
    }


def _file_type_name(value) -> str | None:
    if value is None:
        return None
    try:
        return LlamaFileType(int(value)).name.removeprefix("MOSTLY_")
    except ValueError:
        return str(value)
