"""How tabtwin stores a model's tensors: one storage-policy table, and the one way a GGUF is written
(to a temporary file beside the target, renamed when complete).

numpy + gguf-py only (the build path composes twins with this; no torch, no Rust).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType
from gguf.quants import dequantize, quantize

from tabtwin.errors import TabtwinError
from tabtwin.gguf.read import field, open_gguf
from tabtwin.paths import replacing
from tabtwin.progress import bar

BLOCK = 32  # Q8_0 and Q4_0 quantize rows in blocks of 32 values
# Bumped whenever a storage rule below changes, so cached served copies and composed twins are made
# again (they carry it in their cache names) instead of being reused with the old rule.
STORAGE_REVISION = 3


@contextmanager
def gguf_writer(out: Path | str, arch: str) -> Iterator[GGUFWriter]:
    """A GGUFWriter on a temporary file beside `out`. When the block ends without an error, the queued
    header, metadata and tensors are written and the file is renamed onto `out`; otherwise `out` is
    left as it was and the temporary file is removed."""
    with replacing(out) as tmp:
        writer = GGUFWriter(tmp, arch)
        yield writer
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()


def copy_metadata(reader: GGUFReader, writer: GGUFWriter, skip: set[str] = frozenset()) -> None:
    """Copy every key except the ones GGUFWriter writes itself (and `skip`)."""
    for name, f in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture" or name in skip:
            continue
        vtype = f.types[0]
        sub_type = f.types[-1] if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(name, f.contents(), vtype, sub_type=sub_type)


# The storage choices (models.toml `quantization`, [export] quantization, a default model's served
# copy): what each matrix becomes. Vectors (norms, biases) always stay F32, and a matrix whose rows
# are not whole 32-blocks stays F32 under a quantized choice.
#
# "auto" is "q8_0" for every architecture: the core multiplies a Q8_0 matrix with activations quantized to 16 bits
# per block of 32, ~1e-5 from float, and its native and browser kernels agree bit for bit. Top-1 agreement with
# transformers' F32 logits on SmolLM2-135M (`tabtwin bench agreement`, 530 tokens): all-Q8_0 96.0%, as llama.cpp on
# the same file (95.7%).
#
# "q8_0-ffn" (attention and embeddings F16, the MLP Q8_0; 196 MB instead of 145 MB for SmolLM2-135M) stays on
# request. It was "auto" for llama while the core was candle's, whose 8-bit activations turned SmolLM2's large
# hidden-state outliers into a different answer ("What is the capital of France?" -> "L'Étoile" where F32 says
# Paris); with 16-bit activations the all-Q8_0 copy says Paris in both the native and the browser core.
F16_IN_Q8_0_FFN = re.compile(r"^(?!blk\.)|\.attn_")
KEEP_F16 = {
    "f32": lambda name: False,
    "f16": lambda name: True,
    "q8_0": lambda name: False,
    "q8_0-ffn": lambda name: bool(F16_IN_Q8_0_FFN.search(name)),
    "q4_0": lambda name: False,
}
QTYPE = {"q8_0": GGMLQuantizationType.Q8_0, "q8_0-ffn": GGMLQuantizationType.Q8_0, "q4_0": GGMLQuantizationType.Q4_0}
FILE_TYPES = {
    "f32": LlamaFileType.ALL_F32,
    "f16": LlamaFileType.MOSTLY_F16,
    "q8_0": LlamaFileType.MOSTLY_Q8_0,
    "q8_0-ffn": LlamaFileType.MOSTLY_Q8_0,
    "q4_0": LlamaFileType.MOSTLY_Q4_0,
}
# "auto" is the default choice (resolve_quantization).
QUANTIZATIONS = ("auto", *FILE_TYPES)


def resolve_quantization(quantization: str) -> str:
    if quantization == "auto":
        return "q8_0"
    if quantization not in FILE_TYPES:
        raise TabtwinError(f"unknown quantization {quantization!r}; use auto, {', '.join(FILE_TYPES)}")
    return quantization


def store(name: str, weights: np.ndarray, quantization: str):
    """(data, raw_dtype) for one tensor as `quantization` stores it (raw_dtype None: float data)."""
    if weights.ndim < 2 or quantization == "f32":
        return np.ascontiguousarray(weights, dtype=np.float32), None
    if KEEP_F16[quantization](name):
        return weights.astype(np.float16), None
    if weights.shape[-1] % BLOCK != 0:
        return np.ascontiguousarray(weights, dtype=np.float32), None
    qtype = QTYPE[quantization]
    return quantize(weights, qtype), qtype


def requantize(src: Path | str, dst: Path | str, progress: Callable[[str], None] = print, policy: str = "q8_0") -> Path:
    """Write `dst`: `src` with every tensor stored as `policy` says (a QUANTIZATIONS name; the served
    copies of the default models use "q8_0", "q8_0-ffn" or "f16": formats the core's kernels read in place)."""
    src, dst = Path(src), Path(dst)
    reader = open_gguf(src)
    with gguf_writer(dst, field(reader, "general.architecture")) as writer:
        copy_metadata(reader, writer, skip={"general.file_type", "general.quantization_version"})
        writer.add_file_type(FILE_TYPES[policy])
        writer.add_quantization_version(2)
        with bar(f"re-quantizing {src.name}", sum(int(t.n_bytes) for t in reader.tensors)) as shown:
            for i, t in enumerate(reader.tensors):
                data, raw = store(t.name, dequantize(t.data, t.tensor_type).astype(np.float32, copy=False), policy)
                writer.add_tensor(t.name, data, raw_dtype=raw)
                shown.update(int(t.n_bytes))
                if (i + 1) % 50 == 0 or i + 1 == len(reader.tensors):
                    progress(f"  quantized {i + 1}/{len(reader.tensors)} tensors")
    return dst


def with_metadata(src: Path | str, dst: Path | str, strings: dict[str, str]) -> Path:
    """Copy `src` to `dst` with string keys added or replaced; tensors are copied as they are."""
    src, dst = Path(src), Path(dst)
    reader = open_gguf(src)
    with gguf_writer(dst, field(reader, "general.architecture")) as writer:
        copy_metadata(reader, writer, skip=set(strings))
        for key, value in strings.items():
            writer.add_string(key, value)
        for t in reader.tensors:
            writer.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
    return dst
