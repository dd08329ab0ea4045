"""The persona's site content (site/content/) -> validated data for pages and inline apps.

  site.toml       title, tagline, persona, short_bio, email, links, demo
  about.md        the about page (Markdown)
  projects.toml   [[project]] id, name, year, description, languages, tags, url, status
  books.toml      [[book]] title, author, year_read, tags, line
  talks.toml      [[talk]] title, event, date, city, summary, url, tags
  musings/*.md    +++ TOML front matter (title, date, tags, summary) +++ then Markdown

Every problem is reported with the file, the line and the key, and what is expected; a key the
file does not know is refused (a typo must not silently drop a field).
"""

from __future__ import annotations

import copy
import datetime
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tabtwin import keys
from tabtwin.errors import TabtwinError
from tabtwin.inputs import InputError, key_lines, line_of, read_text, read_toml, toml_error_line, unknown_key
from tabtwin.site import safe_markdown


class ContentError(TabtwinError):
    pass


# What each file may hold: key -> kind (text, integer, flag, strings: a list of strings, date: a
# string or a TOML date, links: [[links]] tables of label and url). A key not listed is a typo.
SITE_KEYS = {
    "title": "text",
    "tagline": "text",
    "persona": "text",
    "short_bio": "text",
    "email": "text",
    "demo": "flag",
    "links": "tables",  # [[links]] label, url
}
LINK_KEYS = {"label": "text", "url": "text"}
ITEM_KEYS = {
    "project": {
        "id": "text",
        "name": "text",
        "description": "text",
        "year": "integer",
        "languages": "strings",
        "tags": "strings",
        "url": "text",
        "status": "text",
    },
    "book": {"title": "text", "author": "text", "year_read": "integer", "tags": "strings", "line": "text"},
    "talk": {
        "title": "text",
        "event": "text",
        "date": "date",
        "city": "text",
        "summary": "text",
        "url": "text",
        "tags": "strings",
    },
}
MUSING_KEYS = {"title": "text", "date": "date", "tags": "strings", "summary": "text"}
REQUIRED = {
    "project": ("id", "name", "description"),
    "book": ("title", "author"),
    "talk": ("title", "event", "date"),
    "musing": ("title",),
}
KINDS = {
    "text": ("a string", lambda v: isinstance(v, str)),
    "integer": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "flag": ("true or false", lambda v: isinstance(v, bool)),
    "strings": ("a list of strings", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
    "date": ('a date ("2024-05-01")', lambda v: isinstance(v, (str, datetime.date))),
    "tables": ("[[...]] tables", lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v)),
}
# What an optional key reads as when a file leaves it out: the templates are strict (a key they
# name must exist), so every key of a schema is there, empty when the author did not write it.
EMPTY = {"text": "", "integer": None, "flag": False, "strings": [], "date": "", "tables": []}
FRONT_MATTER = re.compile(r"\A\+\+\+\s*\n(.*?)\n\+\+\+\s*\n(.*)\Z", re.S)


@dataclass
class SiteContent:
    site: dict
    about_html: str = ""
    projects: list[dict] = field(default_factory=list)
    books: list[dict] = field(default_factory=list)
    talks: list[dict] = field(default_factory=list)
    musings: list[dict] = field(default_factory=list)


def _read(path: Path, what: str) -> str:
    try:
        return read_text(path, what)
    except InputError as exc:
        raise ContentError(str(exc)) from None


def _toml(path: Path) -> tuple[dict, dict[tuple, int]]:
    try:
        data, text = read_toml(path, "site content")
    except InputError as exc:
        raise ContentError(str(exc)) from None
    return data, key_lines(text)


def check_table(table: dict, schema: dict[str, str], required: tuple[str, ...], at: tuple, name: str) -> None:
    """Refuse an unknown key (naming the nearest known one), a value of the wrong kind or a missing
    required key, at the line that writes it: `at` is (file, its key lines, the table's key path)."""
    path, lines, prefix = at

    def where(*key: str) -> str:
        return f"{path}:{line_of(lines, *prefix, *key)}"

    for key, value in table.items():
        if key not in schema:
            raise ContentError(f"{where(key)}: {name} {unknown_key(key, schema)}")
        what, fits = KINDS[schema[key]]
        if not fits(value):
            raise ContentError(f"{where(key)}: {name} key '{key}' must be {what} (got {value!r:.60})")
    missing = [k for k in required if not table.get(k)]
    if missing:
        raise ContentError(
            f"{where()}: {name} lacks {', '.join(repr(k) for k in missing)} (required: {', '.join(required)})"
        )


def with_defaults(table: dict, schema: dict[str, str]) -> dict:
    """`table` with every key of `schema` it leaves out set to its kind's empty value."""
    return {**{key: copy.copy(EMPTY[kind]) for key, kind in schema.items()}, **table}


def _site(path: Path) -> dict:
    if not path.exists():
        return {}
    site, lines = _toml(path)
    check_table(site, SITE_KEYS, (), (path, lines, ()), "site.toml")
    for i, link in enumerate(site.get("links", [])):
        check_table(link, LINK_KEYS, tuple(LINK_KEYS), (path, lines, ("links", i)), f"[[links]] #{i + 1}")
    return site


def _items(path: Path, kind: str) -> list[dict]:
    if not path.exists():
        return []
    data, lines = _toml(path)
    for key in data:
        if key != kind:
            raise ContentError(
                f"{path}:{line_of(lines, key)}: {unknown_key(key, [kind])}: the file holds [[{kind}]] tables"
            )
    items = data.get(kind, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ContentError(f"{path}:{line_of(lines, kind)}: '{kind}' must be [[{kind}]] tables")
    for i, item in enumerate(items):
        check_table(item, ITEM_KEYS[kind], REQUIRED[kind], (path, lines, (kind, i)), f"[[{kind}]] #{i + 1}")
    return [with_defaults(item, ITEM_KEYS[kind]) for item in items]


def render_markdown(text: str) -> str:
    return safe_markdown.render(text)  # raw HTML shown as text, links only to http(s), mailto, the site


def paragraphs(text: str) -> list[str]:
    """Plain-text paragraphs of a Markdown body, for the inline musings app (shown as text)."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        block = re.sub(r"^#+\s*", "", block.strip())
        block = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", block)
        block = re.sub(r"[*_`]", "", block)
        if block:
            out.append(" ".join(block.split()))
    return out


def _musing(path: Path) -> dict:
    text = _read(path, "a musing: TOML front matter between '+++' lines, then Markdown")
    match = FRONT_MATTER.match(text)
    if not match:
        raise ContentError(f"{path}:1: a musing starts with TOML front matter between '+++' lines")
    try:
        meta = tomllib.loads(match.group(1))
    except tomllib.TOMLDecodeError as exc:
        line = toml_error_line(exc, match.group(1))
        line = int(line) + 1 if str(line).isdigit() else "?"  # +1: the front matter starts after its fence
        raise ContentError(f"{path}:{line}: front matter: {exc}") from exc
    lines = {key: line + 1 for key, line in key_lines(match.group(1)).items()}  # +1: after the fence
    check_table(meta, MUSING_KEYS, REQUIRED["musing"], (path, lines, ()), "front matter")
    slug = re.sub(r"^\d{4}-\d{2}-\d{2}-", "", path.stem)
    body = match.group(2)
    return {
        "slug": slug,
        "title": meta["title"],
        "date": str(meta.get("date", "")),
        "tags": meta.get("tags", []),
        "summary": meta.get("summary", ""),
        "html": render_markdown(body),
        "paragraphs": paragraphs(body),
    }


def load(content_dir: Path) -> SiteContent:
    site = _site(content_dir / "site.toml")
    site.setdefault("title", "tabtwin")
    site.setdefault("tagline", "A twin that runs in your browser tab.")
    site.setdefault("persona", site["title"])
    site = with_defaults(site, SITE_KEYS)
    about = content_dir / "about.md"
    musings = (
        sorted((_musing(p) for p in (content_dir / "musings").glob("*.md")), key=lambda m: m["date"], reverse=True)
        if (content_dir / "musings").exists()
        else []
    )
    return SiteContent(
        site=site,
        about_html=render_markdown(_read(about, "the about page (Markdown)")) if about.exists() else "",
        projects=_items(content_dir / "projects.toml", "project"),
        books=_items(content_dir / "books.toml", "book"),
        talks=sorted(_items(content_dir / "talks.toml", "talk"), key=lambda t: str(t["date"]), reverse=True),
        musings=musings,
    )


def app_data(content: SiteContent) -> dict[str, list[dict]]:
    """What the inline apps read (one JSON file per app in keys.APPS): plain data, no HTML (the page
    renders text nodes)."""
    data = {
        "projects": content.projects,
        "books": content.books,
        "talks": [{**t, "date": str(t["date"])} for t in content.talks],
        "musings": [
            {k: m[k] for k in ("slug", "title", "date", "tags", "summary", "paragraphs")} for m in content.musings
        ],
    }
    assert set(data) == set(keys.APPS), "every app in the constants table has its data, and only those"
    return data
