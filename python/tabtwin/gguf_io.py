"""Reading, describing and re-quantizing GGUF files with numpy + gguf-py only.

This is the build path's view of a model: `python build.py` reads every header
here (never trusting typed facts) and must run without Rust or torch.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType
from gguf.quants import dequantize, quantize

from . import keys

# Mirrors wasm/core/src/arch.rs SUPPORTED (tests/python/test_keys.py compares them).
SUPPORTED_ARCHITECTURES = ("llama", "qwen2")


class GgufError(ValueError):
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
    needed = max((int(t.data_offset) + int(t.n_bytes) for t in reader.tensors), default=0)
    if needed > size:
        raise GgufError(f"{path}: truncated: the tensors need {needed} bytes but the file has {size}")
    return reader


def field(reader: GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def describe(path: Path | str) -> dict:
    """The facts `tabtwin inspect` prints and `models.json` carries, read from the header."""
    path = Path(path)
    reader = open_gguf(path)
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


def write_and_replace(writer: GGUFWriter, tmp: Path, dst: Path) -> Path:
    """Write the header, metadata and tensors queued in `writer` to `tmp`, then rename it to `dst`,
    so a crash never leaves a half-written model under the real name."""
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, dst)
    return dst


def copy_metadata(reader: GGUFReader, writer: GGUFWriter, skip: set[str] = frozenset()) -> None:
    """Copy every key except the ones GGUFWriter writes itself (and `skip`)."""
    for name, f in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture" or name in skip:
            continue
        vtype = f.types[0]
        sub_type = f.types[-1] if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(name, f.contents(), vtype, sub_type=sub_type)


# How `requantize` stores each matrix. candle multiplies a Q8_0 matrix by first
# quantizing the activations to 8 bits per block of 32; models whose hidden states
# carry large outliers (SmolLM2-135M: the attention inputs and the final hidden
# state) lose the answer that way ("What is the capital of France?" -> French
# gibberish, where F32 says Paris). "q8_0-ffn" keeps those matrices in F16 (candle
# multiplies F16 matrices in f32) and puts only the MLP, most of the weights, in Q8_0.
POLICIES = {
    "q8_0": lambda name: False,
    "q8_0-ffn": lambda name: not name.startswith("blk.") or ".attn_" in name,
}


def requantize(src: Path | str, dst: Path | str, progress: Callable[[str], None] = print,
               policy: str = "q8_0") -> Path:
    """Write `dst`: `src` with its matrices in Q8_0 (candle's simd128 fast path in wasm).

    `policy` names which matrices stay F16 instead (see POLICIES). Vectors (norms,
    biases) stay F32; a matrix whose rows are not a multiple of 32 stays F32 too.
    Written to a temporary name and renamed, so a crash leaves nothing half.
    """
    keep_f16 = POLICIES[policy]
    src, dst = Path(src), Path(dst)
    reader = open_gguf(src)
    arch = field(reader, "general.architecture")
    tmp = dst.with_name(dst.name + ".part")
    writer = GGUFWriter(tmp, arch)
    copy_metadata(reader, writer, skip={"general.file_type", "general.quantization_version"})
    writer.add_file_type(LlamaFileType.MOSTLY_Q8_0)
    writer.add_quantization_version(2)
    for i, t in enumerate(reader.tensors):
        weights = dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
        if weights.ndim >= 2 and keep_f16(t.name):
            writer.add_tensor(t.name, weights.astype(np.float16))
        elif weights.ndim >= 2 and weights.shape[-1] % 32 == 0:
            writer.add_tensor(t.name, quantize(weights, GGMLQuantizationType.Q8_0),
                              raw_dtype=GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(t.name, np.ascontiguousarray(weights))
        if (i + 1) % 50 == 0 or i + 1 == len(reader.tensors):
            progress(f"  quantized {i + 1}/{len(reader.tensors)} tensors")
    return write_and_replace(writer, tmp, dst)


def with_metadata(src: Path | str, dst: Path | str, strings: dict[str, str]) -> Path:
    """Copy `src` to `dst` with string keys added or replaced; tensors are copied as they are."""
    src, dst = Path(src), Path(dst)
    reader = open_gguf(src)
    tmp = dst.with_name(dst.name + ".part")
    writer = GGUFWriter(tmp, field(reader, "general.architecture"))
    copy_metadata(reader, writer, skip=set(strings))
    for key, value in strings.items():
        writer.add_string(key, value)
    for t in reader.tensors:
        writer.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
    return write_and_replace(writer, tmp, dst)
