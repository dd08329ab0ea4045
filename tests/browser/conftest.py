"""A built site served on loopback and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_FLAGS


def write_registry(path: Path, ids: list[str]) -> Path:
    body = "\n".join(f'[[model]]\nid = "{i}"\nlabel = "{i}"\npypi = "{i}"\n' for i in ids)
    path.write_text(body)
    return path


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, root, smollm_path):
    from tabtwin.site.build import build

    work = tmp_path_factory.mktemp("site")
    registry = write_registry(work / "models.toml", ["smollm2-135m-instruct"])
    registry.write_text(registry.read_text() + '\n[voice]\nmodel = "default"\n')
    build(root, work / "_site", registry, log=lambda *_: None)
    return work / "_site"


@pytest.fixture(scope="session")
def site_url(built_site):
    from tabtwin.site.serve import make_server

    server = make_server(built_site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield instance
    instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.console_lines = []
    page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.console_lines.append(f"pageerror: {e}"))
    yield page
    context.close()
