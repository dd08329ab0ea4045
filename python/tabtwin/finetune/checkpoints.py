"""A run's checkpoint (LoRA weights, optimizer, scheduler, RNG state, position in the epoch) and
what it must agree with to be resumed, so `--resume` continues to the same result as a run that was
never interrupted; and the adapter folder a run keeps."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.finetune.base import Base
from tabtwin.finetune.config import RunConfig
from tabtwin.paths import replacing_folder, sha256_file


@dataclass
class TrainState:
    step: int = 0  # optimizer steps done
    epoch: int = 0  # current epoch (0-based)
    epoch_step: int = 0  # optimizer steps done within the current epoch
    best_loss: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0
    done: bool = False
    stopped_early: bool = False
    train_losses: list = field(default_factory=list)  # [step, loss]
    holdout_losses: list = field(default_factory=list)  # [step, epoch, loss]
    seconds: float = 0.0


def fingerprint(cfg: RunConfig, base: Base, manifest: dict) -> dict:
    """What a checkpoint must agree with to be resumed."""
    t = asdict(cfg.train)
    for key in ("output", "checkpoint_every", "device", "threads"):  # may change between runs
        t.pop(key)
    t["target_modules"] = list(t["target_modules"])
    if cfg.train.init_adapter is not None:  # what it held, not where it lay (load_model checked it is there)
        t["init_adapter"] = sha256_file(cfg.train.init_adapter / "adapter_model.safetensors")
    return {
        "base_sha256": base.sha256,
        "dataset_sha256": manifest["dataset_sha256"],
        "system_prompt": cfg.system_prompt,
        "train": t,
    }


def trainable_state(model) -> dict:
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(folder: Path, model, optimizer, scheduler, state: TrainState, fp: dict) -> None:
    import numpy as np
    import torch

    with replacing_folder(folder) as tmp:
        tmp.mkdir()
        torch.save(trainable_state(model), tmp / "lora.pt")
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        rng = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        torch.save(rng, tmp / "rng.pt")
        (tmp / "state.json").write_text(json.dumps({"state": asdict(state), "fingerprint": fp}, indent=1))


def load_checkpoint(folder: Path, model, optimizer, scheduler, fp: dict) -> TrainState:
    import numpy as np
    import torch

    saved = json.loads((folder / "state.json").read_text())
    if saved["fingerprint"] != fp:
        changed = [k for k in fp if saved["fingerprint"].get(k) != fp[k]]
        raise TabtwinError(
            f"{folder}: the checkpoint was made with a different {', '.join(changed)}; "
            "pass --restart to train from scratch"
        )
    weights = torch.load(folder / "lora.pt", weights_only=True)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(torch.load(folder / "scheduler.pt", weights_only=True))
    rng = torch.load(folder / "rng.pt", weights_only=False)
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return TrainState(**saved["state"])


def save_adapter(model, folder: Path, extra: dict) -> None:
    with replacing_folder(folder) as tmp:
        model.save_pretrained(tmp)
        (tmp / "README.md").unlink(missing_ok=True)  # peft's empty model-card template
        (tmp / "tabtwin_train.json").write_text(json.dumps(extra, indent=2, ensure_ascii=False) + "\n")
