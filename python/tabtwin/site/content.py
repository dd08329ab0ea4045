"""The persona's site content (site/content/) -> validated data for pages and inline apps.

  site.toml       title, tagline, persona, short_bio, email, links, demo
  about.md        the about page (Markdown)
  projects.toml   [[project]] id, name, year, description, languages, tags, url, status
  books.toml      [[book]] title, author, year_read, tags, line
  talks.toml      [[talk]] title, event, date, city, summary, url, tags
  musings/*.md    +++ TOML front matter (title, date, tags, summary) +++ then Markdown

Problems are reported with the file (and line for TOML syntax) and what is expected.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import markdown as md

from tabtwin import keys
from tabtwin.errors import TabtwinError
from tabtwin.site.registry import toml_error_line


class ContentError(TabtwinError):
    pass


REQUIRED = {
    "project": ("id", "name", "description"),
    "book": ("title", "author"),
    "talk": ("title", "event", "date"),
}
FRONT_MATTER = re.compile(r"\A\+\+\+\s*\n(.*?)\n\+\+\+\s*\n(.*)\Z", re.S)


@dataclass
class SiteContent:
    site: dict
    about_html: str = ""
    projects: list[dict] = field(default_factory=list)
    books: list[dict] = field(default_factory=list)
    talks: list[dict] = field(default_factory=list)
    musings: list[dict] = field(default_factory=list)


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{path}:{toml_error_line(exc)}: not valid TOML: {exc}") from exc


def _items(path: Path, kind: str) -> list[dict]:
    if not path.exists():
        return []
    items = _toml(path).get(kind, [])
    for i, item in enumerate(items, 1):
        missing = [k for k in REQUIRED[kind] if not item.get(k)]
        if missing:
            raise ContentError(f"{path}: [[{kind}]] #{i} lacks {', '.join(missing)}")
        for key in ("languages", "tags"):
            if key in item and not isinstance(item[key], list):
                raise ContentError(f"{path}: [[{kind}]] #{i} '{key}' must be an array of strings")
    return items


def render_markdown(text: str) -> str:
    return md.markdown(text, extensions=["extra", "sane_lists"], output_format="html")


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
    text = path.read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    if not match:
        raise ContentError(f"{path}:1: a musing starts with TOML front matter between '+++' lines")
    try:
        meta = tomllib.loads(match.group(1))
    except tomllib.TOMLDecodeError as exc:
        line = toml_error_line(exc)
        line = int(line) + 1 if str(line).isdigit() else "?"  # +1: the front matter starts after its fence
        raise ContentError(f"{path}:{line}: front matter: {exc}") from exc
    if not meta.get("title"):
        raise ContentError(f"{path}:1: front matter needs a title")
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
    site_path = content_dir / "site.toml"
    site = _toml(site_path) if site_path.exists() else {}
    site.setdefault("title", "tabtwin")
    site.setdefault("tagline", "A twin that runs in your browser tab.")
    site.setdefault("persona", site["title"])
    about = content_dir / "about.md"
    musings = (
        sorted((_musing(p) for p in (content_dir / "musings").glob("*.md")), key=lambda m: m["date"], reverse=True)
        if (content_dir / "musings").exists()
        else []
    )
    return SiteContent(
        site=site,
        about_html=render_markdown(about.read_text(encoding="utf-8")) if about.exists() else "",
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
