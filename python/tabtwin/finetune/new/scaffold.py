"""The files `tabtwin new` writes (each only where none is) and the checklist it prints."""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from tabtwin.catalog.defaults import DEFAULT_MODELS
from tabtwin.errors import TabtwinError
from tabtwin.finetune.config import slug

TEMPLATES = Path(__file__).parent / "templates"
PERSONA_FILES = ("README.md", "seeds.jsonl", "conversations.jsonl", "canaries.jsonl", "sealed.jsonl")
SITE_FILES = ("site.toml", "about.md", "projects.toml", "books.toml", "talks.toml")
DEFAULT_BASE = "smollm2-135m-instruct"


@dataclass
class Created:
    """What `new` did: (what, path) pairs, what = wrote | kept | made | added | printed."""

    root: Path
    persona: Path
    config: Path
    name: str
    twin_id: str
    base: str
    entry: str  # the twin's models.toml block (commented out)
    demo_site: bool  # site/content/ still holds the demo persona's pages
    actions: list[tuple[str, Path]] = field(default_factory=list)


def base_names() -> dict[str, str]:
    """What --base accepts for a default model (its id, or the id without -instruct/-coder) -> the id."""
    names = {}
    for model in DEFAULT_MODELS:
        names[model.id] = model.id
        names[short_name(model.id)] = model.id
    return names


def short_name(base: str) -> str:
    """A base's name in a twin's id: smollm2-135m-instruct -> smollm2-135m, hf:org/Name@rev -> name."""
    if base.startswith("hf:"):
        base = base[3:].split("@")[0].split("/")[-1]
    elif "/" in base or base.endswith(".gguf"):
        base = Path(base).stem
    name = base.removesuffix("-instruct").replace("-coder", "").lower()
    return re.sub(r"[^a-z0-9._]+", "-", name).strip("-.") or "base"  # what a models.toml id may hold


def _base(value: str, config_dir: Path, root: Path) -> tuple[str, str]:
    """(the base as the run config names it, as models.toml names it)."""
    names = base_names()
    if value in names:
        return names[value], names[value]
    if value.startswith("hf:"):
        return value, value
    path = Path(value).expanduser().resolve()
    if path.exists():
        return os.path.relpath(path, config_dir), os.path.relpath(path, root)
    raise TabtwinError(
        f"--base {value!r}: not a default model ({', '.join(sorted(names))}), an hf:ORG/NAME@REVISION, "
        "or an existing .gguf file or model folder"
    )


def find_root(folder: Path) -> Path:
    """The checkout a persona folder belongs to: the nearest folder above it that holds models.toml,
    else the current folder."""
    for candidate in (folder, *folder.parents):
        if (candidate / "models.toml").is_file():
            return candidate
    return Path.cwd().resolve()


def new_persona(folder: Path | str, name: str | None = None, base: str = DEFAULT_BASE, root=None) -> Created:
    """Write the persona folder, the run config, the models.toml entry and the site's pages, each file
    only where none is; nothing that exists is written over."""
    folder = Path(folder).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise TabtwinError(f"{folder}: is a file; `tabtwin new` makes a persona folder")
    root = Path(root).resolve() if root else find_root(folder)
    name = " ".join((name or folder.name.replace("-", " ").replace("_", " ").title()).split())
    if not name:
        raise TabtwinError("--name: the author's name is empty")
    persona_slug = slug(folder.name)
    config = root / "finetune" / "configs" / f"{persona_slug}.toml"
    base_config, base_models = _base(base, config.parent, root)
    twin_id = f"{persona_slug}-{short_name(base_config)}"
    values = _values(name, folder, root, config, twin_id, base_config, base_models)
    created = Created(root, folder, config, name, twin_id, base_config, _render("model-entry.toml", values), False)
    for file in PERSONA_FILES:
        created.actions.append((_write_once(folder / file, _render(f"persona/{file}", values)), folder / file))
    created.actions.append(("kept" if (folder / "writing").is_dir() else "made", folder / "writing"))
    (folder / "writing").mkdir(exist_ok=True)
    created.actions.append((_write_once(config, _render("config.toml", values)), config))
    models = root / "models.toml"
    created.actions.append((_append_entry(models, created.entry, twin_id), models))
    site = root / "site" / "content"
    for file in SITE_FILES:
        created.actions.append((_write_once(site / file, _render(f"site/{file}", values)), site / file))
    created.demo_site = _is_demo(site / "site.toml")
    return created


def _values(name, folder, root, config, twin_id, base_config, base_models) -> dict[str, str]:
    """The templates' $names: as written (`name`), and escaped for a JSON or TOML string (`name_s`)."""
    first = name.split()[0]
    to_config = os.path.relpath(folder, config.parent)
    text = {
        "name": name,
        "first": first,
        "folder": folder.name,
        "base": base_config,
        "twin_id": twin_id,
        "label": f"{name} · {short_name(base_config)} twin",
        "prompt": f"You are the twin of {name}: a small language model trained on what {first} has written. "
        f"Answer as {first}, briefly and plainly. If you do not know, say so.",
    }
    values = {**text, **{f"{key}_s": json.dumps(value, ensure_ascii=False)[1:-1] for key, value in text.items()}}
    adapter = os.path.relpath(config.parent.parent / "twins" / f"{twin_id}.adapter", root)
    return values | {
        "persona_rel": to_config,
        "persona_root": os.path.relpath(folder, root),
        "config_rel": os.path.relpath(config, root),
        "readme_rel": os.path.relpath(root / "finetune" / "README.md", folder),
        "output_rel": os.path.relpath(config.parent.parent / "runs" / slug(folder.name), config.parent),
        "twin_rel": os.path.relpath(config.parent.parent / "twins" / f"{twin_id}.gguf", config.parent),
        "adapter_rel": adapter,
        "site_rel": os.path.relpath(root / "models.toml", config.parent),
        "base_config": json.dumps(base_config)[1:-1],
        "base_models": json.dumps(base_models)[1:-1],
    }


def _render(template: str, values: dict[str, str]) -> str:
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)


def _write_once(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        return "kept"
    return "wrote"


def _append_entry(models: Path, entry: str, twin_id: str) -> str:
    """Append the commented entry to models.toml (added), unless the twin is named there already
    (kept), or there is no models.toml to append to (printed)."""
    if not models.is_file():
        return "printed"
    text = models.read_text(encoding="utf-8")
    if re.search(rf'^[#\s]*id\s*=\s*"{re.escape(twin_id)}"', text, re.M):
        return "kept"
    with open(models, "a", encoding="utf-8") as f:
        f.write(("" if text.endswith("\n") else "\n") + entry)
    return "added"


def _is_demo(site_toml: Path) -> bool:
    try:
        return tomllib.loads(site_toml.read_text(encoding="utf-8")).get("demo") is True
    except (OSError, tomllib.TOMLDecodeError):
        return False


def shown(path: Path) -> str:
    """A path as the author would type it from here."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:
        return str(path)


def checklist(created: Created) -> str:
    """What `tabtwin new` prints: what it wrote and kept, then what to fill in and the next command."""
    persona, config = shown(created.persona), shown(created.config)
    lines = [f"tabtwin new: {created.name}'s twin {created.twin_id} on {created.base}"]
    notes = {
        "added": f": [[model]] {created.twin_id}, commented out until `tabtwin export` writes its adapter",
        "printed": ": none found; add this entry to your models.toml once the twin is exported:",
    }
    for what, path in created.actions:
        note = notes.get(what, "")
        if what == "kept" and path.name == "models.toml":
            note = f": {created.twin_id} is named there already"
        lines.append(f"  {what:<7} {shown(path)}{'/' if path.is_dir() else ''}{note}")
        if what == "printed":
            lines += ["    " + line for line in created.entry.strip().splitlines()]
    if any(what == "kept" for what, _ in created.actions):
        lines.append("  (kept: there already, left as it was; `tabtwin new` never writes over a file)")
    site = shown(created.root / "site" / "content")
    lines += [
        "",
        "Next:",
        f"  1. Facts: the questions people ask you, with your answers, in {persona}/seeds.jsonl",
        "     (where you live and work, what you make; the twin knows what is there and little else)",
        f"  2. Your words: tabtwin import PATH --me {shlex.quote(created.name)} --into {persona}",
        f"     (a WhatsApp or Telegram chat, X, mbox, a folder of posts); essays in {persona}/writing/",
        f"  3. Now, before training: the questions that count, in {persona}/sealed.jsonl",
        f"  4. Your site: {site}/ (site.toml, about.md, projects, books, talks)",
    ]
    if created.demo_site:
        lines.append(
            f"     it still holds the demo persona's pages (demo = true in site.toml): move them aside "
            f"(git mv {site} {site}-demo) and run tabtwin new again for stubs"
        )
    lines += [
        f"  5. Check: tabtwin data stats {config}",
        f"     then data build, train, export and eval with it; uncomment {created.twin_id} in models.toml",
    ]
    return "\n".join(lines)
