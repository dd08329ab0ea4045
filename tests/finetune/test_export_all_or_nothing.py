"""`tabtwin export` is all or nothing: the twin GGUF, its portable adapter folder, its export report and
its Modelfile are written under temporary names and renamed into place together only after the GGUF
is verified, so an export that fails at any stage leaves the previous ones byte for byte as they were
and no temporary behind; `--no-verify` still replaces them (issue #18). An interrupted `tabtwin train
--restart` keeps the previous run's adapter and report."""

from __future__ import annotations

import importlib
import json
import os
import shutil
from pathlib import Path

import pytest
from finetune_helpers import write_config

from tabtwin.cli import main
from tabtwin.errors import TabtwinError
from tabtwin.finetune.config import load
from tabtwin.finetune.export import export
from tabtwin.finetune.train import ADAPTER, REPORT, train

EXPORT = importlib.import_module("tabtwin.finetune.export")


def quiet(*_):
    pass


def files(folder):
    """Every file under `folder` with its bytes, and nothing else: what an export may not change."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def export_config(folder, trained, persona="Ada Example"):
    """A config exporting the shared trained run (read only) into `folder` with an Ollama Modelfile."""
    overrides = {
        "train.output": json.dumps(str(trained.train.output)),
        "train.epochs": "3",
        "train.lr": "1e-2",
        "export.output": json.dumps(str(folder / "twin.gguf")),
        "export.persona": json.dumps(persona),
        "export.ollama": "true",
    }
    return write_config(folder, trained.train.base, trained.data.persona, **overrides)


@pytest.fixture(scope="module")
def first_export(trained, tmp_path_factory):
    """One verified export, and the exact bytes of everything it wrote."""
    folder = tmp_path_factory.mktemp("all-or-nothing")
    cfg = load(export_config(folder, trained))
    export(cfg, log=quiet)
    return folder, files(folder)


@pytest.fixture
def previous(first_export, tmp_path, trained):
    """A copy of the first export's folder, and a config that would export a different twin into it."""
    folder = tmp_path / "out"
    shutil.copytree(first_export[0], folder)
    cfg = load(export_config(folder, trained, persona="Ada Second"))
    return folder, files(folder), cfg


def fail(exc):
    def raiser(*_args, **_kwargs):
        raise exc

    return raiser


def report_dumps(real):
    """json.dumps, except for the export report (the dict naming the gguf), which hits a full disk."""

    def dumps(obj, *args, **kwargs):
        if isinstance(obj, dict) and "gguf" in obj:
            raise OSError("no space left on device")
        return real(obj, *args, **kwargs)

    return dumps


def second_rename_fails(real):
    """os.replace, failing when the second temporary is renamed into place (the GGUF already is)."""
    into_place = []

    def replace(src, dst):
        if Path(src).name.endswith(".part") and not Path(dst).name.startswith("."):
            into_place.append(dst)
            if len(into_place) == 2:
                raise OSError("rename failed")
        return real(src, dst)

    return replace


STAGES = {
    "the portable adapter": lambda mp: mp.setattr(EXPORT, "lora_deltas", fail(OSError("disk full"))),
    "the GGUF writer": lambda mp: mp.setattr("gguf.GGUFWriter.write_tensors_to_file", fail(OSError("disk full"))),
    "the Modelfile": lambda mp: mp.setattr(EXPORT, "modelfile", fail(TabtwinError("ChatML only"))),
    "the verification": lambda mp: mp.setattr(EXPORT, "verify_export", fail(TabtwinError("verification failed"))),
    "the report writer": lambda mp: mp.setattr(json, "dumps", report_dumps(json.dumps)),
    "a rename halfway": lambda mp: mp.setattr(os, "replace", second_rename_fails(os.replace)),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_an_export_failing_at_any_stage_keeps_the_previous_twin_adapter_and_reports(previous, monkeypatch, stage):
    folder, before, cfg = previous
    assert {"twin.gguf", "twin.adapter/adapter_model.safetensors", "twin.export.json", "twin.Modelfile"} <= set(before)
    STAGES[stage](monkeypatch)
    with pytest.raises((OSError, TabtwinError)):
        export(cfg, log=quiet)
    monkeypatch.undo()
    assert files(folder) == before, f"a failure in {stage} changed the previous export"
    assert leftovers(folder) == []


def test_no_verify_replaces_all_of_them_together(previous, capsys):
    folder, before, cfg = previous
    assert main(["export", str(cfg.path), "--no-verify"]) == 0
    after = files(folder)
    assert leftovers(folder) == []
    assert after.keys() == before.keys()
    changed = {name for name in after if after[name] != before[name]}
    assert {"twin.gguf", "twin.adapter/tabtwin.json", "twin.export.json"} <= changed  # the persona is new
    report = json.loads(after["twin.export.json"])
    assert "verification" not in report and report["bytes"] == len(after["twin.gguf"])
    assert "twin: " in capsys.readouterr().out


def test_an_interrupted_restart_keeps_the_last_adapter_and_report(trained, tmp_path):
    """`tabtwin train --restart` stopped after its first checkpoint (before its first epoch ends and it
    saves a better adapter) leaves the previous run's adapter and report as they were."""
    run = tmp_path / "run"
    shutil.copytree(trained.train.output, run)
    overrides = {"train.output": json.dumps(str(run)), "train.epochs": "3", "train.lr": "1e-2"}
    cfg = load(write_config(tmp_path, trained.train.base, trained.data.persona, **overrides))
    adapter, report = files(run / ADAPTER), (run / REPORT).read_bytes()
    assert json.loads(report)["steps_per_epoch"] > cfg.train.checkpoint_every

    def crash(state):
        if state.step == cfg.train.checkpoint_every:  # the checkpoint was just written
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, restart=True, log=quiet, progress=False, on_step=crash)
    assert files(run / ADAPTER) == adapter and (run / REPORT).read_bytes() == report
    assert leftovers(run) == []
