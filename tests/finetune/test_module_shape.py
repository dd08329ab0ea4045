"""The fine-tune package keeps its rooms small (issue 33, item 5): the evaluation's modules import
one way, in the order its package docstring lists them, and no function of the fine-tune area or
its CLI runs over 60 lines unless LONG_FUNCTIONS says why."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import tabtwin.finetune.evaluate as evaluate_package

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "tabtwin"
EVALUATE = PACKAGE / "finetune" / "evaluate"
MAX_LINES = 60
# (file relative to python/tabtwin, function) -> why it must stay long. Empty: none must.
LONG_FUNCTIONS: dict[tuple[str, str], str] = {}


def listed_modules() -> list[str]:
    """The module names the package docstring lists, in its order."""
    doc = evaluate_package.__doc__
    listing = doc[doc.index("The modules, each importing only those listed above it:") :]
    return re.findall(r"^  (\w+)\s", listing, re.MULTILINE)


def evaluate_imports(path: Path) -> set[str]:
    """The evaluate modules `path` imports (at the top or inside a function)."""
    prefix = "tabtwin.finetune.evaluate."
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {n.removeprefix(prefix).split(".")[0] for n in names if n.startswith(prefix)}
    return found


def test_the_evaluation_modules_are_the_listed_ones_and_import_only_those_above():
    order = listed_modules()
    on_disk = sorted(p.stem for p in EVALUATE.glob("*.py") if p.stem != "__init__")
    assert sorted(order) == on_disk, "the package docstring lists every module, once"
    problems = []
    for i, name in enumerate(order):
        below = evaluate_imports(EVALUATE / f"{name}.py") - set(order[:i])
        problems += [f"evaluate/{name}.py imports {other}, listed below it" for other in sorted(below)]
    assert problems == []


def long_functions(files: list[Path]) -> dict[tuple[str, str], int]:
    """(file, function) -> lines, for every function over MAX_LINES not in LONG_FUNCTIONS."""
    long = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                key = (str(path.relative_to(PACKAGE)) if path.is_relative_to(PACKAGE) else path.name, node.name)
                if lines > MAX_LINES and key not in LONG_FUNCTIONS:
                    long[key] = lines
    return long


def test_no_function_of_the_finetune_area_runs_over_sixty_lines():
    files = sorted((PACKAGE / "finetune").rglob("*.py")) + [PACKAGE / "cli" / "finetune.py"]
    assert long_functions(files) == {}, "split these, or say in LONG_FUNCTIONS why they must stay long"


def test_the_checks_see_a_wrong_import_and_a_long_function(tmp_path):
    """The two checks above can fail: an import from a module listed later is found, and so is a
    function of 61 lines (and not one of 60)."""
    upward = tmp_path / "matching.py"
    upward.write_text("def f():\n    from tabtwin.finetune.evaluate.run import evaluate\n")
    assert evaluate_imports(upward) == {"run"}
    assert listed_modules().index("run") > listed_modules().index("matching")
    for n, name in ((MAX_LINES - 1, "fits"), (MAX_LINES, "too_long")):
        (tmp_path / f"{name}.py").write_text(f"def {name}():\n" + "".join(f"    x = {i}\n" for i in range(n)))
    found = long_functions([tmp_path / "fits.py", tmp_path / "too_long.py"])
    assert found == {("too_long.py", "too_long"): MAX_LINES + 1}
