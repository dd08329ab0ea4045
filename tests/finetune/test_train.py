"""Training: a few LoRA steps lower the loss, resume after an interruption equals the
uninterrupted run bit for bit, and the guard rails say what to do."""

from __future__ import annotations

import json

import pytest
import torch
from finetune_helpers import write_config, write_persona
from safetensors.torch import load_file

from tabtwin import cli
from tabtwin.errors import TabtwinError
from tabtwin.finetune.base import context_length, hf_dir, load_tokenizer, resolve_base
from tabtwin.finetune.config import load
from tabtwin.finetune.data import build
from tabtwin.finetune.train import ADAPTER, CHECKPOINT, CURVE, REPORT, holdout_loss, load_data, train


def quiet(*_):
    pass


def built_config(tmp_path, tiny_base, **overrides):
    persona = write_persona(tmp_path / "persona")
    cfg = load(write_config(tmp_path, tiny_base, persona, **overrides))
    base = resolve_base(cfg.train.base)
    build(cfg, load_tokenizer(base, quiet), context_length(base))
    return cfg


def test_a_few_steps_reduce_the_loss_on_the_answers(trained):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    cfg = trained
    base = resolve_base(cfg.train.base)
    tokenizer = load_tokenizer(base, quiet)
    train_set, _, _ = load_data(cfg, tokenizer)
    model = AutoModelForCausalLM.from_pretrained(hf_dir(base), dtype=torch.float32)
    tuned = PeftModel.from_pretrained(model, cfg.adapter_dir)
    after = holdout_loss(tuned, train_set, 8, tokenizer.eos_token_id, "cpu")
    with tuned.disable_adapter():
        before = holdout_loss(tuned, train_set, 8, tokenizer.eos_token_id, "cpu")
    assert after < before - 0.3, (before, after)

    report = json.loads((cfg.train.output / REPORT).read_text())
    assert report["done"] and report["steps"] == 3 * report["steps_per_epoch"]
    assert len(report["holdout_losses"]) == 3
    assert report["best_holdout_loss"] == pytest.approx(min(loss for _, _, loss in report["holdout_losses"]), abs=1e-5)
    assert report["dataset_sha256"] == json.loads((cfg.data_dir / "manifest.json").read_text())["dataset_sha256"]
    assert (cfg.adapter_dir / "adapter_model.safetensors").is_file()


def test_loss_curve_png_or_a_note_saying_why_not(tmp_path, tiny_base):
    import importlib.util

    cfg = built_config(tmp_path, tiny_base, **{"train.epochs": "1"})
    lines = []
    train(cfg, log=lines.append, progress=False)
    png = cfg.train.output / CURVE
    if importlib.util.find_spec("matplotlib") is not None:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"loss curve: {png}" in lines
    else:
        assert not png.exists()
        assert any("matplotlib is not installed" in line for line in lines)


def test_resume_after_interruption_equals_the_uninterrupted_run(tmp_path, tiny_base):
    whole = built_config(tmp_path / "whole", tiny_base, **{"train.epochs": "2", "train.dropout": "0.1"})
    train(whole, log=quiet, progress=False)

    cut = built_config(tmp_path / "cut", tiny_base, **{"train.epochs": "2", "train.dropout": "0.1"})

    def crash(state):
        if state.step == 7:  # a checkpoint was written at step 6 (every 2); step 7 is lost
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cut, log=quiet, progress=False, on_step=crash)
    assert json.loads((cut.train.output / CHECKPOINT / "state.json").read_text())["state"]["step"] == 6
    with pytest.raises(TabtwinError, match="pass --resume to continue it or --restart"):
        train(cut, log=quiet, progress=False)
    train(cut, resume=True, log=quiet, progress=False)

    a = load_file(whole.adapter_dir / "adapter_model.safetensors")
    b = load_file(cut.adapter_dir / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    ra = json.loads((whole.train.output / REPORT).read_text())
    rb = json.loads((cut.train.output / REPORT).read_text())
    assert ra["train_losses"] == rb["train_losses"] and ra["holdout_losses"] == rb["holdout_losses"]


def test_stop_after_then_resume_via_the_cli(tmp_path, tiny_base, capsys):
    cfg = built_config(tmp_path, tiny_base, **{"train.epochs": "1"})
    assert cli.main(["train", str(cfg.path), "--stop-after", "2", "--no-progress"]) == 0
    assert "stopped after step 2" in capsys.readouterr().out
    assert not (cfg.train.output / ADAPTER).exists()  # the adapter appears at the end of an epoch
    assert cli.main(["train", str(cfg.path), "--resume", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "resuming from" in out and "at step 2" in out and f"adapter: {cfg.adapter_dir}" in out


def test_checkpoint_from_other_data_is_refused(tmp_path, tiny_base):
    cfg = built_config(tmp_path, tiny_base, **{"train.epochs": "1"})
    train(cfg, stop_after=2, log=quiet, progress=False)
    with open(cfg.data.persona / "seeds.jsonl", "a") as f:
        f.write(json.dumps({"q": ["New?", "Newer?"], "a": ["Yes."], "kind": "fact"}) + "\n")
    base = resolve_base(cfg.train.base)
    build(cfg, load_tokenizer(base, quiet), context_length(base))
    with pytest.raises(TabtwinError, match="different dataset_sha256"):
        train(cfg, resume=True, log=quiet, progress=False)


def test_qlora_says_what_is_missing(tmp_path, tiny_base):
    import importlib.util

    cfg = built_config(tmp_path, tiny_base, **{"train.qlora": "true", "train.epochs": "1"})
    missing = []
    if not torch.cuda.is_available():
        missing.append("a CUDA GPU")
    if importlib.util.find_spec("bitsandbytes") is None:
        missing.append("bitsandbytes")
    if not missing:  # everything is there: 4-bit training must simply work
        assert train(cfg, log=quiet, progress=False)["done"]
        return
    with pytest.raises(TabtwinError, match="Set qlora = false") as err:
        train(cfg, log=quiet, progress=False)
    assert all(m in str(err.value) for m in missing)


def test_training_refuses_data_built_for_another_system_prompt(tmp_path, tiny_base):
    cfg = built_config(tmp_path, tiny_base)
    cfg.system_prompt = "You are someone else."
    with pytest.raises(TabtwinError, match="another system prompt"):
        train(cfg, log=quiet, progress=False)


def test_accelerate_launch_two_processes_equals_one(tmp_path, tiny_base):
    """`accelerate launch` with two CPU processes (gloo) shares each step's micro-batches out and
    sums the gradients: the losses and the adapter equal a single-process run of the same config."""
    import os
    import subprocess
    import sys

    overrides = {"train.epochs": "1", "train.batch_size": "2", "train.grad_accum": "2", "train.dropout": "0.0"}
    one = built_config(tmp_path / "one", tiny_base, **overrides)
    two = built_config(tmp_path / "two", tiny_base, **overrides)
    train(one, log=quiet, progress=False)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    # --multi_gpu selects accelerate's torchrun launcher; with no GPU, tabtwin asks for CPU processes (gloo)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--multi_gpu",
            "--num_processes",
            "2",
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
            "--main_process_port",
            "0",
            "-m",
            "tabtwin.cli",
            "train",
            str(two.path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "x 2 processes" in run.stdout, run.stdout
    a = json.loads((one.train.output / REPORT).read_text())
    b = json.loads((two.train.output / REPORT).read_text())
    assert a["steps"] == b["steps"] > 0
    assert [s for s, _ in a["train_losses"]] == [s for s, _ in b["train_losses"]]
    for (_, x), (_, y) in zip(a["train_losses"], b["train_losses"]):
        assert x == pytest.approx(y, rel=1e-4, abs=1e-5)
    wa = load_file(str(one.adapter_dir / "adapter_model.safetensors"))
    wb = load_file(str(two.adapter_dir / "adapter_model.safetensors"))
    assert wa.keys() == wb.keys()
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=1e-4, atol=1e-6)


def test_packed_rows_give_each_example_its_own_loss(tmp_path, tiny_base):
    """Examples packed side by side in one row (positions restart per example) score exactly as
    they do one by one: attention never crosses from one example into another."""
    from transformers import AutoModelForCausalLM

    from tabtwin.finetune import batches
    from tabtwin.finetune.train import collate, token_loss_sum

    cfg = built_config(tmp_path, tiny_base)
    base = resolve_base(cfg.train.base)
    tokenizer = load_tokenizer(base, quiet)
    train_set, _, _ = load_data(cfg, tokenizer)
    model = AutoModelForCausalLM.from_pretrained(hf_dir(base), dtype=torch.float32).eval()

    class Wrapped(torch.nn.Module):  # token_loss_sum takes a peft model
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def get_base_model(self):
            return self.inner

    lengths = [len(e) for e in train_set]
    rows = batches.pack(list(range(len(train_set))), lengths, cfg.train.max_seq_len)
    assert any(len(row) > 1 for row in rows) and sorted(i for row in rows for i in row) == list(range(len(train_set)))
    assert all(sum(lengths[i] for i in row) <= cfg.train.max_seq_len for row in rows)
    with torch.no_grad():
        packed, n_packed = token_loss_sum(Wrapped(model), *collate(rows[:2], train_set, 0, "cpu"))
        alone = [token_loss_sum(Wrapped(model), *collate([[i]], train_set, 0, "cpu")) for i in rows[0] + rows[1]]
    assert n_packed == sum(n for _, n in alone)
    assert float(packed) == pytest.approx(sum(float(loss) for loss, _ in alone), rel=1e-5)


def test_packing_trains_fewer_longer_steps_and_resumes_the_same(tmp_path, tiny_base):
    overrides = {"train.epochs": "2", "train.packing": "true", "train.batch_size": "1", "train.dropout": "0.1"}
    plain = built_config(tmp_path / "plain", tiny_base, **{"train.epochs": "2", "train.batch_size": "1"})
    whole = built_config(tmp_path / "whole", tiny_base, **overrides)
    cut = built_config(tmp_path / "cut", tiny_base, **overrides)
    r_plain = train(plain, log=quiet, progress=False)
    r_whole = train(whole, log=quiet, progress=False)
    assert r_whole["done"] and 0 < r_whole["steps_per_epoch"] < r_plain["steps_per_epoch"]
    assert r_whole["holdout_losses"][-1][2] < r_whole["holdout_losses"][0][2]
    train(cut, stop_after=3, log=quiet, progress=False)
    train(cut, resume=True, log=quiet, progress=False)
    a = load_file(whole.adapter_dir / "adapter_model.safetensors")
    b = load_file(cut.adapter_dir / "adapter_model.safetensors")
    assert all(torch.equal(a[name], b[name]) for name in a)


def test_init_adapter_starts_from_its_weights_and_refuses_another_shape(tmp_path, trained):
    from tabtwin.finetune.lora import load_model

    cfg = built_config(tmp_path, resolve_base(trained.train.base).gguf)
    cfg.train.init_adapter = trained.adapter_dir
    model = load_model(cfg, resolve_base(cfg.train.base), "cpu", quiet)
    saved = load_file(trained.adapter_dir / "adapter_model.safetensors")
    params = {n.replace(".default", ""): p for n, p in model.named_parameters() if p.requires_grad}
    assert saved.keys() == params.keys()
    assert all(torch.equal(saved[n], params[n].detach()) for n in saved)

    cfg.train.r = 4
    with pytest.raises(TabtwinError, match=r"another shape: r 8 \(config: 4\)"):
        load_model(cfg, resolve_base(cfg.train.base), "cpu", quiet)
    cfg.train.init_adapter = tmp_path
    with pytest.raises(TabtwinError, match="holds no adapter"):
        load_model(cfg, resolve_base(cfg.train.base), "cpu", quiet)


def test_continuing_from_an_adapter_that_trained_on_the_holdout_is_refused(tmp_path, trained):
    """The adapter's report lists the wordings it trained on: a holdout asking one of them would score
    memory, and early stopping would stop on forgetting. Another data seed draws another holdout."""
    from tabtwin.finetune.lora import check_holdout_unseen

    base = resolve_base(trained.train.base).gguf
    same = built_config(tmp_path / "same", base)
    same.train.init_adapter = trained.adapter_dir
    notes = []
    check_holdout_unseen(same, json.loads((same.data_dir / "manifest.json").read_text()), notes.append)
    assert notes == []  # the split it trained with: nothing it saw is held out

    other = built_config(tmp_path / "other", base, **{"data.seed": "1"})
    other.train.init_adapter = trained.adapter_dir
    with pytest.raises(TabtwinError, match=r"trained on \d+ of the \d+ wordings this holdout asks \(e\.g\. .*:\d+: '"):
        train(other, log=quiet, progress=False)
    assert not (other.train.output / ADAPTER).exists()

    old = tmp_path / "old-adapter"  # an adapter from before reports listed wordings
    old.mkdir()
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        (old / name).write_bytes((trained.adapter_dir / name).read_bytes())
    other.train.init_adapter = old
    check_holdout_unseen(other, json.loads((other.data_dir / "manifest.json").read_text()), notes.append)
    assert len(notes) == 1 and "records no trained wordings" in notes[0]
