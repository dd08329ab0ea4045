"""Content that writes only the required keys renders every page: the templates are strict (a key
they name must exist), so the loader gives each optional key its empty value (site.content.EMPTY)."""

import types

from tabtwin.site import content as site_content
from tabtwin.site.render import render_pages

MINIMAL = {
    "site.toml": 'title = "Sam"\n',
    "projects.toml": '[[project]]\nid = "p"\nname = "Pelican"\ndescription = "A bird."\n',
    "books.toml": '[[book]]\ntitle = "Walden"\nauthor = "Thoreau"\n',
    "talks.toml": '[[talk]]\ntitle = "On birds"\nevent = "BirdConf"\ndate = "2024-05-01"\n',
    "musings/2024-01-01-first.md": '+++\ntitle = "First"\n+++\nHello.\n',
    "about.md": "# About\n\nHi.\n",
}


def test_content_with_only_required_keys_renders_every_page(root, tmp_path):
    folder = tmp_path / "content"
    for name, text in MINIMAL.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    loaded = site_content.load(folder)
    assert loaded.books[0]["year_read"] is None and loaded.talks[0]["city"] == "" and loaded.site["demo"] is False
    summary = types.SimpleNamespace(pages=[])
    wasm = {"js": "wasm/tabtwin_web.js", "wasm": "wasm/tabtwin_web_bg.wasm"}
    render_pages(root / "site", tmp_path / "out", loaded, wasm, "default-src 'self'", summary, [])
    pages = ("index.html", "projects/index.html", "books/index.html", "talks/index.html", "musings/first/index.html")
    assert set(pages) <= set(summary.pages), summary.pages
    html = (tmp_path / "out" / "books/index.html").read_text()
    assert "Walden" in html and "None" not in html
    assert "On birds" in (tmp_path / "out" / "talks/index.html").read_text()
