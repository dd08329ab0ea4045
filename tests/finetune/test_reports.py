"""The committed reports name files the way any clone sees them: relative to the repository, or in
~/.cache/tabtwin, never the build machine's absolute paths."""

import re

MACHINE_PATH = re.compile(r"(?<![\w.~])/(?:root|home|work|tmp|Users)/")


def test_committed_reports_hold_no_machine_paths(root):
    reports = sorted((root / "finetune" / "twins").glob("*.eval.*")) + sorted(
        (root / "finetune" / "twins").glob("*.export.json")
    )
    assert reports, "no committed reports found"
    leaks = {p.name: MACHINE_PATH.findall(p.read_text()) for p in reports}
    assert {name: found for name, found in leaks.items() if found} == {}


def test_shown_paths_are_relative_to_the_repository_or_the_cache(root, monkeypatch, tmp_path):
    from tabtwin.paths import cache_dir, shown

    monkeypatch.chdir(root)
    assert shown(root / "finetune" / "configs" / "demo.toml") == "finetune/configs/demo.toml"
    assert shown(cache_dir() / "models" / "x.gguf") == "~/.cache/tabtwin/models/x.gguf"
    assert shown(tmp_path / "elsewhere.gguf") == str(tmp_path / "elsewhere.gguf")
