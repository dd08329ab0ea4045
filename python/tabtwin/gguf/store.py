"""How tabtwin stores a model's tensors: one storage-policy table and the writers that apply it.

numpy + gguf-py only (the build path composes twins with this; no torch, no Rust).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType
from gguf.quants import dequantize, quantize

from tabtwin.errors import TabtwinError
from tabtwin.gguf.read import field, open_gguf
from tabtwin.progress import bar


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


def requantize(src: Path | str, dst: Path | str, progress: Callable[[str], None] = print, policy: str = "q8_0") -> Path:
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
    with bar(f"re-quantizing {src.name}", sum(int(t.n_bytes) for t in reader.tensors)) as shown:
        for i, t in enumerate(reader.tensors):
            weights = dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
            if weights.ndim >= 2 and keep_f16(t.name):
                writer.add_tensor(t.name, weights.astype(np.float16))
            elif weights.ndim >= 2 and weights.shape[-1] % 32 == 0:
                q8 = GGMLQuantizationType.Q8_0
                writer.add_tensor(t.name, quantize(weights, q8), raw_dtype=q8)
            else:
                writer.add_tensor(t.name, np.ascontiguousarray(weights))
            shown.update(int(t.n_bytes))
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


# The storage choices an export or a build-time merge may ask for (models.toml `quantization`,
# [export] quantization); "auto" picks by architecture (resolve_quantization).
QUANTIZATIONS = ("auto", "f32", "f16", "q8_0", "q8_0-ffn", "q4_0")
FILE_TYPES = {
    "f32": LlamaFileType.ALL_F32,
    "f16": LlamaFileType.MOSTLY_F16,
    "q8_0": LlamaFileType.MOSTLY_Q8_0,
    "q8_0-ffn": LlamaFileType.MOSTLY_Q8_0,
    "q4_0": LlamaFileType.MOSTLY_Q4_0,
}


def resolve_quantization(quantization: str, arch: str) -> str:
    if quantization == "auto":
        return "q8_0-ffn" if arch == "llama" else "q8_0"
    if quantization not in FILE_TYPES:
        raise TabtwinError(f"unknown quantization {quantization!r}; use auto, {', '.join(FILE_TYPES)}")
    return quantization


def store(name: str, weights: np.ndarray, quantization: str):
    """(data, raw_dtype) for one tensor: vectors stay F32, matrices as `quantization` says."""
    if weights.ndim < 2 or quantization == "f32":
        return np.ascontiguousarray(weights, dtype=np.float32), None
    if quantization == "f16" or (quantization == "q8_0-ffn" and POLICIES["q8_0-ffn"](name)):
        return weights.astype(np.float16), None
    if weights.shape[-1] % 32 != 0:  # Q8_0/Q4_0 blocks are 32 wide
        return np.ascontiguousarray(weights, dtype=np.float32), None
    qtype = GGMLQuantizationType.Q4_0 if quantization == "q4_0" else GGMLQuantizationType.Q8_0
    return quantize(weights, qtype), qtype
