"""The model a run trains: the base in float32 (or 4-bit for QLoRA) with LoRA adapters on the
configured projections, fresh or continued from an earlier adapter (`[train] init_adapter`), which
must not have trained on a wording the holdout asks."""

from __future__ import annotations

import json
from collections.abc import Callable

from tabtwin.errors import TabtwinError
from tabtwin.finetune.base import Base, hf_dir, quiet_transformers
from tabtwin.finetune.config import RunConfig
from tabtwin.finetune.data.build import HOLDOUT_FILE, read_examples, wording_digest


def check_qlora(device: str) -> None:
    """4-bit QLoRA needs CUDA and bitsandbytes; say so plainly instead of failing deep inside."""
    import importlib.util

    missing = []
    if device != "cuda":
        missing.append("a CUDA GPU (torch sees none)" if device == "cpu" else f"device cuda (config says {device})")
    if importlib.util.find_spec("bitsandbytes") is None:
        missing.append("bitsandbytes (pip install bitsandbytes)")
    if missing:
        raise TabtwinError(
            "[train] qlora = true needs "
            + " and ".join(missing)
            + ". Set qlora = false to train LoRA on the float base (works on CPU, slowly)."
        )


def load_model(cfg: RunConfig, base: Base, device: str, log: Callable[[str], None] = print):
    """The base in float32 (or 4-bit for QLoRA) with fresh LoRA adapters on the configured projections."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    t = cfg.train
    quiet_transformers()
    kwargs = {"dtype": torch.float32}
    if t.qlora:
        check_qlora(device)
        from transformers import BitsAndBytesConfig

        kwargs = {
            "quantization_config": BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
            ),
            "device_map": {"": device},
        }
    model = AutoModelForCausalLM.from_pretrained(hf_dir(base, log), **kwargs)
    model.config.use_cache = False
    if t.qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    else:
        model.to(device)
    torch.manual_seed(t.seed)  # LoRA A's random init
    lora = LoraConfig(
        r=t.r,
        lora_alpha=t.alpha,
        lora_dropout=t.dropout,
        target_modules=list(t.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    if t.init_adapter is not None:
        start_from_adapter(model, t)
    return model


def start_from_adapter(model, t) -> None:
    """Load `[train] init_adapter`'s weights into the fresh LoRA; its shape must be the config's."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    where = t.init_adapter
    if not (where / "adapter_model.safetensors").is_file() or not (where / "adapter_config.json").is_file():
        raise TabtwinError(
            f"[train] init_adapter: {where} holds no adapter (adapter_model.safetensors, adapter_config.json)"
        )
    if where.resolve().is_relative_to(t.output.resolve()):
        raise TabtwinError(
            f"[train] init_adapter: {where} lies inside [train] output {t.output}, which this run overwrites"
        )
    saved = json.loads((where / "adapter_config.json").read_text())
    wanted = {"r": t.r, "lora_alpha": t.alpha, "target_modules": sorted(t.target_modules)}
    found = {
        "r": saved.get("r"),
        "lora_alpha": saved.get("lora_alpha"),
        "target_modules": sorted(saved.get("target_modules") or []),
    }
    differ = [f"{k} {found[k]} (config: {wanted[k]})" for k in wanted if found[k] != wanted[k]]
    if differ:
        raise TabtwinError(f"[train] init_adapter {t.init_adapter} has another shape: {'; '.join(differ)}")
    result = set_peft_model_state_dict(model, load_file(t.init_adapter / "adapter_model.safetensors"))
    missing = [k for k in result.missing_keys if "lora_" in k]
    if missing or result.unexpected_keys:
        raise TabtwinError(
            f"[train] init_adapter {t.init_adapter} does not fit the base: "
            f"{len(missing)} missing and {len(result.unexpected_keys)} unexpected LoRA weights"
        )


def check_holdout_unseen(cfg: RunConfig, manifest: dict, log: Callable[[str], None]) -> None:
    """Refuse to continue from an adapter that trained on a wording this holdout asks: its holdout loss
    would score what the adapter memorized, and early stopping would stop on forgetting, not on
    learning (session 10's retrain stopped after one epoch so). The adapter's train report lists the
    wordings it trained on; an adapter trained before reports did says so, and the run goes on."""
    where = cfg.train.init_adapter
    record = next((where / n for n in ("train_report.json", "tabtwin_train.json") if (where / n).is_file()), None)
    seen = (json.loads(record.read_text()).get("wordings") or {}).get("train") if record else None
    if seen is None:
        log(f"note: {where} records no trained wordings: this holdout cannot be checked against what it learned")
        return
    held = set((manifest.get("wordings") or {}).get("holdout") or ())
    overlap = held & set(seen)
    if not overlap:
        return
    named = list(
        dict.fromkeys(
            f"{ex.where}: {m['content']!r}"
            for ex in read_examples(cfg.data_dir / HOLDOUT_FILE)
            for m in ex.messages
            if m["role"] == "user" and wording_digest(m["content"]) in overlap
        )
    )
    raise TabtwinError(
        f"[train] init_adapter {where} trained on {len(overlap)} of the {len(held)} wordings this holdout asks "
        f"(e.g. {'; '.join(named[:3])}): its holdout loss would score what it memorized. Train from the base "
        "(no init_adapter), or build the data with the split that adapter was trained on."
    )
