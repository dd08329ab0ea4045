"""The published size against the host's limits: warn above 80%, fail above the budget with a message
that names the largest models and the ways out; another host or budget from --target or [site]."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from tabtwin.site.budget import HOSTS, published_files
from tabtwin.site.build import BuildError, build
from tabtwin.site.registry import RegistryError

quiet = lambda *_: None  # noqa: E731


def registry(tmp_path, model, site: str = "", shard_mb: int | None = None):
    path = tmp_path / "models.toml"
    shard = f"shard_mb = {shard_mb}\n" if shard_mb else ""
    path.write_text(f'{site}\n[[model]]\nid = "big-one"\nlabel = "Big"\npath = "{model}"\n{shard}')
    return path


@pytest.fixture(scope="module")
def model(sharded_model):
    return sharded_model


@pytest.fixture(scope="module")
def site_bytes(root, model, tmp_path_factory):
    """What the site weighs with no limit at all (the wasm, the pages and the model)."""
    work = tmp_path_factory.mktemp("free")
    summary = build(root, work / "_site", registry(work, model), log=quiet, target="unlimited")
    assert summary.warnings == [] and "no total limit" in summary.table()
    return sum(published_files(work / "_site").values())


def test_github_pages_is_the_default_budget(root, model, tmp_path):
    summary = build(root, tmp_path / "_site", registry(tmp_path, model), log=quiet)
    assert summary.budget.host == HOSTS["github-pages"]
    assert "of GitHub Pages's 1000 MB budget" in summary.table()


def test_over_budget_fails_naming_the_largest_models_and_the_ways_out(root, model, tmp_path, site_bytes):
    budget_mb = max(1, math.floor(site_bytes / 2e6))
    reg = registry(tmp_path, model, f"[site]\nbudget_mb = {budget_mb}\n")
    with pytest.raises(BuildError) as err:
        build(root, tmp_path / "_site", reg, log=quiet)
    message = str(err.value)
    assert f"over GitHub Pages (budget from [site])'s {budget_mb} MB limit" in message
    assert "largest models: big-one (" in message
    for way_out in ('serve = \\"remote\\"', "tabtwin publish-model", "drop it from models.toml", "q4_0", "--target"):
        assert way_out.replace("\\", "") in message, way_out


def test_above_80_percent_warns(root, model, tmp_path, site_bytes):
    budget_mb = math.ceil(site_bytes / 0.9e6)
    assert 0.8 < site_bytes / (budget_mb * 1e6) <= 1
    summary = build(
        root, tmp_path / "_site", registry(tmp_path, model, f"[site]\nbudget_mb = {budget_mb}\n"), log=quiet
    )
    (warning,) = summary.warnings
    assert "warning above 80%" in warning and "big-one" in warning
    assert f"warning: {warning}" in summary.table()


def test_target_on_the_command_line_wins_over_the_registry(root, model, tmp_path, site_bytes):
    reg = registry(tmp_path, model, "[site]\nbudget_mb = 1\n")
    result = subprocess.run(
        [sys.executable, str(root / "build.py"), "--registry", str(reg), "--out", str(tmp_path / "_site")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stderr.startswith("tabtwin: error: ") and "Traceback" not in result.stderr
    assert "largest models: big-one" in result.stderr
    result = subprocess.run(
        [sys.executable, str(root / "build.py"), "--registry", str(reg), "--out", str(tmp_path / "_site")]
        + ["--target", "unlimited"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "no total limit" in result.stdout


def test_a_file_at_the_per_file_limit_fails_and_names_it(root, model, tmp_path):
    reg = registry(tmp_path, model, "[site]\nfile_mb = 1\n", shard_mb=2)
    with pytest.raises(BuildError, match=r"per-file limit: models/big-one/big-one\.gguf\.part000"):
        build(root, tmp_path / "_site", reg, log=quiet)


def test_shards_follow_the_hosts_file_limit(root, model, tmp_path):
    summary = build(
        root, tmp_path / "_site", registry(tmp_path, model, '[site]\ntarget = "cloudflare-pages"\n'), log=quiet
    )
    files = published_files(tmp_path / "_site")
    assert max(files.values()) < HOSTS["cloudflare-pages"].file_bytes
    assert summary.budget.host.name == "cloudflare-pages"


@pytest.mark.parametrize(
    "site, words",
    [
        ('[site]\ntarget = "netlify"\n', [":2: [site] unknown target 'netlify'", "github-pages"]),
        ("[site]\nbudget_mb = -5\n", [":2: [site] budget_mb must be a positive integer"]),
        ("[site]\nbudget = 5\n", [":2: [site] unknown key 'budget'", "budget_mb"]),
    ],
)
def test_bad_site_tables_are_named(root, model, tmp_path, site, words):
    with pytest.raises(RegistryError) as err:
        build(root, tmp_path / "_site", registry(tmp_path, model, site), log=quiet)
    assert all(w in str(err.value) for w in words), str(err.value)
