"""docs/cli.md: the reference of every `tabtwin` verb, generated from the parser's own --help text
(as simonw/llm does), so the docs cannot drift from the CLI. `--check` fails when they differ."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
DOC = ROOT / "docs" / "cli.md"


def sections(parser: argparse.ArgumentParser, words: list[str]):
    yield words, parser.format_help()
    for action in parser._actions:  # argparse keeps its subcommands here; there is no public accessor
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from sections(sub, [*words, name])


def render() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal: fix the width so the file is stable
    from tabtwin.cli import build_parser

    parser = build_parser(root=Path("."))
    out = [
        "# The `tabtwin` command",
        "",
        "Generated from `--help` by `python scripts/cli_docs.py`; CI checks it is current. "
        "`python build.py [build|serve|publish]` is the same as `tabtwin build|serve|publish`.",
        "",
    ]
    for words, text in sections(parser, ["tabtwin"]):
        out += [f"## {' '.join(words)}", "", "```text", text.rstrip().replace(str(ROOT), "."), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        if not DOC.is_file() or DOC.read_text() != text:
            sys.exit(f"{DOC.relative_to(ROOT)} is out of date: run `python scripts/cli_docs.py` and commit it")
        print(f"{DOC.relative_to(ROOT)}: current")
    else:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text)
        print(f"wrote {DOC.relative_to(ROOT)}")
