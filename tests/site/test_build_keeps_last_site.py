"""A build that fails anywhere (a model, the pages, the host's budget, an interrupt) leaves the last
good site byte for byte as it was and no temporary folder behind (issue #18)."""

import hashlib

import pytest

from tabtwin.errors import TabtwinError
from tabtwin.site import build as site_build
from tabtwin.site.build import BuildError, build


def snapshot(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def built(root, sharded_model, tmp_path):
    registry = tmp_path / "models.toml"
    registry.write_text(f'[[model]]\nid = "small"\nlabel = "Small"\npath = "{sharded_model}"\nshard_mb = 1\n')
    out = tmp_path / "_site"
    build(root, out, registry, log=lambda *_: None)
    return registry, out, snapshot(out)


def leftovers(out):
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def boom(*_args, **_kwargs):
    raise TabtwinError("injected failure")


@pytest.mark.parametrize("step", ["render_pages", "write_service_worker", "stage_wasm", "stage_model"])
def test_a_step_that_fails_leaves_the_last_site_intact(root, built, monkeypatch, step):
    registry, out, before = built
    registry.write_text(registry.read_text().replace('"Small"', '"Renamed"'))  # a build that would change files
    monkeypatch.setattr(site_build, step, boom)
    with pytest.raises(TabtwinError, match="injected failure"):
        build(root, out, registry, log=lambda *_: None)
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_an_interrupt_leaves_the_last_site_intact(root, built, monkeypatch):
    registry, out, before = built
    registry.write_text(registry.read_text().replace('"Small"', '"Renamed"'))

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(site_build, "render_pages", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(root, out, registry, log=lambda *_: None)
    assert snapshot(out) == before and leftovers(out) == []


def test_a_second_model_that_is_missing_or_a_site_over_budget_leaves_the_last_site_intact(root, built):
    registry, out, before = built
    good = registry.read_text().replace('"Small"', '"Renamed"')
    registry.write_text(good + '\n[[model]]\nid = "gone"\nlabel = "Gone"\npath = "nowhere.gguf"\n')
    with pytest.raises(BuildError, match="does not exist"):
        build(root, out, registry, log=lambda *_: None)
    assert snapshot(out) == before and leftovers(out) == []
    registry.write_text(good + "\n[site]\nbudget_mb = 1\n")
    with pytest.raises(BuildError):
        build(root, out, registry, log=lambda *_: None)
    assert snapshot(out) == before and leftovers(out) == []


def test_a_good_build_replaces_the_site_and_reuses_the_shards_without_touching_the_old_ones(root, built):
    """The staging folder starts from hard links of the last build's shards: no model work, and
    the last site's files are never written into."""
    registry, out, before = built
    (out / "stale.html").write_text("from an older build")
    shard = next((out / "models" / "small").glob("*.part000"))
    inode = shard.stat().st_ino
    summary = build(root, out, registry, log=lambda *_: None)
    assert summary.model_work == [] and summary.out_dir == out
    assert snapshot(out) == before, "the same inputs give the same site; files of older builds are gone"
    assert next((out / "models" / "small").glob("*.part000")).stat().st_ino == inode
    assert leftovers(out) == []
