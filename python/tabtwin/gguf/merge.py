"""`tabtwin merge`: a twin GGUF from a base GGUF and a LoRA adapter, with numpy + gguf-py only.

Each LoRA pair adds  W' = W + (alpha / r) * B @ A  to the base's dequantized matrix.
llama.cpp stores llama's q/k rows in its interleaved RoPE order, so the delta of
attn_q/attn_k gets the same row permutation the converter applies to the weights
(convert.permute_for_llama; qwen2 needs none). The site build runs this merge from a
cached base and a committed adapter, so it must import no torch and no native code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFWriter
from gguf.quants import dequantize

from tabtwin import keys
from tabtwin.errors import TabtwinError
from tabtwin.gguf.convert import gguf_name, permute_for_llama
from tabtwin.gguf.read import field, open_gguf
from tabtwin.gguf.sampling import write as write_sampling
from tabtwin.gguf.store import FILE_TYPES, copy_metadata, gguf_writer, resolve_quantization, store
from tabtwin.inputs import read_text
from tabtwin.paths import sha256_file
from tabtwin.progress import bar

FORMAT_VERSION = "1"
TWIN_JSON = "tabtwin.json"  # beside a portable adapter: the metadata a merge writes into the twin


def read_json_object(path: Path, what: str) -> dict:
    """A JSON object from `path`, or a TabtwinError naming the file (and the line of a syntax error)."""
    text = read_text(path, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TabtwinError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}; {what})") from None
    if not isinstance(data, dict):
        raise TabtwinError(f"{path}: expected a JSON object ({what})")
    return data


def lora_deltas(adapter_dir: Path, reader: GGUFReader) -> dict[str, np.ndarray]:
    """GGUF tensor name -> float32 delta (scale * B @ A, rows permuted for llama q/k)."""
    from safetensors.numpy import load_file

    adapter_dir = Path(adapter_dir)
    config_path = adapter_dir / "adapter_config.json"
    config = read_json_object(config_path, "a LoRA adapter's config (peft's adapter_config.json)")
    if config.get("peft_type", "LORA") != "LORA" or config.get("fan_in_fan_out") or config.get("use_dora"):
        raise TabtwinError(f"{adapter_dir}: only plain LoRA adapters can be merged (not DoRA / fan-in-fan-out)")
    for key in ("r", "lora_alpha"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise TabtwinError(f"{config_path}: key '{key}' must be a positive number (got {value!r})")
    r, alpha = config["r"], config["lora_alpha"]
    scale = alpha / (r**0.5) if config.get("use_rslora") else alpha / r
    try:
        weights = load_file(str(adapter_dir / "adapter_model.safetensors"))
    except Exception as exc:  # safetensors raises its own error types on a cut or foreign file
        raise TabtwinError(f"{adapter_dir / 'adapter_model.safetensors'}: not a safetensors file ({exc})") from None
    arch = field(reader, "general.architecture")
    heads = {
        "attn_q": field(reader, f"{arch}.attention.head_count"),
        "attn_k": field(reader, f"{arch}.attention.head_count_kv"),
    }
    deltas = {}
    for key, a in weights.items():
        if ".lora_A." not in key:
            continue
        b = weights.get(key.replace(".lora_A.", ".lora_B."))
        if b is None:
            raise TabtwinError(f"{adapter_dir}: {key!r} has no matching lora_B weight")
        hf = key.removeprefix("base_model.model.").replace(".lora_A.weight", ".weight")
        name = gguf_name(hf)
        if name is None:
            raise TabtwinError(f"{adapter_dir}: no GGUF tensor for adapted weight {hf!r}")
        delta = scale * (b.astype(np.float32) @ a.astype(np.float32))
        kind = name.split(".")[2]
        if arch == "llama" and kind in heads:
            delta = permute_for_llama(delta, int(heads[kind]))
        deltas[name] = delta
    if not deltas:
        raise TabtwinError(f"{adapter_dir}: the adapter holds no LoRA weights")
    return deltas


def write_twin(
    reader: GGUFReader,
    deltas: dict[str, np.ndarray],
    out: Path,
    quantization: str,
    metadata: dict[str, str],
    name: str | None,
    log: Callable[[str], None] = print,
    tie_embeddings: bool = False,
    sampling: dict | None = None,
) -> Path:
    """`reader`'s model plus `deltas`, stored as `quantization`, with `metadata` strings; atomic.

    `tie_embeddings` writes one matrix for the token embeddings and the output projection, as the
    model was trained (Qwen2.5-0.5B: tie_word_embeddings = true) although its GGUF carries two
    quantized copies. The output copy is kept (the more precisely stored one in the files we
    serve: Q8_0 against the embedding's Q5_0), so the twin is ~145 MB smaller in the download
    and in the tab; the core projects with token_embd when output.weight is absent."""
    out = Path(out)
    arch = field(reader, "general.architecture")
    quantization = resolve_quantization(quantization)
    tensors = {t.name: t for t in reader.tensors}
    if tie_embeddings:
        tensors = _tied(tensors, deltas, reader)
    missing = set(deltas) - set(tensors)
    if missing:
        raise TabtwinError(
            f"the adapter changes tensors the base does not have: {sorted(missing)[:4]}; is it an adapter of this base?"
        )
    with gguf_writer(out, arch) as writer:
        skip = {"general.file_type", "general.quantization_version", *metadata}
        if name:
            skip.add("general.name")
        copy_metadata(reader, writer, skip=skip)
        if name:
            writer.add_name(name)
        writer.add_file_type(FILE_TYPES[quantization])
        writer.add_quantization_version(2)
        for key, value in metadata.items():
            writer.add_string(key, value)
        write_sampling(writer, sampling or {})
        with bar(f"merging {out.name}", sum(int(t.n_bytes) for t in tensors.values())) as progress:
            for tensor_name, t in tensors.items():
                _merge_one(writer, tensor_name, t, deltas, quantization)
                progress.update(int(t.n_bytes))
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {quantization}, {len(deltas)} matrices merged)")
    return out


def _tied(tensors: dict, deltas: dict[str, np.ndarray], reader: GGUFReader) -> dict:
    """The tensor table with output.weight's values written as token_embd and no output.weight."""
    embd, output = tensors.get("token_embd.weight"), tensors.get("output.weight")
    if embd is None or output is None:
        raise TabtwinError(
            f"{reader.data.filename}: tie_embeddings needs token_embd.weight and output.weight; "
            "this model already has one matrix for both"
        )
    if list(embd.shape) != list(output.shape):
        raise TabtwinError(
            f"{reader.data.filename}: token_embd {list(embd.shape)} and output {list(output.shape)} "
            "differ in shape, so they cannot be one matrix"
        )
    if {"token_embd.weight", "output.weight"} & set(deltas):
        raise TabtwinError("the adapter changes the embeddings or the output matrix; they cannot be tied")
    tied = {name: (output if name == "token_embd.weight" else t) for name, t in tensors.items()}
    del tied["output.weight"]
    return tied


def _merge_one(writer: GGUFWriter, name: str, t, deltas: dict[str, np.ndarray], quantization: str) -> None:
    weights = dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
    if name in deltas:
        if deltas[name].shape != weights.shape:
            raise TabtwinError(f"{name}: adapter delta {deltas[name].shape} does not fit the base's {weights.shape}")
        weights = weights + deltas[name]
    data, raw = store(name, weights, quantization)
    writer.add_tensor(name, data, raw_dtype=raw)


def merge(
    base_gguf: Path,
    adapter_dir: Path,
    out: Path,
    quantization: str = "auto",
    metadata: dict[str, str] | None = None,
    name: str | None = None,
    check_base: bool = True,
    log: Callable[[str], None] = print,
    tie_embeddings: bool = False,
) -> Path:
    """`tabtwin merge`: a twin GGUF from a base GGUF and a LoRA adapter, numpy only.

    A portable adapter (from `tabtwin export`) carries tabtwin.json: its metadata
    (system prompt, persona, tools, provenance) and the sha256 of the base it was
    trained on, which must match `base_gguf` unless check_base is False.
    """
    adapter_dir = Path(adapter_dir)
    if not Path(base_gguf).is_file():
        raise TabtwinError(f"{base_gguf}: no such base GGUF")
    if not (adapter_dir / "adapter_model.safetensors").is_file():
        raise TabtwinError(f"{adapter_dir}: no adapter_model.safetensors (a LoRA adapter folder is expected)")
    twin = (
        read_json_object(adapter_dir / TWIN_JSON, "a portable adapter's record")
        if (adapter_dir / TWIN_JSON).exists()
        else {}
    )
    if check_base and twin.get("base_sha256"):
        if sha256_file(Path(base_gguf)) != twin["base_sha256"]:
            raise TabtwinError(
                f"{base_gguf} is not the base {adapter_dir} was trained on "
                f"({twin.get('base_file')}, sha256 {twin['base_sha256'][:12]}...); "
                "pass --no-check-base to merge anyway"
            )
    meta = dict(twin.get("metadata", {}))
    meta.update(metadata or {})
    name = name or meta.get(keys.PERSONA)
    reader = open_gguf(base_gguf)
    deltas = lora_deltas(adapter_dir, reader)
    sampling = twin.get("sampling", {})  # the recommended decoding the twin was exported with
    return write_twin(
        reader, deltas, out, quantization, meta, name, log, tie_embeddings=tie_embeddings, sampling=sampling
    )
