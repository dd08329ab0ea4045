"""`tabtwin export CONFIG` and `tabtwin merge BASE.gguf ADAPTER OUT.gguf`: one self-describing twin GGUF.

The merge is numpy + gguf-py only (no torch): each LoRA pair adds
    W' = W + (alpha / r) * B @ A
to the base GGUF's dequantized matrix. llama.cpp stores llama's q/k rows in its
interleaved RoPE order, so the delta of attn_q/attn_k gets the same row permutation
the converter applies to the weights (convert.permute_for_llama; qwen2 needs none).
Everything else in the base file (tokenizer, chat template, hyperparameters) is
copied, and the tabtwin.* keys are added: system prompt, persona, allowed apps,
provenance. The site build can run this merge from a cached base and a committed
adapter, so a repository never has to hold a full model.

Storage (`[export] quantization`): "auto" is "q8_0" (see gguf.store); "f32", "f16",
"q8_0-ffn" and "q4_0" on request.

`tabtwin export` then verifies the file: the native core (the browser's code)
loads it, uses the trained system prompt, and its next-token logits on a few
prompts are compared with the merged model in transformers (numbers reported).
Only then do the GGUF, its portable adapter, its report (and Modelfile) replace the
previous ones, all together: a failed or unverified export changes nothing (issue #18).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tabtwin import keys
from tabtwin.errors import TabtwinError
from tabtwin.gguf.merge import FORMAT_VERSION, TWIN_JSON, lora_deltas, write_twin
from tabtwin.gguf.read import field, open_gguf
from tabtwin.gguf.store import resolve_quantization
from tabtwin.paths import replacing_together, shown


def twin_metadata(cfg, base, adapter_sha: str, train_report: dict, quantization: str) -> dict[str, str]:
    provenance = {
        "base": base.spec,
        "base_file": base.name,
        "base_sha256": base.sha256,
        "adapter_sha256": adapter_sha,
        "dataset_sha256": train_report.get("dataset_sha256"),
        "hyperparameters": train_report.get("hyperparameters"),
        "steps": train_report.get("steps"),
        "best_epoch": train_report.get("best_epoch"),
        "best_holdout_loss": train_report.get("best_holdout_loss"),
        "quantization": quantization,
    }
    metadata = {
        keys.SYSTEM_PROMPT: cfg.system_prompt,
        keys.PERSONA: cfg.export.persona,
        keys.TOOLS: json.dumps(list(cfg.data.apps)),
        keys.PROVENANCE: json.dumps(provenance, separators=(",", ":"), sort_keys=True),
        keys.FORMAT_VERSION: FORMAT_VERSION,
    }
    if cfg.data.dont_know:  # the refusals it was trained to give: the core marks a reply that opens like one
        metadata[keys.REFUSALS] = json.dumps(list(cfg.data.dont_know), ensure_ascii=False)
    return metadata


def export(cfg, verify: bool = True, log: Callable[[str], None] = print) -> dict:
    """Merge, store and verify the twin. Its GGUF, portable adapter folder, export report (and Modelfile)
    are written under temporary names beside their places and renamed into them together only once the
    GGUF is verified, so a failure anywhere leaves the previous twin and everything beside it as it was."""
    from tabtwin.finetune.base import hf_dir, resolve_base
    from tabtwin.finetune.train import REPORT
    from tabtwin.paths import sha256_file

    adapter = cfg.adapter_dir
    if not (adapter / "adapter_model.safetensors").is_file():
        raise TabtwinError(f"{adapter}: no trained adapter; run `tabtwin train {cfg.path}` first")
    report_path = cfg.train.output / REPORT
    train_report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    base = resolve_base(cfg.train.base)
    if train_report.get("base_sha256") not in (None, base.sha256):
        raise TabtwinError(f"{adapter} was trained on another base than {cfg.train.base} (sha256 differs)")
    out = cfg.export_path
    portable, report_file = out.with_name(out.stem + ".adapter"), out.with_name(out.stem + ".export.json")
    outputs = [out, portable, report_file] + ([modelfile_path(out)] if cfg.export.ollama else [])
    adapter_sha = sha256_file(adapter / "adapter_model.safetensors")

    with replacing_together(*outputs) as (gguf_tmp, portable_tmp, report_tmp, *modelfile_tmp):
        if base.gguf is not None:
            reader = open_gguf(base.gguf)  # parsing a 50k-token vocabulary takes seconds: once per export
            template = field(reader, "tokenizer.chat_template")
            quantization = resolve_quantization(cfg.export.quantization)
            meta = twin_metadata(cfg, base, adapter_sha, train_report, quantization)
            write_portable_adapter(cfg, base, adapter, portable_tmp, quantization, adapter_sha, train_report)
            # Merge from the portable (float16) adapter, exactly as `tabtwin merge` and the site build do,
            # so the twin evaluated here is byte for byte the twin a site composes from base + adapter.
            log(f"merging the portable adapter into {base.gguf.name} (numpy)")
            deltas = lora_deltas(portable_tmp, reader)
            write_twin(
                reader, deltas, gguf_tmp, quantization, meta, cfg.export.persona, log, sampling=cfg.export.sampling
            )
        else:
            quantization, template = export_from_hf(cfg, base, adapter, adapter_sha, train_report, gguf_tmp, log)
            write_portable_adapter(cfg, base, adapter, portable_tmp, quantization, adapter_sha, train_report)
        result = {
            "gguf": shown(out),
            "bytes": gguf_tmp.stat().st_size,
            "quantization": quantization,
            "adapter": shown(portable),
            "base": base.spec,
            "base_sha256": base.sha256,
        }
        if modelfile_tmp:
            modelfile_tmp[0].write_text(modelfile(out, template, cfg.system_prompt), encoding="utf-8")
            result["modelfile"] = shown(modelfile_path(out))
        if verify:
            # against the weights the twin was merged from (the float16 portable adapter for a GGUF base)
            merged_from = portable_tmp if base.gguf is not None else adapter
            result["verification"] = verify_export(cfg, gguf_tmp, hf_dir(base, log), merged_from, log, shown_as=out)
        report_tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    log(f"twin: {out}")
    log(f"portable adapter: {portable}")
    if cfg.export.ollama:
        log(f"ollama Modelfile: {result['modelfile']}")
    log(f"export report: {report_file}")
    return result


def export_from_hf(cfg, base, adapter, adapter_sha, train_report, out, log) -> tuple[str, str | None]:
    """A Hugging Face base: merge in torch, write F32 with the tokenizer of `[export] tokenizer_gguf`, store."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from tabtwin.finetune.base import MODEL_TYPES
    from tabtwin.gguf.convert import DecoderConfig, write_gguf

    tokenizer_gguf = cfg.export.tokenizer_gguf
    if tokenizer_gguf is None or not tokenizer_gguf.is_file():
        raise TabtwinError(
            f"[export] tokenizer_gguf ({tokenizer_gguf or 'not set'}) must be a GGUF of the same base "
            "model when the base is a Hugging Face directory: the twin carries its tokenizer and "
            "chat template"
        )
    model = AutoModelForCausalLM.from_pretrained(base.hf_dir, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    arch = MODEL_TYPES.get(merged.config.model_type, merged.config.model_type)  # gemma3_text -> gemma3
    state = {k: v.detach().cpu().numpy() for k, v in merged.state_dict().items()}
    if merged.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    quantization = resolve_quantization(cfg.export.quantization)
    meta = twin_metadata(cfg, base, adapter_sha, train_report, quantization)
    f32 = out.with_name(out.name + ".f32.part")
    write_gguf(state, DecoderConfig.from_hf(merged.config, arch), tokenizer_gguf, f32, qtype="F32")
    try:
        reader = open_gguf(f32)
        template = field(reader, "tokenizer.chat_template")
        write_twin(reader, {}, out, quantization, meta, cfg.export.persona, log, sampling=cfg.export.sampling)
    finally:
        f32.unlink(missing_ok=True)
    return quantization, template


def write_portable_adapter(
    cfg, base, adapter: Path, folder: Path, quantization: str, adapter_sha: str, train_report: dict
) -> Path:
    """<twin>.adapter/ (made at `folder`, which must not exist): the LoRA weights, what `tabtwin merge`
    needs to rebuild the same twin, and the training record (report with the losses, loss curve, config)."""
    folder.mkdir()
    shutil.copy2(adapter / "adapter_config.json", folder / "adapter_config.json")
    # float16 halves what a repository carries; the rounding is far below the twin's Q8_0 storage error
    from safetensors.numpy import load_file, save_file

    weights = load_file(str(adapter / "adapter_model.safetensors"))
    save_file({k: v.astype(np.float16) for k, v in weights.items()}, str(folder / "adapter_model.safetensors"))
    # the training record travels with the weights (a repository commits this folder)
    for source, name in (
        (cfg.train.output / "train_report.json", "train_report.json"),
        (cfg.train.output / "loss_curve.png", "loss_curve.png"),
        (cfg.path, "train_config.toml"),
    ):
        if source.is_file():
            shutil.copy2(source, folder / name)
    twin = {
        "base_file": base.name,
        "base_sha256": base.sha256,
        "quantization": quantization,
        "metadata": twin_metadata(cfg, base, adapter_sha, train_report, quantization),
        "sampling": dict(cfg.export.sampling),
    }
    (folder / TWIN_JSON).write_text(json.dumps(twin, indent=1, ensure_ascii=False) + "\n")
    return folder


def modelfile_path(gguf: Path) -> Path:
    return gguf.with_name(gguf.stem + ".Modelfile")


def modelfile(gguf: Path, chat_template: str | None, system_prompt: str) -> str:
    """An Ollama Modelfile for `gguf`, to lie beside it (ChatML bases only: SmolLM2, Qwen2.5)."""
    if "<|im_start|>" not in (chat_template or ""):
        raise TabtwinError(f"{gguf}: the Modelfile writer knows the ChatML format only")
    return (
        f"FROM ./{gguf.name}\n"
        'TEMPLATE """{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
        "{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}"
        '<|im_start|>assistant\n{{ .Response }}<|im_end|>\n"""\n'
        f'SYSTEM """{system_prompt}"""\n'
        'PARAMETER stop "<|im_end|>"\nPARAMETER stop "<|im_start|>"\nPARAMETER temperature 0\n'
    )


# --- verification --------------------------------------------------------------------------------


def verification_prompts(cfg, limit: int = 4) -> list[list[dict]]:
    """A few real conversations (holdout first) up to and including their first answer."""
    from tabtwin.finetune.data.build import HOLDOUT_FILE, TRAIN_FILE, read_examples

    examples = []
    for name in (HOLDOUT_FILE, TRAIN_FILE):
        path = cfg.data_dir / name
        if path.is_file():
            examples += read_examples(path)
    chosen = []
    for ex in examples[:limit]:
        first_answer = next(i for i, m in enumerate(ex.messages) if m["role"] == "assistant")
        chosen.append(ex.messages[: first_answer + 1])
    return chosen


def verify_export(
    cfg, gguf: Path, hf_base: Path, adapter: Path, log: Callable[[str], None] = print, shown_as: Path | None = None
) -> dict:
    """The core loads the twin, uses its system prompt, and agrees with transformers' merged model.
    `shown_as`: the name the messages give the file (export verifies it under a temporary name)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tabtwin._core import Chat
    from tabtwin.finetune.base import quiet_transformers

    quiet_transformers()
    chat = Chat.from_path(gguf)
    shown_as = shown_as or gguf
    info = chat.info()
    problems = []
    if chat.system_prompt != cfg.system_prompt:
        problems.append("the core does not use the trained system prompt")
    if json.loads(info["tools"] or "null") != list(cfg.data.apps):
        problems.append(f"the core reads tools {info['tools']!r}, expected {list(cfg.data.apps)}")
    tokenizer = AutoTokenizer.from_pretrained(hf_base)
    model = AutoModelForCausalLM.from_pretrained(hf_base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload().eval()

    max_rel, agree, points, cosines = compare_logits(chat, tokenizer, merged, verification_prompts(cfg))
    result = {
        "loads_in_core": True,
        "architecture": info["architecture"],
        "system_prompt_used": not problems,
        "tools": info["tools"],
        "positions_compared": points,
        "top1_agreement": agree / max(points, 1),
        "max_abs_diff_over_max_logit": max_rel,
        "min_cosine": min(cosines, default=None),
        "problems": problems,
    }
    log(
        f"verified: the core loads {shown_as.name} ({info['architecture']}), system prompt "
        f"{'used' if chat.system_prompt == cfg.system_prompt else 'MISSING'}; logits vs transformers' merged "
        f"model at {points} positions: top-1 agreement {result['top1_agreement']:.0%}, "
        f"max |diff| {max_rel:.2e} of the largest logit, min cosine {result['min_cosine']:.5f}"
    )
    if problems:
        raise TabtwinError(f"{shown_as}: verification failed: " + "; ".join(problems))
    if points and result["top1_agreement"] < 0.5:
        raise TabtwinError(
            f"{shown_as}: the core's logits disagree with the merged model (top-1 agreement "
            f"{result['top1_agreement']:.0%}); the export is broken"
        )
    return result


def compare_logits(chat, tokenizer, merged, prompts: list[list[dict]]) -> tuple[float, int, int, list[float]]:
    """The core's logits against transformers' merged model at a few positions of each prompt's
    answer: the largest difference over the largest logit, top-1 agreements, positions, cosines."""
    import torch

    max_rel, agree, points, cosines = 0.0, 0, 0, []
    for messages in prompts:
        ids = tokenizer.apply_chat_template(messages, tokenize=False)
        ids = tokenizer(ids, add_special_tokens=False)["input_ids"]
        prompt_len = len(
            tokenizer(
                tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True),
                add_special_tokens=False,
            )["input_ids"]
        )
        with torch.no_grad():
            expected_all = merged(torch.tensor([ids])).logits[0].numpy()
        # positions inside the answer: where the twin's knowledge shows
        cuts = sorted({prompt_len, prompt_len + (len(ids) - prompt_len) // 2, len(ids) - 1})
        for cut in cuts:
            expected = expected_all[cut - 1]
            actual = np.array(chat.logits(ids[:cut]), dtype=np.float32)
            scale = max(1.0, float(np.abs(expected).max()))
            max_rel = max(max_rel, float(np.abs(actual - expected).max()) / scale)
            agree += int(actual.argmax() == expected.argmax())
            cosines.append(float(actual @ expected / (np.linalg.norm(actual) * np.linalg.norm(expected))))
            points += 1
    return max_rel, agree, points, cosines
