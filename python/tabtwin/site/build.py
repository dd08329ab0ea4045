"""`python build.py` / `tabtwin build`: models.toml + site/ -> a static site in _site/.

Steps: validate the registry; fetch, compose or locate every model and read its GGUF header;
shard the served copies; stage the committed wasm under content-hashed names; write the grounding
index of the author's own material (site.grounding); render the jinja2 templates (the chat page with
its suggestion chips, site.suggestions); write models.json; check the published size against the
host's budget; summarize.
No Rust and no torch are needed here.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from tabtwin.paths import replacing_folder, write_text_atomic
from tabtwin.site import budget as host_budget
from tabtwin.site import grounding as site_grounding
from tabtwin.site.content import app_data
from tabtwin.site.content import load as load_content
from tabtwin.site.registry import load, load_grounding, load_site, load_voice
from tabtwin.site.render import (
    constants_js,
    content_security_policy,
    remote_origins,
    render_pages,
    write_service_worker,
)
from tabtwin.site.stage import (
    EMBEDDER_ID,
    VOICE_ID,
    BuildError,
    model_file,
    stage_embedder,
    stage_model,
    stage_voice,
    stage_wasm,
)
from tabtwin.site.suggestions import suggestions

RECORD_NAME = ".tabtwin-build.json"
RECORD_FORMAT = 2  # 2: the header facts are the core's (kind, apps)

__all__ = ["BuildError", "BuildSummary", "build"]


@dataclass
class BuildSummary:
    out_dir: Path
    pages: list[str] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model_work: list[str] = field(default_factory=list)  # ids whose files were hashed/copied this run
    steps: list[tuple[str, float]] = field(default_factory=list)  # (what, seconds)
    budget: host_budget.Budget | None = None
    grounding: site_grounding.Index | None = None  # None: no [grounding] (or enabled = false)

    def total_bytes(self) -> int:
        """The published size: the budget's measurement when the build made one (no second walk)."""
        if self.budget is not None:
            return self.budget.total
        return sum(host_budget.published_files(self.out_dir).values())

    def table(self) -> str:
        rows = [f"pages written: {len(self.pages)} ({', '.join(self.pages)})"]
        for m in self.models:
            rows.append(
                f"  model {m['id']:<32} {m['architecture']:<6} {m['bytes'] / 1e6:8.1f} MB "
                f"{len(m['shards'])} shard(s) {'(remote)' if m['remote'] else ''}"
            )
        slow = [f"{what} {seconds:.0f} s" for what, seconds in self.steps if seconds >= 1]
        if slow:
            rows.append(f"work done: {', '.join(slow)}")
        rows.append(self.grounding.line() if self.grounding else "grounding: none ([grounding] in models.toml)")
        rows.append(f"site size: {self.total_bytes() / 1e6:.1f} MB in {self.out_dir}")
        if self.budget:
            rows.append(self.budget.line())
        rows += [f"warning: {w}" for w in self.warnings] or ["warnings: none"]
        return "\n".join(rows)


def build(
    root: Path, out_dir: Path, registry_path: Path | None = None, log=print, target: str | None = None
) -> BuildSummary:
    """Build the site; raises BuildError (a TabtwinError) for anything the author must fix,
    including a site its host would refuse (see site.budget)."""
    site_dir = root / "site"
    registry_path = registry_path or root / "models.toml"
    entries = load(registry_path)
    site_table = load_site(registry_path)
    host = host_budget.host_from(target, site_table, str(registry_path))
    grounding_config = load_grounding(registry_path)
    voice_source = load_voice(registry_path)
    content = load_content(site_dir / "content")
    # Everything is written into a folder beside out_dir that takes its place only when the build
    # succeeds: a failure anywhere (a model, the budget) leaves the last good site as it was.
    with replacing_folder(out_dir) as stage:
        _carry_models(out_dir, stage)
        summary = _write(root, stage, entries, host, grounding_config, voice_source, content, registry_path, log)
        if "cname" in site_table:  # the custom domain GitHub Pages serves: the fresh folder must carry it
            (stage / "CNAME").write_text(site_table["cname"] + "\n")
    summary.out_dir = out_dir
    if summary.grounding is not None:
        summary.grounding.report = out_dir / summary.grounding.report.name
    return summary


def _carry_models(previous: Path, stage: Path) -> None:
    """Seed the staging folder with the last build's model shards (hard links: no bytes copied, and
    every writer there replaces a file rather than writing into it, so the old site is never touched)
    and its record, so an unchanged model costs no work."""
    stage.mkdir(parents=True)
    if (previous / "models").is_dir():
        shutil.copytree(previous / "models", stage / "models", copy_function=_link)
    if (previous / RECORD_NAME).is_file():
        shutil.copyfile(previous / RECORD_NAME, stage / RECORD_NAME)


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # a filesystem without hard links: copy
        shutil.copy2(src, dst)


def _write(root, out_dir, entries, host, grounding_config, voice_source, content, registry_path, log) -> BuildSummary:
    """Every output of the build, into `out_dir` (the staging folder)."""
    site_dir = root / "site"
    summary = BuildSummary(out_dir=out_dir)
    record_path = out_dir / RECORD_NAME
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    if record.get("format") != RECORD_FORMAT:  # the header facts it keeps are another shape: read again
        record = {"format": RECORD_FORMAT}

    # static files first (wasm excluded: it is staged with hashed names)
    static_out = out_dir / "static"
    if static_out.exists():
        shutil.rmtree(static_out)
    shutil.copytree(site_dir / "static", static_out, ignore=shutil.ignore_patterns("wasm"))
    (static_out / "js" / "constants.js").write_text(constants_js())
    wasm = stage_wasm(site_dir, out_dir)

    for entry in entries:
        started = time.monotonic()
        src = model_file(entry, log)
        summary.models.append(stage_model(entry, src, out_dir, record, summary, host.shard_bytes()))
        summary.steps.append((entry.id, time.monotonic() - started))
    keep = {e.id for e in entries} | {VOICE_ID, EMBEDDER_ID}
    for old in (out_dir / "models").glob("*") if (out_dir / "models").exists() else []:
        if old.is_dir() and old.name not in keep:
            shutil.rmtree(old)
    registry_json = {"models": summary.models}
    started = time.monotonic()
    voice = stage_voice(voice_source, out_dir, record, summary, host.shard_bytes(), log)
    summary.steps.append(("voice", time.monotonic() - started))
    if voice:
        registry_json["voice"] = voice
    # before the pages: the service worker lists the hashed index with the other shell files
    started = time.monotonic()
    embedder_source = grounding_config.embedder if grounding_config else None
    embedder = stage_embedder(embedder_source, out_dir, record, summary, host.shard_bytes(), log)
    try:
        summary.grounding = site_grounding.write(grounding_config, content, out_dir, embedder)
    except site_grounding.GroundingError as exc:
        raise BuildError(f"{registry_path}: {exc}") from None
    summary.steps.append(("grounding", time.monotonic() - started))
    registry_json["grounding"] = summary.grounding.entry if summary.grounding else None
    write_text_atomic(out_dir / "models.json", json.dumps(registry_json, indent=2) + "\n")
    write_text_atomic(record_path, json.dumps(record, indent=2))

    apps_dir = out_dir / "data" / "apps"
    apps_dir.mkdir(parents=True, exist_ok=True)
    for name, items in app_data(content).items():
        (apps_dir / f"{name}.json").write_text(json.dumps(items, indent=1, default=str) + "\n")
    csp = content_security_policy(remote_origins(entries))
    render_pages(site_dir, out_dir, content, wasm, csp, summary, suggestions(content, grounding_config))
    write_service_worker(site_dir, out_dir, wasm)
    try:
        summary.budget, warnings = host_budget.check(out_dir, host)
    except host_budget.TabtwinError as exc:
        raise BuildError(f"{registry_path}: {exc}") from None
    summary.warnings += warnings
    return summary
