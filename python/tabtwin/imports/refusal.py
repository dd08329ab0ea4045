"""The one error of `tabtwin import`: an export that is not what it claims, named by file and line."""

from __future__ import annotations

from pathlib import Path

from tabtwin.inputs import InputError


class ExportError(InputError):
    """`file:line: what is wrong`, one line; the import writes nothing when it is raised."""


def refuse(path: Path | str, line: int | None, what: str) -> ExportError:
    where = f"{path}:{line}" if line is not None else f"{path}"
    return ExportError(f"{where}: {what}")


def line_of(text: str, offset: int) -> int:
    """The 1-based line of a character offset."""
    return text.count("\n", 0, max(0, offset)) + 1
