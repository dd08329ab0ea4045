"""Every page `python build.py` writes carries a strict Content-Security-Policy (#18): no inline or
eval'd script (only 'wasm-unsafe-eval', which the core needs to compile), everything else from the site
alone, no plugins, no <base> elsewhere, no form sent anywhere; and the page may contact exactly the site
and the hosts its remote models are served from (redirect targets included), nothing more."""

from __future__ import annotations

import html
import re

import pytest
from loopback import serving

from tabtwin.site.build import build

META_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
CDN = "https://cdn.example.org"


def policies(site) -> dict[str, dict[str, list[str]]]:
    """page -> directive -> sources, for every HTML page of the site."""
    pages = {}
    for page in sorted(site.rglob("*.html")):
        found = META_CSP.findall(page.read_text())
        assert len(found) == 1, f"{page}: {len(found)} CSP <meta> tags"
        directives = [d.split() for d in html.unescape(found[0]).split(";") if d.strip()]
        pages[str(page.relative_to(site))] = {d[0]: d[1:] for d in directives}
    return pages


@pytest.fixture(scope="module")
def site_with_a_remote_model(root, tiny_gguf, tmp_path_factory):
    """A site with a model of its own and one served from another host, which redirects to a CDN."""
    work = tmp_path_factory.mktemp("csp")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("TABTWIN_CACHE", str(work / "cache"))  # loopback URLs change every run
    with serving(tiny_gguf.parent) as host:
        (work / "models.toml").write_text(
            f'[[model]]\nid = "own"\nlabel = "Own"\npath = "{tiny_gguf}"\n\n'
            f'[[model]]\nid = "far"\nlabel = "Far"\nurl = "{host}/{tiny_gguf.name}"\nserve = "remote"\n'
            f'hosts = ["{CDN}"]\n'
        )
        build(root, work / "_site", work / "models.toml", log=lambda *_: None)
    monkeypatch.undo()
    return work / "_site", host


def test_every_page_allows_no_inline_or_evald_script_and_nothing_from_elsewhere(site_with_a_remote_model):
    site, _ = site_with_a_remote_model
    pages = policies(site)
    assert {"index.html", "chat/index.html", "404.html", "about/index.html"} <= set(pages)
    for page, csp in pages.items():
        assert csp["default-src"] in (["'self'"], ["'none'"]), page
        assert csp["script-src"] == ["'self'", "'wasm-unsafe-eval'"], (page, csp["script-src"])
        sources = [s for d in csp.values() for s in d]
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, page
        assert "*" not in sources and "data:" not in csp.get("script-src", []), page
        assert csp["object-src"] == ["'none'"], page
        assert csp["base-uri"] in (["'self'"], ["'none'"]), page
        assert csp["form-action"] in (["'self'"], ["'none'"]), page
        assert csp["style-src"] == ["'self'"], page
        assert csp["worker-src"] == ["'self'", "blob:"], page  # the worker starts from a blob (chat.js)


def test_connect_src_is_exactly_the_site_and_the_remote_models_hosts(site_with_a_remote_model):
    site, host = site_with_a_remote_model
    for page, csp in policies(site).items():
        assert sorted(csp["connect-src"]) == sorted(["'self'", host, CDN]), (page, csp["connect-src"])
