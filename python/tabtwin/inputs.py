"""The files an author feeds in (models.toml, site content, run configs, persona JSONL, chat
histories), read so that every problem is one sentence naming the file, the line and the key.

tomllib gives values without positions, so `key_lines` recovers from the raw text where each key
was written; the readers then report `file:line: ... key 'x' ...` for a value that parsed but is
wrong, as they do for a syntax error.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from pathlib import Path

from tabtwin.errors import TabtwinError


class InputError(TabtwinError):
    """A file that cannot be read as the text it should be: missing, a folder, not UTF-8, bad syntax."""


def read_text(path: Path | str, what: str) -> str:
    """The file as text; `what` says what it should be ("the model registry", ...) in the message.
    A byte-order mark is dropped (some editors write one); any other non-UTF-8 byte is an error
    with its line."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a file ({what})")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file ({what})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8 ({what})"
        ) from None


def toml_error_line(exc: tomllib.TOMLDecodeError, text: str | None = None) -> int | str:
    """The line of a TOML syntax error (Python < 3.14 only puts it in the message; an error "at end
    of document" is on the last line of `text`)."""
    line = getattr(exc, "lineno", None)
    if line is None:
        match = re.search(r"at line (\d+)", str(exc))
        if match:
            line = int(match.group(1))
        elif text is not None and "end of document" in str(exc):
            line = max(1, len(text.splitlines()))
        else:
            line = "?"
    return line


def read_toml(path: Path | str, what: str) -> tuple[dict, str]:
    """(the parsed TOML, its text): a syntax error names the file and the line."""
    text = read_text(path, what)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}:{toml_error_line(exc, text)}: not valid TOML: {exc}") from None


def _bare(part: str) -> str:
    return part.strip().strip('"').strip("'")


def key_lines(text: str) -> dict[tuple, int]:
    """Map a key's path to the 1-based line that writes it: ("train", "epochs"), ("model", 0, "id")
    for the first `[[model]]`, ("model", 0, "sampling", "top_p") under `[model.sampling]`; a table's
    own path maps to its header line. Enough TOML for hand-written files: headers, `key = value` and
    dotted keys; lines inside multi-line strings are skipped; an inline table maps to its line."""
    lines: dict[tuple, int] = {}
    arrays: dict[tuple, int] = {}  # [[name]] -> how many seen
    prefix: tuple = ()
    in_string = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if in_string:
            if raw.count(in_string) % 2:
                in_string = None
            continue
        if line.startswith("[["):
            names = tuple(_bare(p) for p in line[2 : line.find("]]")].split("."))
            arrays[names] = arrays.get(names, -1) + 1
            prefix = _indexed(names[:-1], arrays) + (names[-1], arrays[names])
            lines.setdefault(prefix, number)
        elif line.startswith("["):
            names = tuple(_bare(p) for p in line[1 : line.find("]")].split("."))
            prefix = _indexed(names, arrays)
            lines.setdefault(prefix, number)
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            lines.setdefault(prefix + tuple(_bare(p) for p in key.split(".")), number)
            for quote in ('"""', "'''"):
                if value.count(quote) % 2:
                    in_string = quote
    return lines


def _indexed(names: tuple, arrays: dict[tuple, int]) -> tuple:
    """A header path with the index of each array of tables it lies in: [model.sampling] after the
    second [[model]] is ("model", 1, "sampling")."""
    out: tuple = ()
    for i, name in enumerate(names):
        out += (name,)
        if names[: i + 1] in arrays:
            out += (arrays[names[: i + 1]],)
    return out


def line_of(lines: dict[tuple, int], *path) -> int:
    """The line of `path`, else of the nearest table above it that was written, else 1."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def did_you_mean(key: str, valid) -> str:
    """' (did you mean 'epochs'?)' for a near miss among `valid`, else ''."""
    close = difflib.get_close_matches(key, [str(v) for v in valid], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_key(key: str, valid) -> str:
    """The sentence for a key that is not one of `valid` (listed in their order; a set sorted): named,
    with the nearest valid key."""
    names = sorted(valid) if isinstance(valid, (set, frozenset)) else list(valid)
    return f"unknown key '{key}'{did_you_mean(key, names)}; valid keys: {', '.join(names)}"


def jsonl_objects(path: Path | str, text: str, problems: list[str], name: str | None = None, empty_ok=False):
    """Yield (line number, object) for each JSON object line of `text`; a line that is not JSON, or
    JSON that is not an object, becomes a `name:line: ...` problem. Blank lines are allowed; a file
    with no lines at all is a problem (an empty export, a wrong file) unless `empty_ok`."""
    name = name or str(path)
    seen = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        seen = True
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{name}:{number}: malformed JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{name}:{number}: expected a JSON object, got {type(obj).__name__}")
            continue
        yield number, obj
    if not seen and not empty_ok:
        problems.append(f"{name}: the file is empty; it holds one JSON object a line")
