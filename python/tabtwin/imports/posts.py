"""A folder of posts (a blog, a newsletter export, a static site's sources): `.md`, `.markdown`,
`.html`, `.htm` and `.txt` files, in subfolders too; a single such file is a folder of one.

Each post is the author's writing: front matter (`---` YAML or `+++` TOML) is read for the title and
stripped, HTML becomes text (navigation, header, footer and quotations left out), Markdown is kept
as written but for its title heading and its `> ` quotations (someone else's words). The title is
the front matter's `title`, else the first `# heading` or `<h1>`/`<title>`, else the file name.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tabtwin.imports import record
from tabtwin.imports.author import Author
from tabtwin.imports.html_text import html_to_text
from tabtwin.imports.refusal import refuse
from tabtwin.imports.result import Imported
from tabtwin.inputs import read_text

SUFFIXES = {".md", ".markdown", ".html", ".htm", ".txt"}
FENCES = {"---": "---", "+++": "+++"}
TITLE = re.compile(r"""^title\s*[:=]\s*["']?(.*?)["']?\s*$""", re.I)
HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$")


def read(path: Path, me: Author) -> Imported:
    del me  # every post in the folder is the author's
    root = path if path.is_dir() else path.parent
    files = sorted(p for p in (path.rglob("*") if path.is_dir() else [path]) if p.suffix.lower() in SUFFIXES)
    if not files:
        raise refuse(path, None, f"no posts here: expected {', '.join(sorted(SUFFIXES))} files")
    source = record.source_name("posts", root.name if path.is_dir() else path.name)
    found, left_out = [], Counter()
    for file in files:
        title, text = read_post(file)
        if text:
            key = file.relative_to(root).as_posix()
            found.append(record.writing("posts", key, source, title, text))
        else:
            left_out["empty posts"] += 1
    return Imported(source, found, set(), left_out, len(found))


def read_post(file: Path) -> tuple[str, str]:
    """(title, text) of one post file."""
    lines = read_text(file, "a post").splitlines()
    title, lines = _front_matter(file, lines)
    if file.suffix.lower() in (".html", ".htm"):
        text, html_title = html_to_text("\n".join(lines))
        title = title or html_title or file.stem
        head, _, rest = text.partition("\n\n")
        return title, rest if head.strip() == title else text  # the <h1> repeats the title
    body = [line for line in lines if not line.startswith(">")]
    first = next((i for i, line in enumerate(body) if line.strip()), None)
    heading = HEADING.match(body[first]) if first is not None else None
    if heading and (not title or heading[1] == title):
        title, body = heading[1], body[first + 1 :]
    return title or file.stem, re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip()


def _front_matter(file: Path, lines: list[str]) -> tuple[str, list[str]]:
    """(its title or "", the lines after it); a front matter never closed is refused."""
    fence = lines[0].strip() if lines else ""
    if fence not in FENCES:
        return "", lines
    for number, line in enumerate(lines[1:], 2):
        if line.strip() == FENCES[fence]:
            titles = [TITLE.match(line) for line in lines[1 : number - 1]]
            return next((m[1] for m in titles if m), ""), lines[number:]
    raise refuse(file, 1, f"front matter opened with {fence} is never closed")
